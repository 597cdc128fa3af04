"""Gradescope: results.json against its documented shape, the autograder zip, and a run in an /autograder layout."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader.lms.gradescope import gradescope_results
from grader.lms.gradescope_bundle import build_bundle
from tests.conftest import ROOT
from tests.lms.conftest import BROKEN, DIAGONAL, RIGHT, cli_run, validate

GRADER_BIN = str(Path(sys.executable).parent / "grader")


def test_one_gradescope_test_per_graded_test_and_our_total(lms_reports):
    report = lms_reports["chloe"]
    results = gradescope_results(report)
    validate(results, "gradescope_results.schema.json")
    assert results["score"] == report.score == 80
    assert [t["name"] for t in results["tests"]] == [t.id for t in report.tests]
    for ours, theirs in zip(report.tests, results["tests"]):
        assert (theirs["score"], theirs["max_score"]) == (ours.score, ours.max_score)
        assert theirs["status"] == ("passed" if ours.status == "passed" else "failed")
        assert theirs["visibility"] == ("after_published" if ours.visibility == "hidden" else "visible")
    jacobian = next(t for t in results["tests"] if t["name"] == "softmax_jacobian/public")
    assert "max abs error" in jacobian["output"] and "hint jacobian.diagonal_only" in jacobian["output"]
    # while hidden tests are hidden, the visible output tells the public part only (Gradescope hides the total)
    assert results["output"].startswith("score 27 / 33: 7 of 8 public tests pass")
    assert results["stdout_visibility"] == "hidden"


def test_the_visibility_of_hidden_tests_is_configurable(lms_reports):
    results = gradescope_results(lms_reports["chloe"], hidden_visibility="visible")
    assert {t["visibility"] for t in results["tests"]} == {"visible"}
    assert results["output"].startswith("score 80 / 100")
    hidden = gradescope_results(lms_reports["chloe"], hidden_visibility="hidden")
    assert {t["visibility"] for t in hidden["tests"] if "/hidden" in t["name"]} == {"hidden"}
    with pytest.raises(ValueError):
        gradescope_results(lms_reports["chloe"], hidden_visibility="later")


def test_a_submission_that_cannot_run_scores_0_and_says_why(lms_reports):
    results = gradescope_results(lms_reports["gus"])
    validate(results, "gradescope_results.schema.json")
    assert results["score"] == 0 and "syntax error" in results["output"]
    (test,) = results["tests"]
    assert test["status"] == "failed" and "syntax error" in test["output"] and test["visibility"] == "visible"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bundle") / "autograder.zip"
    build_bundle(path, assignment="softmax_gradients", solutions=ROOT / "solutions")
    return path


def test_the_zip_holds_the_two_scripts_the_grader_and_the_references(bundle):
    with zipfile.ZipFile(bundle) as zf:
        infos = {i.filename: i for i in zf.infolist()}
        assert sorted(infos) == ["grader-0.1.0-py3-none-any.whl", "run_autograder", "setup.sh",
                                 "solutions/softmax_gradients.py"]
        for script in ("setup.sh", "run_autograder"):
            mode = infos[script].external_attr >> 16
            assert stat.S_ISREG(mode) and mode & 0o111 == 0o111, f"{script} is not executable"
            assert zf.read(script).startswith(b"#!/usr/bin/env bash\n")
        setup, run = zf.read("setup.sh").decode(), zf.read("run_autograder").decode()
        assert zf.read("solutions/softmax_gradients.py") == (ROOT / "solutions" / "softmax_gradients.py").read_bytes()
    assert "apt-get install" in setup and "bubblewrap" in setup and "python3-venv" in setup
    assert "pip install --quiet ./grader-0.1.0-py3-none-any.whl" in setup
    assert "gradescope run -a softmax_gradients" in run and "--visibility-hidden after_published" in run
    assert "--unsafe-no-sandbox" not in run


def test_the_wheel_is_the_package_and_its_metadata_and_nothing_else(bundle, tmp_path):
    with zipfile.ZipFile(bundle) as zf:
        wheel = tmp_path / "grader-0.1.0-py3-none-any.whl"
        wheel.write_bytes(zf.read(wheel.name))
    with zipfile.ZipFile(wheel) as zw:
        names = zw.namelist()
        assert "grader/cli_lms.py" in names and "grader/exercises/data/softmax_gradients.json" in names
        assert "grader/report/html/templates/class.html" in names  # the pages' templates travel too
        assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or ".venv" in n or "solutions" in n]
        assert not [n for n in names if not (n.startswith("grader/") or n.startswith("grader-0.1.0.dist-info/"))]
        record = zw.read("grader-0.1.0.dist-info/RECORD").decode().splitlines()
        for line in record:
            name, digest, size = line.rsplit(",", 2)
            if digest:
                data = zw.read(name)
                expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
                assert digest == f"sha256={expected}" and int(size) == len(data), name
        assert "grader = grader.__main__:main" in zw.read("grader-0.1.0.dist-info/entry_points.txt").decode()
        assert "Requires-Dist: numpy" in zw.read("grader-0.1.0.dist-info/METADATA").decode()
    target = tmp_path / "installed"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                          "--target", str(target), str(wheel)], capture_output=True, text=True, timeout=120)
    assert pip.returncode == 0, pip.stderr
    assert (target / "bin" / "grader").is_file() and (target / "grader" / "lms" / "gradescope.py").is_file()


def test_an_rnn_bundle_carries_the_support_module_and_its_options(tmp_path):
    names = build_bundle(tmp_path / "rnn.zip", assignment="rnn_bptt", solutions=ROOT / "solutions",
                         hidden_visibility="after_due_date", unsafe_no_sandbox=True)
    assert "solutions/rnn_bptt_support.py" in names
    with zipfile.ZipFile(tmp_path / "rnn.zip") as zf:
        run = zf.read("run_autograder").decode()
    assert "-a rnn_bptt" in run and "after_due_date" in run and "--unsafe-no-sandbox" in run
    assert cli_run("gradescope", "bundle", "-a", "nope", "-o", str(tmp_path / "x.zip")).exit_code == 2
    assert not (tmp_path / "x.zip").exists()


@pytest.fixture
def autograder(tmp_path, bundle) -> Path:
    """A folder laid out as Gradescope's /autograder: the bundle unpacked in source/, an empty submission/."""
    root = tmp_path / "autograder"
    (root / "source").mkdir(parents=True)
    (root / "submission").mkdir()
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(root / "source")
    for script in ("setup.sh", "run_autograder"):  # extractall drops the modes; Gradescope's unzip keeps them
        (root / "source" / script).chmod(0o755)
    return root


