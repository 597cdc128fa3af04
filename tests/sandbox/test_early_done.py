"""A job is taken as finished once its results say "done"; its worker's outcome is read before the next job."""
from __future__ import annotations

import os
import time

import pytest

from grader import api
from grader.grading import grade_source
from grader.sandbox import pool as pool_module
from grader.sandbox.pool import WorkerPool
from grader.source import read_submission
from tests.conftest import FIXTURES, TEST_LIMITS

RIGHT = (FIXTURES / "softmax_gradients" / "right" / "vectorised.py").read_text()

# Says "done" on the results channel before any call is made, then keeps its worker busy.
SAYS_DONE_THEN_LINGERS = '''
import os, sys, time
protocol = sys.modules["protocol"]
fd = next(n for n in range(3, 64) if os.path.exists(f"/proc/self/fd/{n}"))
os.write(fd, protocol.pack_frame({"t": "done"}))
time.sleep(30)
'''


@pytest.fixture
def one_worker():
    with WorkerPool(1, api.default_launcher(TEST_LIMITS), TEST_LIMITS) as p:
        yield p


def _grade(path, text, grading, pool):
    path.write_text(text, encoding="utf-8")
    return grade_source(read_submission(path), path.stem, grading, pool)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_outcomes_are_read_before_the_next_job_and_what_they_measured_is_counted(tmp_path, one_worker, softmax_grading):
    for i in range(3):
        report = _grade(tmp_path / f"s{i}.py", RIGHT, softmax_grading, one_worker)
        assert report.score == report.max_score
    worker = one_worker._all[0]
    assert worker.owed == 1  # the last job's outcome, returned early, is still to be read
    assert one_worker.cpu_s > 0 and one_worker.page_faults > 0  # the first two jobs' outcomes were read and counted
    worker.settle(time.monotonic() + 10)
    assert worker.owed == 0 and worker.carry["page_faults"] > 0


def test_a_submission_that_says_done_and_lingers_costs_its_worker_and_nothing_else(tmp_path, one_worker,
                                                                                   softmax_grading, monkeypatch):
    monkeypatch.setattr(pool_module, "SETTLE_S", 0.5)
    attacker = _grade(tmp_path / "attacker.py", SAYS_DONE_THEN_LINGERS, softmax_grading, one_worker)
    assert attacker.status == "error" and attacker.score == 0
    busy = one_worker._all[0]
    assert busy.owed == 1 and _alive(busy.proc.pid)

    honest = _grade(tmp_path / "honest.py", RIGHT, softmax_grading, one_worker)
    assert honest.status == "graded" and honest.score == honest.max_score
    assert [w.proc.pid for w in one_worker._all] != [busy.proc.pid]  # a new worker took the honest job
    busy.proc.wait(timeout=10)  # and the busy one, with the lingering submission, is gone
