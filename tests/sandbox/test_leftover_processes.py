"""What a job leaves running is killed before the next job, even where the worker has no PID namespace of its own."""
from __future__ import annotations

import pytest

from grader.sandbox.limits import Limits
from grader.sandbox.pool import Call, Job, Launcher, WorkerPool
from tests.conftest import alive

CALLS = (Call("f", ("x",), "array", ((0,), (1,))),)
LIMITS = Limits(call_s=2.0, load_s=5.0, submission_s=60.0)

# A daemon, as a student might start one: forked twice, in a session of its own (out of reach of the
# submission's process group), sleeping on; it says its pid in MARK. The submission itself is honest.
DAEMON = """
import os, time
import numpy as np
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        with open(MARK + ".tmp", "w") as f:
            f.write(str(os.getpid()))
        os.rename(MARK + ".tmp", MARK)
        time.sleep(30)
    os._exit(0)
for _ in range(500):
    if os.path.exists(MARK):
        break
    time.sleep(0.01)

def f(x):
    return np.zeros(2) + x
"""


@pytest.mark.parametrize("jobs", [1, 3])
def test_a_daemon_of_the_submission_is_killed_by_the_end_of_its_job(tmp_path, jobs):
    launcher = Launcher(name="process", cgroups=None)  # no PID namespace: only the worker, a subreaper, finds it
    with WorkerPool(1, launcher, LIMITS) as pool:
        for job in range(jobs):
            mark = tmp_path / f"daemon-{job}"
            code = f"MARK = {str(mark)!r}\n" + DAEMON
            run = pool.run(Job(chunks=(("s.py", code),), mode="module", calls=CALLS))
            assert [c.status for c in run.calls["f"]] == ["ok", "ok"]
            assert pool._all[0].owed == 0  # the worker's outcome was read: it says the job is over
            daemon = int(mark.read_text())
            assert not alive(daemon), f"job {job}: the daemon {daemon} outlived its job"

