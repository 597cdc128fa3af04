"""PrairieLearn's results.json: its documented shape, gradable false for what cannot run, at most 1 MB."""

from __future__ import annotations

import json
import shutil

from grader.lms.prairielearn import MAX_BYTES, encode, prairielearn_results
from tests.conftest import SOLUTIONS
from tests.lms.conftest import BROKEN, DIAGONAL, RIGHT, cli_run, grader, validate


def test_a_graded_report_has_a_score_in_0_1_and_a_test_per_graded_test(lms_reports):
    report = lms_reports["chloe"]
    results = prairielearn_results(report)
    validate(results, "prairielearn_results.schema.json")
    assert results["gradable"] is True and results["score"] == report.score / report.max_score
    assert [t["name"] for t in results["tests"]] == [t.id for t in report.tests]
    assert sum(t["points"] for t in results["tests"]) == report.score
    jacobian = next(t for t in results["tests"] if t["name"] == "softmax_jacobian/public")
    assert jacobian["max_points"] == 6 and "max abs error" in jacobian["message"]
    assert "hint jacobian.diagonal_only" in jacobian["output"]
    assert prairielearn_results(lms_reports["ada"])["score"] == 1.0


def test_a_submission_that_cannot_run_is_not_gradable(lms_reports):
    results = prairielearn_results(lms_reports["gus"])
    validate(results, "prairielearn_results.schema.json")
    assert results["gradable"] is False and "score" not in results
    assert "syntax error" in results["format_errors"][0]


def test_results_are_cut_to_1_mb_with_a_note(lms_reports):
    report = lms_reports["lou"].model_copy(deep=True)
    for test in report.tests:
        test.message = "é" * 300_000  # 600 kB each once encoded
    results = prairielearn_results(report)
    assert len(encode(results)) <= MAX_BYTES
    validate(results, "prairielearn_results.schema.json")
    assert any("cut here" in t["message"] for t in results["tests"])
    assert len(results["tests"]) == len(report.tests)  # cut, not dropped
    small = prairielearn_results(lms_reports["lou"])
    assert small == json.loads(encode(small)) and "cut here" not in encode(small).decode()


def test_the_export_writes_one_file_per_student(report_dir, tmp_path):
    out = tmp_path / "pl"
    run = cli_run("export", str(report_dir), "--format", "prairielearn", "-o", str(out))
    assert run.exit_code == 0, run.stderr
    assert sorted(p.name for p in out.iterdir()) == ["ada.json", "chloe.json", "gus.json", "lou.json"]
    for path in out.iterdir():
        validate(json.loads(path.read_text()), "prairielearn_results.schema.json")
    before = (report_dir / "ada.json").read_text()
    run = cli_run("export", str(report_dir), "--format", "prairielearn", "-o", str(report_dir))
    assert run.exit_code == 2 and "overwrite" in run.stderr and (report_dir / "ada.json").read_text() == before
    single = tmp_path / "results.json"
    assert cli_run("export", str(report_dir / "ada.json"), "--format", "prairielearn", "-o", str(single)).exit_code == 0
    assert json.loads(single.read_text())["score"] == 1.0


def test_prairielearn_run_grades_grade_student_end_to_end(tmp_path):
    """/grade laid out as PrairieLearn mounts it: student/, tests/ (the references), results/ made by us."""
    root = tmp_path / "grade"
    (root / "student").mkdir(parents=True)
    shutil.copytree(SOLUTIONS, root / "tests" / "solutions")
    (root / "student" / "softmax_gradients.py").write_text(RIGHT + DIAGONAL)
    (root / "student" / "scratch.py").write_text("x = 1\n")
    run = grader("prairielearn", "run", "-a", "softmax_gradients", "--root", str(root), cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    validate(results, "prairielearn_results.schema.json")
    assert results["gradable"] and results["score"] == 0.8
    assert "softmax_gradients.py" in results["output"] and "scratch.py" in results["output"]  # which file, of two
    (root / "student" / "softmax_gradients.py").write_text(BROKEN)
    (root / "student" / "scratch.py").unlink()
    run = cli_run("prairielearn", "run", "-a", "softmax_gradients", "--root", str(root))  # in this process: faster
    results = json.loads((root / "results" / "results.json").read_text())
    assert run.exit_code == 0 and results["gradable"] is False and "syntax error" in results["format_errors"][0]
    validate(results, "prairielearn_results.schema.json")


def test_prairielearn_run_without_a_file_or_without_references_is_not_gradable(tmp_path):
    root = tmp_path / "grade"
    (root / "student").mkdir(parents=True)
    run = cli_run("prairielearn", "run", "-a", "softmax_gradients", "--root", str(root))
    results = json.loads((root / "results" / "results.json").read_text())
    assert run.exit_code == 0 and results["gradable"] is False and "No .py or .ipynb" in results["format_errors"][0]
    (root / "student" / "hw.py").write_text(RIGHT)
    run = cli_run("prairielearn", "run", "-a", "softmax_gradients", "--root", str(root),
                  "--solutions", str(tmp_path / "nowhere"))
    results = json.loads((root / "results" / "results.json").read_text())
    assert run.exit_code == 2 and results["gradable"] is False  # the autograder's fault: no attempt charged
    assert "not set up right" in results["format_errors"][0]
    assert "nowhere" not in json.dumps(results) and "nowhere" in run.stderr  # the staff's words go to the log only
    validate(results, "prairielearn_results.schema.json")
