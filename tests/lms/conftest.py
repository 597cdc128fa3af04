"""Reports to export: a few submissions graded once (public and hidden tests) with the session's pool."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from grader.grading import grade_source
from grader.report.model import Report
from grader.source import read_submission
from tests.conftest import FIXTURES, ROOT

SCHEMAS = Path(__file__).parent / "schemas"
RIGHT = (FIXTURES / "softmax_gradients" / "right" / "vectorised.py").read_text()
DIAGONAL = (FIXTURES / "softmax_gradients" / "mistakes" / "jacobian.diagonal_only.py").read_text()
# Wrong in every way a message could give hidden numbers away: exceptions that print the inputs,
# an exception class named after an input, zeros (the error is then the expected value), a wrong shape.
LEAKY = RIGHT + '''

def softmax_backward(y, dL_dy):
    raise ValueError(f"cannot do {y!r} with {dL_dy!r}")


def cross_entropy_grad(z, label):
    raise KeyError(f"label {label} of {z.tolist()}")


def cross_entropy_grad_batch(Z, labels):
    raise type("Leak" + str(abs(int(Z[0, 0] * 1e6))), (Exception,), {})("boom")


def softmax_jacobian(z):
    return np.zeros((len(z), len(z)))


def squared_loss_grad(z, y):
    return np.asarray(z)[:-1] * 2.0
'''
BROKEN = "def softmax(z)\n    return z\n"
SUBMISSIONS = {"ada": RIGHT, "chloe": RIGHT + DIAGONAL, "lou": LEAKY, "gus": BROKEN}


@pytest.fixture(scope="session")
def lms_reports(tmp_path_factory, pool, softmax_grading) -> dict[str, Report]:
    """ada (all right), chloe (a diagonal-only Jacobian), lou (leaky mistakes), gus (a syntax error)."""
    folder = tmp_path_factory.mktemp("lms-submissions")
    reports = {}
    for student, text in SUBMISSIONS.items():
        path = folder / f"{student}.py"
        path.write_text(text, encoding="utf-8")
        reports[student] = grade_source(read_submission(path), student, softmax_grading, pool)
    reports["ada"].submission.lms_id = "1001"  # as grader grade sets it from a Canvas zip
    reports["chloe"].submission.lms_id = "1002"
    return reports


@pytest.fixture
def report_dir(tmp_path, lms_reports) -> Path:
    """An OUTDIR as grader grade leaves it: a report per student, and summary.json / summary.csv beside them."""
    folder = tmp_path / "reports"
    folder.mkdir()
    for student, report in lms_reports.items():
        (folder / f"{student}.json").write_text(report.model_dump_json(indent=2), encoding="utf-8")
    (folder / "summary.json").write_text(json.dumps({"assignment": "softmax_gradients", "students": 4}))
    (folder / "summary.csv").write_text("student,score\n")
    return folder


def schema(name: str) -> dict:
    """A JSON Schema of tests/lms/schemas, checked as a schema first."""
    loaded = json.loads((SCHEMAS / name).read_text())
    jsonschema.Draft202012Validator.check_schema(loaded)
    return loaded


def validate(instance: dict, name: str) -> None:
    jsonschema.Draft202012Validator(schema(name)).validate(instance)


def cli_run(*args: str):
    """``grader ARGS`` run in this process (fast): the result has ``exit_code``, ``stdout`` and ``stderr``."""
    from click.testing import CliRunner

    from grader.cli import cli

    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def grader(*args: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    """``python -m grader ARGS`` as a user runs it, in a process of its own."""
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300, env=env)
