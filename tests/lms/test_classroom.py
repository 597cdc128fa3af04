"""GitHub Classroom: per-function runner results, and the example workflow's grading step run as Actions would."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from grader import exercises
from grader.lms.classroom import classroom_results
from tests.conftest import ROOT
from tests.lms.conftest import DIAGONAL, RIGHT, validate

WORKFLOW = ROOT / "examples" / "github_classroom" / ".github" / "workflows" / "classroom.yml"
FUNCTIONS = [f.name for f in exercises.get("softmax_gradients").functions]


def test_one_runner_per_function_whose_points_add_up_to_the_report(lms_reports):
    report = lms_reports["chloe"]
    runners = classroom_results(report)
    assert list(runners) == FUNCTIONS
    for result in runners.values():
        validate(result, "classroom_result.schema.json")
    assert sum(t["score"] for r in runners.values() for t in r["tests"]) == report.score
    assert sum(r["max_score"] for r in runners.values()) == report.max_score
    jacobian = runners["softmax_jacobian"]
    assert jacobian["status"] == "fail" and {t["status"] for t in jacobian["tests"]} == {"fail"}
    assert "hint jacobian.diagonal_only" in jacobian["tests"][0]["message"]
    assert runners["softmax"]["status"] == "pass"
    assert classroom_results(lms_reports["lou"])["softmax_backward"]["status"] == "error"


def test_a_submission_that_cannot_run_errors_every_runner_with_its_points(lms_reports):
    runners = classroom_results(lms_reports["gus"])
    assert list(runners) == FUNCTIONS
    for result in runners.values():
        validate(result, "classroom_result.schema.json")
        assert result["status"] == "error" and "syntax error" in result["tests"][0]["message"]
    assert sum(r["max_score"] for r in runners.values()) == 100


def _workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def test_the_workflow_follows_the_reporters_rules():
    workflow = _workflow()
    assert workflow["name"] == "Autograding Tests" and list(workflow["jobs"]) == ["run-autograding-tests"]
    job = workflow["jobs"]["run-autograding-tests"]
    assert job["env"]["ASSIGNMENT"] == "softmax_gradients"
    reporter = job["steps"][-1]
    assert reporter["uses"] == "classroom-resources/autograding-grading-reporter@v1"
    runners = reporter["with"]["runners"].split(",")
    assert runners == FUNCTIONS  # one runner per function of the assignment, none forgotten
    grade = next(s for s in job["steps"] if s.get("id") == "grade")
    assert reporter["env"] == {f"{r.upper()}_RESULTS": f"${{{{ steps.{grade['id']}.outputs.{r} }}}}" for r in runners}


def _run_grade_step(repo: Path) -> dict[str, str]:
    """The workflow's Grade step, run by bash in ``repo`` as Actions runs it; its outputs."""
    job = _workflow()["jobs"]["run-autograding-tests"]
    script = next(s for s in job["steps"] if s.get("id") == "grade")["run"]
    outputs = repo / "github_output"
    outputs.touch()
    env = {**os.environ, **job["env"], "GITHUB_OUTPUT": str(outputs),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    run = subprocess.run(["bash", "-e", "-c", script], cwd=repo, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    return dict(line.split("=", 1) for line in outputs.read_text().splitlines())


def test_the_grade_step_gives_the_reporter_a_result_per_runner(tmp_path):
    (tmp_path / "softmax_gradients.py").write_text(RIGHT + DIAGONAL)
    outputs = _run_grade_step(tmp_path)
    runners = _workflow()["jobs"]["run-autograding-tests"]["steps"][-1]["with"]["runners"].split(",")
    results = {r: json.loads(base64.b64decode(outputs[r])) for r in runners}  # as the reporter decodes them
    for result in results.values():
        validate(result, "classroom_result.schema.json")
    assert sum(t["score"] for r in results.values() for t in r["tests"]) == 27  # the public tests' points
    assert sum(r["max_score"] for r in results.values()) == 33
    assert results["softmax_jacobian"]["status"] == "fail"
    assert all(t["name"].endswith("/public") or "/public-" in t["name"] for r in results.values() for t in r["tests"])

