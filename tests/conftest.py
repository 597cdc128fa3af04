"""Shared fixtures: a worker pool and prepared gradings for the whole session, and submission writers."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader import api, exercises
from grader.evaluation.answers import load_public_answers
from grader.grading import Grading, Plan, grade_source
from grader.report.model import Report
from grader.sandbox.limits import Limits
from grader.sandbox.pool import WorkerPool
from grader.source import read_submission

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
SOLUTIONS = ROOT / "solutions"
TEST_LIMITS = Limits(call_s=2.0, load_s=5.0, submission_s=60.0)

# A submission that says "done" on its results channel before any call is made, then keeps its worker busy.
SAYS_DONE_THEN_LINGERS = '''
import os, sys, time
protocol = sys.modules["protocol"]
fd = next(n for n in range(3, 64) if os.path.exists(f"/proc/self/fd/{n}"))
os.write(fd, protocol.pack_frame({"t": "done"}))
time.sleep(30)
'''


def alive(pid: int) -> bool:
    """True when ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture(scope="session")
def pool():
    with WorkerPool(2, api.default_launcher(TEST_LIMITS), TEST_LIMITS) as p:
        yield p


@pytest.fixture(scope="session")
def softmax_grading() -> Grading:
    """Public and hidden checks of softmax_gradients, answers from the reference."""
    return api.prepare(exercises.get("softmax_gradients"), SOLUTIONS, TEST_LIMITS, api.default_launcher())


@pytest.fixture(scope="session")
def softmax_public_grading() -> Grading:
    """What `grader check` uses: public checks, answers from the shipped data."""
    exercise = exercises.get("softmax_gradients")
    launcher = api.default_launcher()
    return Grading(Plan.build(exercise, exercise.checks_for({"public"})), load_public_answers(exercise), TEST_LIMITS, launcher)


@pytest.fixture
def grade_text(tmp_path, pool, softmax_grading):
    """Write a submission and grade it (public and hidden tests) with the session's pool."""

    def grade(text: str, name: str = "student.py", grading: Grading | None = None) -> Report:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return grade_source(read_submission(path), path.stem, grading or softmax_grading, pool)

    return grade


def by_function(report: Report) -> dict[str, list]:
    """The report's tests grouped by function."""
    out: dict[str, list] = {}
    for test in report.tests:
        out.setdefault(test.function, []).append(test)
    return out


def points(report: Report) -> dict[str, float]:
    """Points earned per function."""
    return {f: sum(t.score for t in ts) for f, ts in by_function(report).items()}


def max_points(report: Report) -> dict[str, float]:
    """Points available per function."""
    return {f: sum(t.max_score for t in ts) for f, ts in by_function(report).items()}


def sandbox_modules():
    """The sandbox's own ``submission`` and ``worker`` modules, imported as the worker imports them (by file name)."""
    import sys

    sandbox = str(ROOT / "grader" / "sandbox")
    sys.path.insert(0, sandbox)
    try:
        import submission
        import worker
    finally:
        sys.path.remove(sandbox)
    return submission, worker


def mistakes_of(assignment: str) -> list[Path]:
    """The mistake fixtures of an assignment (one wrong function each)."""
    return sorted((FIXTURES / assignment / "mistakes").glob("*.py"))


def fixture_function(path: Path) -> str:
    """The function a mistake fixture affects (its '# FUNCTION:' line)."""
    line = next(ln for ln in path.read_text().splitlines()[:3] if ln.startswith("# FUNCTION:"))
    return line.split(":", 1)[1].strip()


def remove_function(source: str, name: str) -> str:
    """The source without the top-level def of ``name`` (a student who never wrote it)."""
    import ast

    tree = ast.parse(source)
    lines = source.splitlines()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            start = node.lineno - 1 - len(node.decorator_list)
            del lines[start : node.end_lineno]
            break
    return "\n".join(lines) + "\n"
