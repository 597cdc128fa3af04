"""Where ``grader export -o`` writes: a file, or a folder given for a file (the export's usual name in it)."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET

from tests.lms.conftest import cli_run


def test_a_folder_given_for_a_one_file_export_gets_the_file_under_its_usual_name(report_dir, tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    run = cli_run("export", str(report_dir), "--format", "canvas", "-o", str(exports))
    assert run.exit_code == 0, run.stderr
    rows = list(csv.DictReader((exports / "canvas-grades.csv").open()))
    assert {r["Student"] for r in rows} >= {"ada", "chloe"}
    run = cli_run("export", str(report_dir), "--format", "junit", "-o", str(tmp_path / "new") + "/")  # not there yet
    assert run.exit_code == 0, run.stderr
    assert ET.parse(tmp_path / "new" / "junit.xml").getroot().tag == "testsuites"
    as_file = tmp_path / "grades.csv"  # a file, as before
    assert cli_run("export", str(report_dir), "--format", "canvas", "-o", str(as_file)).exit_code == 0
    assert as_file.is_file()


def test_a_file_given_for_a_folder_export_or_an_unwritable_place_is_a_clear_error(report_dir, tmp_path):
    taken = tmp_path / "results.json"
    taken.write_text("{}")
    run = cli_run("export", str(report_dir), "--format", "classroom", "-o", str(taken))
    assert run.exit_code == 2 and "is a file: --format classroom of a folder of reports writes a folder" in run.stderr
    assert taken.read_text() == "{}"
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where a folder would be")
    run = cli_run("export", str(report_dir), "--format", "junit", "-o", str(blocked / "junit.xml"))
    assert run.exit_code == 2 and f"cannot write {blocked / 'junit.xml'}" in run.stderr
    assert "Traceback" not in run.stderr + run.stdout
