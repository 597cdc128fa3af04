"""A job is taken as finished once its results say "done"; its worker's outcome is read before the next job."""
from __future__ import annotations

import time

import pytest

from grader import api
from grader.grading import grade_source
from grader.sandbox import pool as pool_module
from grader.sandbox.limits import Limits
from grader.sandbox.pool import Call, Job, Launcher, WorkerPool
from grader.source import read_submission
from tests.conftest import FIXTURES, SAYS_DONE_THEN_LINGERS, TEST_LIMITS, alive

RIGHT = (FIXTURES / "softmax_gradients" / "right" / "vectorised.py").read_text()


@pytest.fixture
def one_worker():
    with WorkerPool(1, api.default_launcher(TEST_LIMITS), TEST_LIMITS) as p:
        yield p


def _grade(path, text, grading, pool):
    path.write_text(text, encoding="utf-8")
    return grade_source(read_submission(path), path.stem, grading, pool)


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
    assert busy.owed == 1 and alive(busy.proc.pid)

    honest = _grade(tmp_path / "honest.py", RIGHT, softmax_grading, one_worker)
    assert honest.status == "graded" and honest.score == honest.max_score
    assert [w.proc.pid for w in one_worker._all] != [busy.proc.pid]  # a new worker took the honest job
    busy.proc.wait(timeout=10)  # and the busy one, with the lingering submission, is gone


TIGHT = Limits(call_s=1.0, load_s=1.0, submission_s=60.0)  # a budget of 1 + 2 * 1 s for the job below
CALLS = (Call("f", ("x",), "array", ((0,), (1,))),)
HONEST_F = "import numpy as np\ndef f(x):\n    return np.zeros(2) + x\n"
HANGS_ON_ZERO = """
import time, numpy as np
def f(x):
    if x == 0:
        time.sleep(100)
    return np.zeros(2) + x
"""


def _job(code: str) -> Job:
    return Job(chunks=(("s.py", code),), mode="module", calls=CALLS)


def _statuses(pool: WorkerPool, code: str) -> list[str]:
    return [c.status for c in pool.run(_job(code)).calls["f"]]


@pytest.mark.parametrize("before", [pytest.param("honest", id="after_an_honest_one"),
                                    pytest.param("lingers", id="after_one_that_lingers")])
def test_the_wait_for_the_last_submission_to_end_is_not_taken_from_the_next_ones_time(before, monkeypatch):
    monkeypatch.setattr(pool_module, "SETTLE_S", 1.5)
    with WorkerPool(1, api.default_launcher(TIGHT), TIGHT) as pool:
        pool.run(_job(HONEST_F if before == "honest" else SAYS_DONE_THEN_LINGERS))
        # f(0) hangs: 1 s; the fresh run that goes on with f(1) still has its time
        assert _statuses(pool, HANGS_ON_ZERO) == ["timeout", "ok"]


def test_without_a_pid_namespace_or_cgroups_a_job_ends_with_its_submission_process(tmp_path):
    launcher = Launcher(name="process", cgroups=None)
    assert not launcher.contains_submissions  # stopping its worker would not stop what the job left running
    mark = tmp_path / "pid"
    lingers = SAYS_DONE_THEN_LINGERS.replace("import os, sys, time", f"import os, sys, time\nopen({str(mark)!r}, 'w').write(str(os.getpid()))")
    limits = Limits(call_s=1.0, load_s=1.0, submission_s=60.0)
    with WorkerPool(1, launcher, limits) as pool:
        started = time.monotonic()
        run = pool.run(_job(lingers))
        assert pool._all[0].owed == 0  # not taken as finished at its "done": the worker saw it end,
        assert not alive(int(mark.read_text()))  # at the time limit of its top-level code
        assert time.monotonic() - started >= limits.load_s and [c.status for c in run.calls["f"]] == ["not_run"] * 2
        assert _statuses(pool, HANGS_ON_ZERO) == ["timeout", "ok"]
