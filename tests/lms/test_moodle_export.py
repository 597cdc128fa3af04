"""``grader export --format moodle``: the assignment's grading worksheet, as Moodle gave it, filled in."""

from __future__ import annotations

import csv
import io
import zipfile

from tests.cli.test_cli import BASE, MISTAKE, grader

WORKSHEET = (  # as Moodle 4 writes it (English), with its byte-order mark
    "\ufeff\"Identifier\",\"Full name\",\"Email address\",\"Status\",\"Grade\",\"Maximum Grade\","
    "\"Grade can be changed\",\"Last modified (submission)\",\"Last modified (grade)\",\"Feedback comments\"\r\n"
    "\"Participant 4242\",\"Jane Doe\",jane@example.org,\"Submitted for grading\",,\"10.00\",Yes,"
    "\"Monday, 1 December 2026, 10:00 AM\",-,\r\n"
    "\"Participant 4243\",\"Bob Li\",bob@example.org,\"Submitted for grading\",\"3.00\",\"10.00\",Yes,-,-,\"kept\"\r\n"
    "\"Participant 4244\",\"Ann Ok\",ann@example.org,\"No submission\",,\"10.00\",Yes,-,-,\r\n"
)


def _graded_class(tmp_path):
    archive = tmp_path / "moodle.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("Jane Doe_4242_assignsubmission_file/hw.py", BASE)
        zf.writestr("Bob Li_4243_assignsubmission_file/hw.py", BASE + MISTAKE)  # 80 of 100
        zf.writestr("Sam Wu_4299_assignsubmission_file/hw.py", BASE)  # enrolled after the worksheet was downloaded
    out = tmp_path / "out"
    assert grader("grade", str(archive), "-a", "softmax_gradients", "-o", str(out)).returncode == 0
    return out


def test_the_worksheet_gets_each_participants_score_out_of_its_maximum_and_keeps_the_rest(tmp_path):
    out = _graded_class(tmp_path)
    sheet, filled = tmp_path / "worksheet.csv", tmp_path / "filled.csv"
    sheet.write_text(WORKSHEET, encoding="utf-8")
    run = grader("export", str(out), "--format", "moodle", "--moodle-worksheet", str(sheet), "-o", str(filled))
    assert run.returncode == 0, run.stderr
    rows = list(csv.DictReader(io.StringIO(filled.read_text(encoding="utf-8"))))
    assert [(r["Identifier"], r["Grade"]) for r in rows] == [
        ("Participant 4242", "10.00"), ("Participant 4243", "8.00"), ("Participant 4244", "")]
    original = list(csv.DictReader(io.StringIO(WORKSHEET.lstrip("\ufeff"))))
    for row, before in zip(rows, original):  # every other cell as Moodle wrote it
        assert {k: v for k, v in row.items() if k != "Grade"} == {k: v for k, v in before.items() if k != "Grade"}
    assert "1 reports have no row in the worksheet" in run.stderr and "Sam Wu" in run.stderr
    assert "1 rows of the worksheet have no report" in run.stderr and "Participant 4244" in run.stderr


def test_a_moodle_export_without_its_worksheet_or_with_another_file_says_what_to_do(tmp_path):
    out = _graded_class(tmp_path)
    run = grader("export", str(out), "--format", "moodle", "-o", str(tmp_path / "x.csv"))
    assert run.returncode == 2 and "Download grading worksheet" in run.stderr and "--moodle-worksheet" in run.stderr
    other = tmp_path / "gradebook.csv"
    other.write_text("Student,ID,Score\r\nJane,1,3\r\n")
    run = grader("export", str(out), "--format", "moodle", "--moodle-worksheet", str(other), "-o", str(tmp_path / "x.csv"))
    assert run.returncode == 2 and "no 'Identifier' column" in run.stderr
    assert not (tmp_path / "x.csv").exists()


