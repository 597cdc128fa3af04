"""The sandboxed fork server: the only place where student code runs.

Started as ``python -I worker.py --control-fd N [--pid-namespace]`` by
:mod:`grader.sandbox.pool`, it imports NumPy once, then serves jobs received on a
Unix socket (fd N), one at a time; each job comes with two pipes, one carrying the
student's code in, one carrying the results out, straight to the grader. For each
job it forks a *submission process* that loads the student's code (a module, or
notebook cells one by one) and forks a *call process* that calls the graded
functions on every case and streams back plain numbers. After a crash or a hang
the submission process forks a fresh call process for the cases that remain, and
globals are restored before each function: a crash, a hang or a rebound global
costs only the case or the function it hit.

The worker itself never runs student code, and never holds it or its results (a
later submission, a fork of this process, could read them in its own memory). It
enforces the job's wall-clock deadline and kills everything the submission started.

Imports only the standard library, NumPy, and ``protocol``, ``submission`` and ``calls`` (the files beside it).
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import socket
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # -I leaves the script's folder out
import protocol  # noqa: E402
from submission import PR_SET_CHILD_SUBREAPER, prctl, set_dumpable, submission_process  # noqa: E402

HEARTBEAT_S = 1.0  # the grader replaces a worker that is silent for a few of these (stopped, say)


# ---------------------------------------------------------------- worker (trusted side)


def main(argv: list[str]) -> None:
    """Serve jobs from the control socket until it closes."""
    in_pid_namespace = "--pid-namespace" in argv
    control = socket.socket(fileno=int(argv[argv.index("--control-fd") + 1]))
    set_dumpable(False)  # no process of the same user may read or trace this one's memory
    prctl(PR_SET_CHILD_SUBREAPER, 1)  # orphans of a submission (daemons too) become ours, to be killed
    np.random.default_rng(0).standard_normal(4)  # warm NumPy's RNG before any fork
    _send(control, {"t": "ready", "pid": os.getpid(), "numpy": np.__version__})
    while True:
        try:
            message = _receive(control)
        except (OSError, protocol.ProtocolError):
            return
        if message is None:
            return
        header, blobs, fds = message
        if header.get("t") != "job" or len(fds) != 2:
            for fd in fds:
                os.close(fd)
            continue
        _send(control, run_job(header, blobs, fds[0], fds[1], control, in_pid_namespace))


def _send(control: socket.socket, header: dict, blobs: list[bytes] = ()) -> None:
    control.sendall(protocol.pack_frame(header, list(blobs)))


def _receive(control: socket.socket) -> tuple[dict, list[bytes], list[int]] | None:
    """One control frame and the file descriptors sent with it (None when the grader hung up)."""
    data, fds, _, _ = socket.recv_fds(control, 1 << 20, 4)
    if not data:
        return None
    while True:
        frames, rest = protocol.unpack_frames(data)
        if frames:
            return frames[0][0], frames[0][1], list(fds)
        more = control.recv(1 << 20)
        if not more:
            return None
        data += more


def run_job(job: dict, blobs: list[bytes], results_fd: int, code_fd: int, control, in_pid_namespace: bool) -> dict:
    """Fork a submission process for one job and wait for it; return its exit summary.

    The student's code (read from ``code_fd``) and its results (written to ``results_fd``)
    go straight between the submission process and the grader: they never enter this
    long-lived process's memory, where a later submission could look for them.
    """
    workdir = tempfile.mkdtemp(prefix="sub-")
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            control.close()
            os.chdir(workdir)
            submission_process(job, blobs, code_fd, results_fd)
            code = 0
        except BaseException:
            pass
        finally:
            os._exit(code)
    os.close(results_fd)
    os.close(code_fd)
    deadline = started + float(job["limits"]["deadline_s"])
    timed_out = _wait(pid, deadline, control)
    _kill_submission(pid, in_pid_namespace)
    status = _reap(pid)
    _kill_descendants()  # what escaped the session (a daemon, a call process in its own group) came to us
    shutil.rmtree(workdir, ignore_errors=True)
    if in_pid_namespace:  # the sandbox's /tmp and /dev/shm are this worker's own: empty them for the next one
        _empty("/tmp")
        _empty("/dev/shm")
    return {
        "t": "outcome",
        "timed_out": timed_out,
        "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "elapsed_s": round(time.monotonic() - started, 6),
    }


def _empty(folder: str) -> None:
    """Remove everything in ``folder`` (links are removed, never followed)."""
    try:
        entries = os.listdir(folder)
    except OSError:
        return
    for name in entries:
        path = os.path.join(folder, name)
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)
        except OSError:
            pass


def _wait(pid: int, deadline: float, control) -> bool:
    """Wait for the submission process to end, at most until ``deadline``; say whether it timed out."""
    pidfd = os.pidfd_open(pid)
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return True
            ready, _, _ = select.select([pidfd], [], [], min(left, HEARTBEAT_S))
            if ready:
                return False
            _send(control, {"t": "alive"})
    finally:
        os.close(pidfd)


def _kill_submission(pid: int, in_pid_namespace: bool) -> None:
    """Kill the submission process and everything it started, whatever it did to its signals."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass
    if in_pid_namespace and os.getpid() <= 2:
        # Inside the sandbox's own PID namespace: every other process is the submission's.
        try:
            os.kill(-1, signal.SIGKILL)
        except OSError:
            pass


def _kill_descendants() -> None:
    """SIGKILL every child of this worker (a subreaper: orphans of the submission land here), until none is left."""
    me = os.getpid()
    for _ in range(100):
        children = _children_of(me)
        if not children:
            return
        for child in children:
            for kill in (os.killpg, os.kill):
                try:
                    kill(child, signal.SIGKILL)
                except OSError:
                    pass
        time.sleep(0.001)
        _reap_any()


def _children_of(parent: int) -> list[int]:
    """The pids whose parent is ``parent`` (from /proc)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 1 and int(fields[1]) == parent and fields[0] != b"Z":
            found.append(int(name))
    return found


def _reap_any() -> None:
    """Reap every child that has exited, without waiting."""
    while True:
        try:
            other, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if other == 0:
            return


def _reap(pid: int) -> int:
    """Wait for the submission process; also reap any orphan that was re-parented to us."""
    _, status = os.waitpid(pid, 0)
    _reap_any()
    return status


if __name__ == "__main__":
    main(sys.argv[1:])
