"""In the sandbox the worker is its PID namespace's init: its submissions cannot signal it, and it dies with bwrap."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from grader import api
from grader.report.model import Report
from grader.sandbox import pool as pool_module
from grader.sandbox.limits import Limits
from grader.sandbox.pool import Job
from tests.conftest import FIXTURES, alive
from tests.sandbox.test_bwrap import descendants

LAUNCHER = api.default_launcher()
needs_sandbox = pytest.mark.skipif(LAUNCHER.name != "bwrap", reason=f"no bwrap sandbox here ({LAUNCHER.note})")

BASE = (FIXTURES / "softmax_gradients" / "right" / "vectorised.py").read_text()
# A student's jacobian that first tries to stop the process that runs it (its parent, and pid 1),
# then forgets the outer product: graded as that mistake, every time.
SIGNALLER = BASE + '''

import os
import signal


def softmax_jacobian(z):
    for target in {os.getppid(), 1}:
        for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT, signal.SIGSTOP):
            os.kill(target, sig)
    return np.diag(softmax(z))
'''


@needs_sandbox
def test_a_submission_that_signals_its_worker_is_graded_the_same_every_time(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    for i in range(4):
        (subs / f"signaller{i}.py").write_text(f"# copy {i}\n" + SIGNALLER)
    (subs / "honest.py").write_text(BASE)
    api.grade([subs], assignment="softmax_gradients", out_dir=out, jobs=2)
    reports = {p.stem: Report.model_validate_json(p.read_text()) for p in out.glob("*.json") if p.stem != "summary"}
    assert reports["honest"].score == 100
    scores = set()
    for i in range(4):
        report = reports[f"signaller{i}"]
        jacobian = [t for t in report.tests if t.function == "softmax_jacobian"]
        assert report.status == "graded" and jacobian, report.message
        assert all(t.status == "failed" for t in jacobian), [(t.id, t.status, t.message) for t in jacobian]
        assert all("jacobian.missing_outer_product" in [h.code for h in t.hints] for t in jacobian)
        assert all(t.status == "passed" for t in report.tests if t.function != "softmax_jacobian")
        scores.add(report.score)
    assert len(scores) == 1 and scores.pop() < 100


@needs_sandbox
def test_killing_bwrap_alone_kills_its_worker_and_the_submission_it_runs():
    """setpriv's change of user clears the death signal bwrap gives its child: the worker asks for it again."""
    limits = Limits(load_s=60, submission_s=120)
    worker = pool_module._Worker(LAUNCHER)
    job = Job(chunks=(("sleeper.py", "import time\ntime.sleep(60)\n"),), mode="module", calls=())
    lost: list[BaseException] = []

    def run() -> None:
        try:
            worker.request(job.frame(limits, 64), job.code(), timeout=120)
        except BaseException as exc:  # noqa: BLE001 - what the test looks at
            lost.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    try:
        thread.start()
        deadline = time.monotonic() + 30
        tree: list[int] = []
        while time.monotonic() < deadline:  # bwrap (after the cgroup's shell, if any), the worker, its submission
            tree = [p for p in descendants(worker.proc.pid) if alive(p)]
            if len(tree) >= 2:
                break
            time.sleep(0.05)
        assert len(tree) >= 2, tree
        os.kill(worker.proc.pid, signal.SIGKILL)  # bwrap alone: the grader still holds the worker's control socket
        deadline = time.monotonic() + 10
        while any(alive(p) for p in tree) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [p for p in tree if alive(p)]
        thread.join(30)
        assert lost and isinstance(lost[0], pool_module.WorkerLost)
    finally:
        worker.kill()
