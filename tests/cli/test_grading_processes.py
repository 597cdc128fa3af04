"""`grade -j N` grades in N forked grading processes: the same reports as one process, and a process
that dies costs only the submissions it held."""

from __future__ import annotations

import json
import os
from pathlib import Path

from grader import api, batch
from grader.grading import GRADER_FAILED
from grader.report.model import Report
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "softmax_gradients"
BASE = (FIXTURES / "right" / "vectorised.py").read_text()


def _class(folder: Path) -> Path:
    """A small class: right styles, catalogued mistakes, a syntax error and an empty file."""
    folder.mkdir()
    for path in sorted((FIXTURES / "right").glob("*.py")):
        (folder / f"right_{path.stem}.py").write_text(path.read_text())
    for name in ("jacobian.diagonal_only", "ce.missing_softmax", "generic.exception", "generic.mutates_input"):
        (folder / f"wrong_{name.replace('.', '_')}.py").write_text(BASE + "\n\n" + (FIXTURES / "mistakes" / f"{name}.py").read_text())
    (folder / "broken.py").write_text("def softmax(z)\n    return z\n")
    (folder / "empty.py").write_text("")
    return folder


def _outcome(out: Path) -> dict:
    """What each student got: status, score, each test's status and hint codes, the summary's hint codes."""
    got = {}
    for path in sorted(out.glob("*.json")):
        if path.name == "summary.json":
            continue
        r = Report.model_validate_json(path.read_text())
        got[r.student] = (r.status, r.score, r.message, [(t.id, t.status, [h.code for h in t.hints]) for t in r.tests])
    got["summary"] = json.loads((out / "summary.json").read_text())["hint_counts"]
    return got


def test_grading_processes_give_the_same_reports_as_one_process(tmp_path):
    subs = _class(tmp_path / "subs")
    one = api.grade([subs], assignment="softmax_gradients", out_dir=tmp_path / "one", jobs=1)
    two = api.grade([subs], assignment="softmax_gradients", out_dir=tmp_path / "two", jobs=3)
    assert _outcome(tmp_path / "one") == _outcome(tmp_path / "two")
    assert one.statistics == two.statistics and two.statistics["students"] == 14
    assert two.statistics["graded"] == 12 and two.statistics["errors"] == 2
    assert "jacobian.diagonal_only" in two.statistics["hint_counts"]
    assert two.sandbox_cpu_s > 0 and two.grading_cpu_s > 0  # the grading processes' work is counted
    for student in ("right_vectorised", "wrong_jacobian_diagonal_only", "broken"):  # a page beside every report
        assert (tmp_path / "two" / f"{student}.html").is_file()
    assert "wrong_jacobian_diagonal_only.html" in (tmp_path / "two" / "index.html").read_text()


def test_a_grading_process_that_dies_costs_only_the_submissions_it_held(tmp_path, monkeypatch):
    subs = tmp_path / "subs"
    subs.mkdir()
    for i in range(6):
        (subs / f"s{i}.py").write_text(f"# {i}\n" + BASE)
    real = batch.grade_source

    def dies_on_s3(source, student, grading, pool):
        if student == "s3":  # a bug, or the OOM killer, in the middle of one submission
            os._exit(9)
        return real(source, student, grading, pool)

    monkeypatch.setattr(batch, "grade_source", dies_on_s3)  # the grading processes are forks: they have it too
    graded = api.grade([subs], assignment="softmax_gradients", out_dir=tmp_path / "out", jobs=2)
    reports = {p.stem: Report.model_validate_json(p.read_text()) for p in (tmp_path / "out").glob("s[0-9].json")}
    assert sorted(reports) == [f"s{i}" for i in range(6)]
    assert reports["s3"].status == "error" and "grading process stopped" in reports["s3"].message
    assert reports["s3"].message.startswith(GRADER_FAILED)  # so a rerun grades it again
    # s3's process held at most one other submission (PREFETCH = 2): it is reported the same way, the rest are graded
    lost = [s for s, r in reports.items() if r.status == "error"]
    assert "s3" in lost and len(lost) <= 2
    assert all(r.score == 100 for s, r in reports.items() if s not in lost)
    assert graded.statistics["errors"] == len(lost)
