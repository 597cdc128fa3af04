"""`grade -j N` grades in N forked grading processes: the same reports as one process, and a process
that dies costs only the submissions it held."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from grader import api, batch, exercises
from grader.grading import GRADER_FAILED
from grader.report.model import Report
from grader.sandbox import pool as pool_module
from grader.shards import PREFETCH
from grader.submissions import Submission
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

    def dies_on_s3(source, student, grading, pool, first=None):
        if student == "s3":  # a bug, or the OOM killer, in the middle of one submission
            os._exit(9)
        return real(source, student, grading, pool, first)

    monkeypatch.setattr(batch, "grade_source", dies_on_s3)  # the grading processes are forks: they have it too
    graded = api.grade([subs], assignment="softmax_gradients", out_dir=tmp_path / "out", jobs=2)
    reports = {p.stem: Report.model_validate_json(p.read_text()) for p in (tmp_path / "out").glob("s[0-9].json")}
    assert sorted(reports) == [f"s{i}" for i in range(6)]
    assert reports["s3"].status == "error" and "grading process stopped" in reports["s3"].message
    assert reports["s3"].message.startswith(GRADER_FAILED)  # so a rerun grades it again
    # s3's process held at most PREFETCH - 1 other submissions: they are reported the same way, the rest are graded
    lost = [s for s, r in reports.items() if r.status == "error"]
    assert "s3" in lost and len(lost) <= PREFETCH
    assert all(r.score == 100 for s, r in reports.items() if s not in lost)
    assert graded.statistics["errors"] == len(lost)


def test_the_submissions_that_import_scipy_go_to_one_grading_process_which_alone_starts_a_scipy_worker(tmp_path, monkeypatch):
    pytest.importorskip("scipy")
    subs = tmp_path / "subs"
    subs.mkdir()
    scipy_right = (FIXTURES / "right" / "logsumexp.py").read_text()  # from scipy.special import logsumexp, softmax
    for i in range(8):  # at -j 2 each process is handed two at first: 0 and 1 to one, 2 and 3 to the other
        (subs / f"s{i}.py").write_text(f"# {i}\n" + (scipy_right if i in (0, 2, 5) else BASE))
    started = tmp_path / "started"
    real = pool_module.WorkerPool._start

    def start(self, preload):  # the grading processes are forks of this one: they run this too
        with open(started, "a") as f:
            f.write(f"{os.getpid()} {','.join(preload) or '-'}\n")
        return real(self, preload)

    monkeypatch.setattr(pool_module.WorkerPool, "_start", start)
    graded = api.grade([subs], assignment="softmax_gradients", out_dir=tmp_path / "out", jobs=2)
    assert graded.statistics["graded"] == 8
    reports = {p.stem: Report.model_validate_json(p.read_text()) for p in (tmp_path / "out").glob("s[0-9].json")}
    assert all(r.score == 100 for r in reports.values()), {s: r.message for s, r in reports.items()}
    scipy_workers = [line.split()[0] for line in started.read_text().splitlines() if "scipy" in line.split()[1]]
    assert len(scipy_workers) == 1, started.read_text()


def test_worker_kinds_are_guessed_from_the_files_without_following_links_or_waiting_on_fifos(tmp_path):
    pytest.importorskip("scipy")
    (tmp_path / "a.py").write_text("import numpy as np\nfrom scipy.special import softmax\n")
    (tmp_path / "b.py").write_text("import numpy as np\n")
    (tmp_path / "c.ipynb").write_text(json.dumps({"cells": [{"cell_type": "code", "source": ["import scipy.linalg\n"]}]}))
    (tmp_path / "d.py").symlink_to(tmp_path / "a.py")
    os.mkfifo(tmp_path / "e.py")
    found = [Submission(path=tmp_path / name, student=name[0]) for name in ("a.py", "b.py", "c.ipynb", "d.py", "e.py")]
    kinds = batch.Batch(found, exercises.get("softmax_gradients"), None, tmp_path / "out").worker_kinds()
    assert kinds == {0: "scipy.special,scipy.linalg", 2: "scipy.special,scipy.linalg"}
