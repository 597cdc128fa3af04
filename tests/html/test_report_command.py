"""`grader report REPORTDIR [-o FILE]` as a user runs it: what it writes, what it skips, its exit status."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import cli
from tests.conftest import ROOT
from tests.html.conftest import load_json_reports, make_report, write_reports


def report(*args: str):
    """``grader report ARGS`` in this process (Click's runner: stdout and stderr apart, the exit code)."""
    return CliRunner().invoke(cli, ["report", *args], catch_exceptions=False)


def test_report_rebuilds_the_pages_and_skips_what_is_not_a_report(tmp_path, softmax_class):
    write_reports(tmp_path, list(load_json_reports(softmax_class).values()))
    for name in ("summary.json", "summary.csv"):
        (tmp_path / name).write_bytes((softmax_class / name).read_bytes())
    (tmp_path / "broken.json").write_text('{"student": "half')
    (tmp_path / "other.json").write_text('{"results": []}')
    run = report(str(tmp_path))
    assert run.exit_code == 0, run.stderr
    assert "skipped broken.json: not valid JSON" in run.stderr
    assert "skipped other.json: not a grader report" in run.stderr
    assert "summary" not in run.stderr
    assert f"wrote {tmp_path / 'index.html'} and 9 student pages" in run.stdout
    assert {p.stem for p in tmp_path.glob("*.html")} == set(load_json_reports(softmax_class)) | {"index"}
    assert "broken.json" in (tmp_path / "index.html").read_text()  # the page says it too


def test_report_o_writes_the_class_page_elsewhere(tmp_path):
    write_reports(tmp_path / "r", [make_report("ann", score=70.0)])
    run = report(str(tmp_path / "r"), "-o", str(tmp_path / "out" / "page.html"))
    assert run.exit_code == 0, run.stderr
    assert 'href="../r/ann.html"' in (tmp_path / "out" / "page.html").read_text()
    (tmp_path / "dir").mkdir()
    assert report(str(tmp_path / "r"), "-o", str(tmp_path / "dir")).exit_code == 0
    assert (tmp_path / "dir" / "index.html").is_file()


def test_report_exits_2_without_reports_or_folder(tmp_path: Path):
    (tmp_path / "x.json").write_text("[]")
    run = report(str(tmp_path))
    assert run.exit_code == 2 and "no reports found" in run.stderr
    assert not (tmp_path / "index.html").exists()
    assert report(str(tmp_path / "missing")).exit_code == 2


def test_the_console_command_has_report(tmp_path):
    write_reports(tmp_path, [make_report("ann", score=70.0)])
    run = subprocess.run([sys.executable, "-m", "grader", "report", str(tmp_path)], capture_output=True, text=True,
                         cwd=ROOT, timeout=120)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "ann.html").is_file() and (tmp_path / "index.html").is_file()


@pytest.mark.parametrize("broken_part", ["student", "write_class_page"])
@pytest.mark.parametrize("jobs", [1, 2])
def test_a_failure_to_build_the_pages_loses_no_report(tmp_path, monkeypatch, broken_part, jobs):
    from grader import api
    from grader.report.html.site import Pages

    def broken(*args, **kwargs):
        raise RuntimeError("a bug in the pages")

    monkeypatch.setattr(Pages, broken_part, broken)  # inherited by the grading processes, which are forks
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("ada", "bob"):
        (subs / f"{name}.py").write_text((ROOT / "tests" / "fixtures" / "softmax_gradients" / "right" / "vectorised.py").read_text())
    batch = api.grade([subs], assignment="softmax_gradients", out_dir=tmp_path / "out", jobs=jobs)
    assert "could not be built" in batch.pages_problem and "a bug in the pages" in batch.pages_problem
    assert (tmp_path / "out" / "ada.json").exists() and (tmp_path / "out" / "summary.json").exists()
    assert batch.statistics["graded"] == 2 and batch.statistics["score"]["mean"] == 100
