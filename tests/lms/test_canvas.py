"""The Canvas gradebook CSV: student columns as Canvas's importer reads them, one column per assignment."""

from __future__ import annotations

import csv
import io

from grader.grading import GRADER_FAILED
from grader.lms.canvas import STUDENT_COLUMNS, canvas_csv
from tests.lms.conftest import cli_run


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_columns_rows_and_scores_are_what_canvas_imports(lms_reports):
    export = canvas_csv(list(lms_reports.values()), canvas_ids={"softmax_gradients": "4242"})
    header, points, *students = _rows(export.text)
    assert header == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Softmax gradients (4242)"]
    assert header.index("Section") == len(STUDENT_COLUMNS) - 1  # the last student column
    assert points[0] == "Points Possible" and points[-1] == "100"
    by_name = {row[0]: row for row in students}
    assert sorted(by_name) == ["ada", "chloe", "gus", "lou"]
    assert by_name["ada"][1] == "1001" and by_name["ada"][-1] == "100"
    assert by_name["chloe"][1] == "1002" and float(by_name["chloe"][-1]) == lms_reports["chloe"].score
    assert by_name["gus"][-1] == "0"  # could not be run: scored 0, as in summary.csv
    assert all(len(row) == len(header) for row in students)


def test_missing_canvas_ids_are_counted_in_a_warning(lms_reports):
    export = canvas_csv(list(lms_reports.values()))
    warning = next(w for w in export.warnings if "no Canvas user id" in w)
    assert warning.startswith("2 of 4 reports") and "gus" in warning and "lou" in warning
    assert _rows(export.text)[0][-1] == "Softmax gradients"  # no id given: Canvas matches by title


def test_options_title_sis_column_no_points_row_and_grader_failures(lms_reports):
    failed = lms_reports["lou"].model_copy(update={"status": "error", "message": f"{GRADER_FAILED}: KeyError"})
    anonymous = lms_reports["ada"].model_copy(deep=True)
    anonymous.student, anonymous.submission.lms_id = "anon_x7k2q", "anon_x7k2q"
    export = canvas_csv([lms_reports["chloe"], failed, anonymous], titles={"softmax_gradients": "HW 3, softmax"},
                        student_id_column="sis-login-id", points_possible=False)
    header, *rows = _rows(export.text)
    assert header[-1] == "HW 3, softmax" and all(r[0] != "Points Possible" for r in rows)
    by_name = {r[0]: r for r in rows}
    assert by_name["chloe"][header.index("SIS Login ID")] == "chloe"
    assert by_name["lou"][-1] == ""  # the grader failed: the cell is left empty, so Canvas keeps what it had
    assert by_name["anon_x7k2q"][1] == ""  # an anonymous id is no Canvas user id
    assert any("grader failed" in w for w in export.warnings) and any("anonymous" in w for w in export.warnings)
    assert not any("no Canvas user id" in w for w in export.warnings)  # the SIS ids are written: Canvas matches by them


def test_the_command_writes_the_csv_and_warns_on_stderr(report_dir, tmp_path):
    out = tmp_path / "grades.csv"
    run = cli_run("export", str(report_dir), "--format", "canvas", "-o", str(out), "--canvas-assignment-id", "77")
    assert run.exit_code == 0, run.stderr
    assert _rows(out.read_text())[0][-1] == "Softmax gradients (77)"
    assert "2 of 4 reports have no Canvas user id" in " ".join(run.stderr.split())
    run = cli_run("export", str(report_dir), "--format", "canvas", "-o", str(out), "--canvas-assignment-id",
                  "softmax_gradients=88", "--canvas-title", "HW3")
    assert run.exit_code == 0 and _rows(out.read_text())[0][-1] == "HW3 (88)"
    run = cli_run("export", str(report_dir), "--format", "canvas", "-o", str(out), "--canvas-assignment-id", "1",
                  "--canvas-assignment-id", "2")
    assert run.exit_code == 2 and "NAME=VALUE" in run.stderr


def test_two_reports_of_one_student_and_a_check_report_are_said(lms_reports):
    one = next(r for r in lms_reports.values() if r.submission.lms_id)
    twin = one.model_copy(deep=True)
    checked = one.model_copy(deep=True)
    checked.student, checked.submission.lms_id = "someone_else", None
    checked.grader.answers, checked.max_score = "public data", 33.0
    export = canvas_csv([one, twin, checked])
    assert any("more than one report" in w and one.student in w for w in export.warnings)
    assert any("grader check" in w and "someone_else" in w for w in export.warnings)
    quiet = canvas_csv([one])
    assert not any("more than one" in w or "grader check" in w for w in quiet.warnings)