def _run_autograder(root: Path, grader_bin: str = GRADER_BIN) -> dict:
    env = {**os.environ, "GRADER_GRADESCOPE_ROOT": str(root), "GRADER_BIN": grader_bin}
    run = subprocess.run([str(root / "source" / "run_autograder")], capture_output=True, text=True, cwd=root,
                         env=env, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads((root / "results" / "results.json").read_text())


def test_run_autograder_grades_the_submission_end_to_end(autograder):
    (autograder / "submission" / "softmax_gradients.ipynb.bak").write_text("not a submission")
    (autograder / "submission" / "softmax_gradients.py").write_text(RIGHT + DIAGONAL)
    results = _run_autograder(autograder)
    validate(results, "gradescope_results.schema.json")
    assert results["score"] == 80 and len(results["tests"]) == 18
    assert {t["visibility"] for t in results["tests"] if "/hidden" in t["name"]} == {"after_published"}
    assert "submission file: softmax_gradients.py" in results["output"]


def test_a_broken_submission_gets_a_results_file_that_says_why(autograder):
    (autograder / "submission" / "hw.py").write_text(BROKEN)
    run = cli_run("gradescope", "run", "-a", "softmax_gradients", "--root", str(autograder))
    assert run.exit_code == 0, run.stdout
    results = json.loads((autograder / "results" / "results.json").read_text())
    validate(results, "gradescope_results.schema.json")
    assert results["score"] == 0 and "syntax error" in results["output"] and "hw.py" in results["output"]


def test_of_several_files_the_one_named_after_the_assignment_is_graded_and_named(autograder):
    (autograder / "submission" / "notes").mkdir()
    (autograder / "submission" / "notes" / "scratch.py").write_text(BROKEN)
    (autograder / "submission" / "softmax_gradients.py").write_text(RIGHT)
    run = cli_run("gradescope", "run", "-a", "softmax_gradients", "--root", str(autograder))
    results = json.loads((autograder / "results" / "results.json").read_text())
    assert run.exit_code == 0 and results["score"] == 100
    assert "submission file: softmax_gradients.py (2 files were submitted; not graded: notes/scratch.py)" in results["output"]


def test_an_empty_submission_or_a_grader_that_cannot_start_still_leaves_results(autograder):
    run = cli_run("gradescope", "run", "-a", "softmax_gradients", "--root", str(autograder))
    results = json.loads((autograder / "results" / "results.json").read_text())
    validate(results, "gradescope_results.schema.json")
    assert run.exit_code == 0 and results["score"] == 0 and "No .py or .ipynb file" in results["output"]
    (autograder / "results" / "results.json").unlink()
    results = _run_autograder(autograder, grader_bin=str(autograder / "no-such-grader"))
    validate(results, "gradescope_results.schema.json")
    assert results["score"] == 0 and "could not start" in results["output"]