def test_reports_of_no_moodle_download_are_left_out_with_a_word(tmp_path):
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "jane.py").write_text(BASE)
    out = tmp_path / "out"
    assert grader("grade", str(tmp_path / "subs"), "-a", "softmax_gradients", "-o", str(out)).returncode == 0
    sheet = tmp_path / "worksheet.csv"
    sheet.write_text(WORKSHEET, encoding="utf-8")
    run = grader("export", str(out), "--format", "moodle", "--moodle-worksheet", str(sheet), "-o", str(tmp_path / "f.csv"))
    assert run.returncode == 0 and "jane: not graded from a Moodle download" in run.stderr
    assert all(r["Grade"] in ("", "3.00") for r in csv.DictReader(io.StringIO((tmp_path / "f.csv").read_text())))


def test_a_worksheet_in_another_language_is_filled_in_given_its_grade_column(tmp_path):
    out = _graded_class(tmp_path)
    german = WORKSHEET.replace("Identifier", "Kennung").replace("\"Grade\"", "\"Bewertung\"").replace(
        "Participant", "Teilnehmer/in")
    sheet, filled = tmp_path / "bewertungen.csv", tmp_path / "filled.csv"
    sheet.write_text(german, encoding="utf-8")
    run = grader("export", str(out), "--format", "moodle", "--moodle-worksheet", str(sheet),
                 "--moodle-grade-column", "Bewertung", "-o", str(filled))
    assert run.returncode == 0, run.stderr
    rows = list(csv.DictReader(io.StringIO(filled.read_text(encoding="utf-8"))))
    assert [(r["Kennung"], r["Bewertung"]) for r in rows][:2] == [("Teilnehmer/in 4242", "10.00"),
                                                                ("Teilnehmer/in 4243", "8.00")]
    comma = german.replace("10.00", "10,00")  # a language that writes a decimal comma: the grades are written so
    sheet.write_text(comma, encoding="utf-8")
    run = grader("export", str(out), "--format", "moodle", "--moodle-worksheet", str(sheet),
                 "--moodle-grade-column", "Bewertung", "-o", str(filled))
    rows = list(csv.DictReader(io.StringIO(filled.read_text(encoding="utf-8"))))
    assert run.returncode == 0 and [r["Bewertung"] for r in rows][:2] == ["10,00", "8,00"]


def test_a_teams_report_never_fills_the_row_of_the_participant_its_group_id_happens_to_be(tmp_path):
    archive = tmp_path / "teams.zip"
    with zipfile.ZipFile(archive, "w") as zf:  # Moodle names a team's folder {group name}_{group id}
        zf.writestr("Team Red_4243_assignsubmission_file/hw.py", BASE + MISTAKE)
    out = tmp_path / "out"
    assert grader("grade", str(archive), "-a", "softmax_gradients", "-o", str(out)).returncode == 0
    sheet, filled = tmp_path / "worksheet.csv", tmp_path / "filled.csv"
    sheet.write_text(WORKSHEET, encoding="utf-8")  # participant 4243 is Bob Li, no member of Team Red
    run = grader("export", str(out), "--format", "moodle", "--moodle-worksheet", str(sheet), "-o", str(filled))
    assert run.returncode == 0, run.stderr
    assert [r["Grade"] for r in csv.DictReader(io.StringIO(filled.read_text()))] == ["", "3.00", ""]  # as it was
    assert "Team Red: the row of Participant 4243 names someone else" in run.stderr
    german = WORKSHEET.replace("Identifier", "Kennung").replace("\"Grade\"", "\"Bewertung\"").replace(
        "Full name", "Vollständiger Name").replace("Participant", "Teilnehmer/in").replace("3.00", "3,00")
    sheet.write_text(german, encoding="utf-8")  # in any language: the names are in the row, whatever its header
    run = grader("export", str(out), "--format", "moodle", "--moodle-worksheet", str(sheet),
                 "--moodle-grade-column", "Bewertung", "-o", str(filled))
    assert run.returncode == 0, run.stderr
    assert [r["Bewertung"] for r in csv.DictReader(io.StringIO(filled.read_text()))] == ["", "3,00", ""]
