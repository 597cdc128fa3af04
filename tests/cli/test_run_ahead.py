"""The next submission runs in the sandbox while this one is judged (grader/run_ahead.py, Batch.lane)."""

from __future__ import annotations

import sys
import threading
import time

import pytest

from grader import api, batch
from grader.batch import Spent
from grader.report.model import Report
from grader.run_ahead import RunAhead
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "softmax_gradients"


def test_items_are_prepared_in_the_order_asked_on_one_other_thread():
    threads, order = set(), []

    def prepare(item: int) -> int:
        threads.add(threading.get_ident())
        order.append(item)
        return item * 10

    ahead = RunAhead(prepare)
    ahead.want(2)
    ahead.want(2)  # asked twice: prepared once
    ahead.want(5)
    assert ahead.take(5) == 50 and ahead.take(2) == 20
    assert ahead.take(7) == 70  # never asked ahead: prepared when taken
    ahead.stop()
    ahead.join(5)
    assert order == [2, 5, 7]
    assert len(threads) == 1 and threading.get_ident() not in threads


def test_what_preparing_raises_is_raised_where_it_is_taken():
    def prepare(item: int) -> int:
        if item == 1:
            raise OSError("disk gone")
        return item

    ahead = RunAhead(prepare)
    ahead.want(1)
    ahead.want(2)
    with pytest.raises(OSError, match="disk gone"):
        ahead.take(1)
    assert ahead.take(2) == 2  # the next one is not lost
    ahead.stop()


def test_closing_cancels_what_was_asked_and_not_begun():
    started = threading.Event()
    release = threading.Event()
    done = []

    def prepare(item: int) -> int:
        started.set()
        release.wait(5)
        done.append(item)
        return item

    ahead = RunAhead(prepare)
    ahead.want(1)
    ahead.want(2)
    started.wait(5)
    ahead.stop()  # an interrupt: item 1 is under way, item 2 never starts
    release.set()
    ahead.join(5)
    assert done == [1] and not ahead._thread.is_alive()


class _FakePool:
    def __init__(self) -> None:
        self.cpu_s, self.page_faults = 0.0, 0


def test_each_submission_is_charged_what_was_spent_since_the_last_one_so_none_is_lost():
    pool = _FakePool()
    spent = Spent(pool)
    shares = []
    for cpu, faults in ((0.004, 500), (0.011, 1200), (0.0, 0)):
        pool.cpu_s += cpu
        pool.page_faults += faults
        shares.append(spent.since_last())
    assert [s["page_faults"] for s in shares] == [500, 1200, 0]
    assert sum(s["sandbox_cpu_s"] for s in shares) == pytest.approx(0.015)
    assert all(s["grading_cpu_s"] >= 0 for s in shares)


def _class(folder, n: int):
    folder.mkdir()
    right = (FIXTURES / "right" / "vectorised.py").read_text()
    for i in range(n):
        (folder / f"s{i}.py").write_text(f"# student {i}\n{right}")
    return folder


def test_one_job_runs_the_next_submission_in_the_sandbox_while_it_judges_this_one(tmp_path, monkeypatch):
    events = []  # (what, submission, when)
    ran = {}  # submission -> the seconds of its first run
    real_first_run, real_grade_source = batch.first_run, batch.grade_source

    def first_run(source, grading, pool):
        events.append(("run starts", source.path, time.monotonic()))
        first = real_first_run(source, grading, pool)
        ran[source.path.rsplit("/", 1)[-1]] = first.seconds
        return first

    def grade_source(source, student, grading, pool, first=None):
        report = real_grade_source(source, student, grading, pool, first)
        time.sleep(0.3)  # a slow judge: the next submission's run has all this time to start
        events.append(("judged", source.path, time.monotonic()))
        return report

    monkeypatch.setattr(batch, "first_run", first_run)
    monkeypatch.setattr(batch, "grade_source", grade_source)
    subs = _class(tmp_path / "subs", 3)
    switch = sys.getswitchinterval()
    result = api.grade([subs], assignment="softmax_gradients", out_dir=tmp_path / "out", jobs=1)
    assert sys.getswitchinterval() == switch  # shortened while the batch ran, then given back
    assert result.statistics["graded"] == 3
    reports = [Report.model_validate_json((tmp_path / "out" / f"s{i}.json").read_text()) for i in range(3)]
    assert all(r.score == r.max_score for r in reports)
    when = {(what, path.rsplit("/", 1)[-1]): at for what, path, at in events}
    assert when[("run starts", "s1.py")] < when[("judged", "s0.py")]  # s1 ran while s0 was judged
    assert when[("run starts", "s2.py")] < when[("judged", "s1.py")]
    assert when[("run starts", "s2.py")] > when[("judged", "s0.py")]  # one ahead, not more
    # a report's time includes its sandbox run, made before it was judged (not the slow judge's sleep, after it)
    assert all(ran[f"s{i}.py"] < r.duration_s < ran[f"s{i}.py"] + 0.3 for i, r in enumerate(reports))
