"""A worker slot is never lost, and a worker never stopped twice, whatever goes wrong around a job."""
from __future__ import annotations

import queue
import threading

import numpy as np
import pytest

from grader import api
from grader.sandbox import pool as pool_module
from grader.sandbox.pool import Call, Job, WorkerLost, WorkerPool
from tests.conftest import SAYS_DONE_THEN_LINGERS, TEST_LIMITS

HONEST = "import numpy as np\ndef f(x):\n    return np.ones(2)\n"
GOOD_CASES = (Call("f", ("x",), "array", ((0,),)),)


class _Runner:
    """Runs jobs on one thread of its own, which outlives them all (a worker dies with the thread that
    started it): ``run`` returns a job's run, or the exception it raised, and fails if it waits too long."""

    def __init__(self, pool: WorkerPool) -> None:
        self.pool, self.jobs, self.out = pool, queue.Queue(), queue.Queue()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        _RUNNERS.append(self)

    def _serve(self) -> None:
        while (job := self.jobs.get()) is not None:
            try:
                self.out.put(self.pool.run(job))
            except Exception as exc:  # noqa: BLE001 - what run raised is the result here
                self.out.put(exc)

    def run(self, job: Job, seconds: float = 30.0):
        self.jobs.put(job)
        try:
            return self.out.get(timeout=seconds)
        except queue.Empty:
            pytest.fail(f"pool.run still waiting after {seconds} s: a worker slot was lost")

    def stop(self) -> None:
        self.jobs.put(None)
        self.thread.join(10)


_RUNNERS: list[_Runner] = []


@pytest.fixture(autouse=True)
def _runners_stopped():
    """Each test's runner threads end with it: a later test's fork must not copy a thread."""
    yield
    while _RUNNERS:
        _RUNNERS.pop().stop()


@pytest.mark.parametrize("case, error", [
    pytest.param(({1, 2},), TypeError, id="a_set"),
    pytest.param((np.array(["a"]),), ValueError, id="an_array_of_strings"),
])
def test_a_job_whose_cases_cannot_be_encoded_fails_alone_and_costs_no_worker(case, error):
    with WorkerPool(1, api.default_launcher(TEST_LIMITS), TEST_LIMITS) as pool:
        runner = _Runner(pool)
        first = runner.run(Job(chunks=(("s.py", HONEST),), mode="module", calls=GOOD_CASES))
        assert first.status == "ok"
        worker_pid = pool._all[0].proc.pid
        bad = runner.run(Job(chunks=(("s.py", HONEST),), mode="module",
                                    calls=(Call("f", ("x",), "array", (case,)),)))
        assert isinstance(bad, error)  # the grader's own bug, told as such, not as the submission's
        after = runner.run(Job(chunks=(("s.py", HONEST),), mode="module", calls=GOOD_CASES))
        assert after.status == "ok" and after.calls["f"][0].value.array.tolist() == [1.0, 1.0]
        assert [w.proc.pid for w in pool._all] == [worker_pid]  # the same worker, neither lost nor restarted


def test_a_worker_stopped_because_its_last_job_lingers_is_stopped_once_even_when_no_new_one_starts(monkeypatch):
    monkeypatch.setattr(pool_module, "SETTLE_S", 0.5)
    launcher = api.default_launcher(TEST_LIMITS)
    if not launcher.contains_submissions:
        pytest.skip("jobs are taken as finished at their 'done' only in a PID namespace or with cgroups")
    stops: list[int] = []
    kill = pool_module._Worker.kill

    def counted_kill(self):
        stops.append(id(self))
        kill(self)

    monkeypatch.setattr(pool_module._Worker, "kill", counted_kill)
    with WorkerPool(1, launcher, TEST_LIMITS) as pool:
        runner = _Runner(pool)
        runner.run(Job(chunks=(("s.py", SAYS_DONE_THEN_LINGERS),), mode="module", calls=GOOD_CASES))
        lingering = pool._all[0]
        assert lingering.owed == 1

        def no_new_worker(preload):
            raise WorkerLost("the worker did not start")

        pool._start = no_new_worker
        run = runner.run(Job(chunks=(("s.py", HONEST),), mode="module", calls=GOOD_CASES))
        assert run.status == "crashed" and "did not start" in run.detail
        assert stops == [id(lingering)] and lingering.proc.returncode is not None
        del pool._start  # a new worker may start again: the slot was kept
        again = runner.run(Job(chunks=(("s.py", HONEST),), mode="module", calls=GOOD_CASES))
        assert again.status == "ok"
    assert stops.count(id(lingering)) == 1  # closing the pool did not stop it again


class _Stop(BaseException):
    """An interrupt (as Ctrl-C or SIGTERM raises it), raised in the main thread by SIGALRM."""


def _stop(signum, frame):
    raise _Stop


SLOW = "import time, numpy as np\ndef f(x):\n    time.sleep({seconds})\n    return np.ones(2)\n"


def test_a_job_interrupted_gives_its_worker_back_and_a_thread_waiting_for_it_ends_with_the_pool():
    import signal
    import time

    with WorkerPool(1, api.default_launcher(TEST_LIMITS), TEST_LIMITS) as pool:
        runner = _Runner(pool)  # the run-ahead thread, say, whose worker this is
        assert runner.run(Job(chunks=(("s.py", HONEST),), mode="module", calls=GOOD_CASES)).status == "ok"
        previous = signal.signal(signal.SIGALRM, _stop)
        try:
            signal.setitimer(signal.ITIMER_REAL, 0.8)
            with pytest.raises(_Stop):  # the main thread's job (a consistency check, say), interrupted
                threading.Timer(0.3, lambda: runner.jobs.put(Job(chunks=(("s.py", HONEST),), mode="module",
                                                                 calls=GOOD_CASES))).start()  # asked meanwhile
                pool.run(Job(chunks=(("s.py", SLOW.format(seconds=1.5)),), mode="module", calls=GOOD_CASES))
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        time.sleep(0.2)  # the waiting job's thread got no worker yet, or a new one
        pool.close()
        try:
            waited = runner.out.get(timeout=10)  # before: blocked for good, and the process never exited
        except queue.Empty:
            pytest.fail("a thread waiting for the interrupted job's worker is still waiting after the pool closed")
        assert waited.status in ("ok", "crashed")  # ran on a new worker, or told that the pool closed


def test_a_job_is_not_charged_the_time_it_waited_behind_another_threads_job():
    crash_first = "import os, numpy as np\ndef f(x):\n    if x == 0:\n        os._exit(1)\n    return np.ones(2)\n"
    three = (Call("f", ("x",), "array", ((0,), (1,), (2,))),)
    six = (Call("f", ("x",), "array", tuple((i,) for i in range(6))),)
    with WorkerPool(1, api.default_launcher(TEST_LIMITS), TEST_LIMITS) as pool:
        runner = _Runner(pool)
        threading.Timer(0.5, lambda: runner.jobs.put(Job(chunks=(("s.py", crash_first),), mode="module",
                                                         calls=three))).start()
        # this thread's job, 6 x 1.8 s, longer than the other's whole budget (5 s + 3 x 2 s)
        pool.run(Job(chunks=(("s.py", SLOW.format(seconds=1.8)),), mode="module", calls=six))
        behind = runner.out.get(timeout=30)
    # its first case crashed its process; the others ran again in a fresh one, within its own budget
    assert [r.status for r in behind.calls["f"]] == ["crash", "ok", "ok"]
