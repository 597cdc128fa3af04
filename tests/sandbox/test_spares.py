"""Workers started as the check that the sandbox works (grader/sandbox/spares.py).

They are the workers the pools then use (no probe of their own), each grading process of a
batch adopts one of the parent's, and none is ever left running: not those no pool took, and
not that of a grading process that died.
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from grader.sandbox import bwrap, isolation, pool as pool_module, spares
from grader.sandbox.pool import Call, Job, WorkerPool
from grader.shards import PREFETCH, Shards
from tests.conftest import TEST_LIMITS

PROBE = bwrap.probe(sys.executable, isolation.sandbox_config())
pytestmark = pytest.mark.skipif(not PROBE.usable, reason=f"bwrap sandbox unusable here: {PROBE.reason}")

DOUBLE = Job((("s.py", "def double(x):\n    return 2 * x\n"),), "module",
             (Call("double", ("x",), "array", ((np.arange(3.0),),)),))


@pytest.fixture(autouse=True)
def no_spares_left():
    spares.release()
    yield
    spares.release()


@pytest.fixture
def probes(monkeypatch) -> list:
    """The probes run during the test (each still runs, for real)."""
    calls = []

    def counted(*args, **kwargs):
        calls.append(args)
        return PROBE

    monkeypatch.setattr(bwrap, "probe", counted)
    return calls


def _record_starts(monkeypatch, log: Path | None = None) -> list:
    """The workers started from now on in this process (their Popen); with ``log``, a line per start in any process."""
    started = []
    real_init = pool_module._Worker.__init__

    def recorded(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        started.append(self.proc)
        if log is not None:
            with open(log, "a") as f:
                f.write(f"{os.getpid()}\n")

    monkeypatch.setattr(pool_module._Worker, "__init__", recorded)
    return started


def _gone(pid: int, within_s: float = 10.0) -> bool:
    """Whether process ``pid`` has exited (reaped, or a zombie) within ``within_s``."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.02)
    return False


def test_the_sandbox_check_is_the_start_of_the_worker_that_then_grades(probes):
    launcher = isolation.choose_launcher(TEST_LIMITS, spares=1)
    assert launcher.name == "bwrap" and probes == []  # no probe of its own: the worker's start told
    (spare,) = spares._spares
    with WorkerPool(1, launcher, TEST_LIMITS) as pool:
        spares.give(pool)
        run = pool.run(DOUBLE)
        assert [w.proc.pid for w in pool._all] == [spare.proc.pid]  # graded by the spare, none started
    assert run.calls["double"][0].status == "ok"
    assert run.calls["double"][0].value.array.tolist() == [0.0, 2.0, 4.0]
    assert _gone(spare.proc.pid)


def test_workers_that_do_not_start_leave_the_answer_to_the_probe_and_nothing_running(probes, monkeypatch, tmp_path):
    broken = tmp_path / "worker.py"
    broken.write_text("import sys\nsys.exit(3)\n")  # never says it is ready
    monkeypatch.setattr(pool_module, "WORKER_SCRIPT", broken)
    started = _record_starts(monkeypatch)
    launcher = isolation.choose_launcher(TEST_LIMITS, spares=2)
    assert len(probes) == 1 and launcher.name == "bwrap"  # the probe decided, as before there were spares
    assert spares._spares == [] and len(started) == 2
    assert all(proc.poll() is not None for proc in started)


def test_spares_that_no_pool_takes_are_stopped():
    isolation.choose_launcher(TEST_LIMITS, spares=2)
    pids = [w.proc.pid for w in spares._spares]
    assert len(pids) == 2 and not any(_gone(pid, within_s=0.2) for pid in pids)
    spares.release()
    assert all(_gone(pid) for pid in pids)


def test_each_grading_process_adopts_a_spare_and_one_that_dies_frees_its_own():
    launcher = isolation.choose_launcher(TEST_LIMITS, spares=2)
    spare_pids = {w.proc.pid for w in spares._spares}
    handover = spares.Handover()

    @contextmanager
    def start():
        with WorkerPool(1, launcher, TEST_LIMITS, pools=2) as pool:
            handover.adopt(pool)
            own = [w.proc.pid for w in pool._all]

            def work(item: int, coming: int | None = None) -> dict:
                if item == PREFETCH + 1:  # the second process dies on its second item, without stopping its worker
                    os._exit(1)
                return {"i": item, "worker": own, "ok": pool.run(DOUBLE).calls["double"][0].status}
            yield work

    freed = None
    with Shards(2, start, before_fork=handover.before_fork, after_fork=handover.after_fork) as shards:
        answers = {}
        for answer in shards.map(list(range(8))):
            answers[answer["i"]] = answer
            if "lost" in answer and freed is None:  # its spare stops by itself, before the batch ends
                freed = _gone(answers[PREFETCH]["worker"][0])
    assert freed is True
    assert {answers[0]["worker"][0], answers[PREFETCH]["worker"][0]} == spare_pids  # one spare each, none started
    assert all(a["ok"] == "ok" for a in answers.values() if "lost" not in a)
    spares.release()
    assert all(_gone(pid) for pid in spare_pids)


def test_grader_check_starts_one_worker_in_all_and_no_probe(probes, monkeypatch, tmp_path):
    from grader import api

    started = _record_starts(monkeypatch)
    path = tmp_path / "alice.py"
    path.write_text((Path(__file__).parents[1] / "fixtures/softmax_gradients/right/vectorised.py").read_text())
    report = api.check(path, launcher=api.default_launcher(TEST_LIMITS, spares=1), limits=TEST_LIMITS)
    assert report.status == "graded" and report.score == report.max_score
    assert len(started) == 1 and probes == []
    assert all(proc.poll() is not None for proc in started)


def test_a_batch_on_two_grading_processes_starts_two_workers_in_all(probes, monkeypatch, tmp_path):
    from grader import api

    log = tmp_path / "started"
    _record_starts(monkeypatch, log)  # forked grading processes inherit it: each start is a line
    batch = tmp_path / "batch"
    batch.mkdir()
    right = (Path(__file__).parents[1] / "fixtures/softmax_gradients/right/vectorised.py").read_text()
    for name in ("ann", "bob", "cy", "dee", "eve", "fay"):
        (batch / f"{name}.py").write_text(f"# {name}\n{right}")
    result = api.grade([batch], assignment="softmax_gradients", out_dir=tmp_path / "out", jobs=2, limits=TEST_LIMITS)
    assert result.statistics["graded"] == 6 and result.sandbox == "bwrap"
    assert log.read_text().split() == [str(os.getpid())] * 2 and probes == []  # the parent's two, as the check


def test_the_sandbox_runs_the_code_the_grader_compiled_and_compiles_the_text_only_without_it():
    import marshal

    triple = marshal.dumps(compile("def double(x):\n    return 3 * x\n", "s.py", "exec", dont_inherit=True))
    launcher = isolation.choose_launcher(TEST_LIMITS)
    with WorkerPool(1, launcher, TEST_LIMITS) as pool:
        sent = pool.run(Job(DOUBLE.chunks, DOUBLE.mode, DOUBLE.calls, compiled=(triple,)))
        text = pool.run(DOUBLE)
    assert sent.calls["double"][0].value.array.tolist() == [0.0, 3.0, 6.0]  # what was compiled, not the text
    assert text.calls["double"][0].value.array.tolist() == [0.0, 2.0, 4.0]
