"""Reading a batch's reports back for an export: summaries are not reports, broken files are skipped aloud."""

from __future__ import annotations

import pytest

from grader.errors import GraderError
from grader.lms.reports import load_reports
from tests.lms.conftest import cli_run


def test_every_report_is_read_and_the_summaries_are_not(report_dir):
    loaded = load_reports(report_dir)
    assert [stem for stem, _ in loaded.reports] == ["ada", "chloe", "gus", "lou"]
    assert loaded.skipped == []
    assert loaded.reports[1][1].student == "chloe"


def test_a_corrupt_report_is_skipped_with_a_warning_naming_it(report_dir):
    (report_dir / "zed.json").write_text('{"schema_version": "1", "student": "zed", "score": ')
    (report_dir / "yan.json").write_text('{"not": "a report"}')
    loaded = load_reports(report_dir)
    assert [stem for stem, _ in loaded.reports] == ["ada", "chloe", "gus", "lou"]
    assert len(loaded.skipped) == 2
    assert any("zed.json" in w for w in loaded.skipped) and any("yan.json" in w for w in loaded.skipped)


def test_an_empty_folder_is_an_error(tmp_path):
    with pytest.raises(GraderError, match="no readable reports"):
        load_reports(tmp_path)


def test_the_command_carries_on_past_a_corrupt_report_and_says_the_export_is_incomplete(report_dir, tmp_path):
    (report_dir / "zed.json").write_bytes(b"\x00\xff not json")
    out = tmp_path / "grades.csv"
    run = cli_run("export", str(report_dir), "--format", "canvas", "-o", str(out))
    assert run.exit_code == 1, run.stderr  # written, but a CI job must not stay green with a student missing
    assert "zed.json" in run.stderr and "skipped" in run.stderr and "incomplete" in run.stderr
    assert out.read_text().count("\n") == 1 + 1 + 4  # header, Points Possible, four students


def test_the_command_refuses_an_empty_folder_and_an_unknown_format(tmp_path, report_dir):
    empty = tmp_path / "empty"
    empty.mkdir()
    run = cli_run("export", str(empty), "--format", "junit", "-o", str(tmp_path / "x.xml"))
    assert run.exit_code == 2 and "no readable reports" in run.stderr
    assert not (tmp_path / "x.xml").exists()
    run = cli_run("export", str(report_dir), "--format", "moodle", "-o", str(tmp_path / "x"))
    assert run.exit_code == 2 and "moodle" in run.stderr
