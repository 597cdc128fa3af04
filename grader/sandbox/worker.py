"""The sandboxed fork server: the only place where student code runs.

Started as ``python -I worker.py --control-fd N [--pid-namespace]`` by
:mod:`grader.sandbox.pool`, it imports NumPy once, then serves jobs received on a
Unix socket (fd N), one at a time; each job comes with two pipes, one carrying the
student's code in, one carrying the results out, straight to the grader. For each
job it forks a *submission process* that loads the student's code (a module, or
notebook cells one by one), calls the graded functions on the job's cases and
streams back plain numbers. Globals are restored before each function. Before each
call the submission process writes the call's number into a small shared page; the
worker reads it to enforce the time limit of each call (and of the top-level code),
and says in the job's outcome which call was running when the process died or was
stopped, so that the grader can go on with the cases after it in a fresh job: a
crash or a hang costs only the case it hit.

The worker itself never runs student code, and never holds it or its results (a
later submission, a fork of this process, could read them in its own memory). It
enforces the wall-clock limits and kills everything the submission started.

Imports only the standard library, NumPy, and ``protocol``, ``submission`` and ``calls`` (the files beside it).
"""

from __future__ import annotations

import gc
import importlib
import mmap
import os
import select
import signal
import socket
import stat
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # -I leaves the script's folder out
import protocol  # noqa: E402
from submission import LOADING, PR_SET_CHILD_SUBREAPER, prctl, set_dumpable, submission_process, warm_up  # noqa: E402

# Every module this process has loaded makes each fork and each exit of a submission process dearer: an
# extension module maps five regions, copied at each fork and unmapped at each exit (numpy.random alone,
# ten of them, cost about 1 ms per submission). So nothing is imported here that a job does not need:
# not numpy.random (a submission that uses it imports it itself), and tempfile (random, hashlib) only
# where a folder is to be made, outside a PID namespace of the sandbox's own.

HEARTBEAT_S = 1.0  # the grader replaces a worker that is silent for a few of these (stopped, say)


# ---------------------------------------------------------------- worker (trusted side)


def main(argv: list[str]) -> None:
    """Serve jobs from the control socket until it closes."""
    # Only inside the sandbox's own PID namespace (where this is one of its first processes) are every
    # other process, /tmp and /dev/shm this worker's own, to kill and empty: never trust the flag alone.
    in_pid_namespace = "--pid-namespace" in argv and os.getpid() <= 2
    control = socket.socket(fileno=int(argv[argv.index("--control-fd") + 1]))
    bwrap_alive = _watch_bwrap(argv)
    if os.getpid() == 1:  # the sandbox's init (bwrap --as-pid-1): the kernel drops what a process of the
        # namespace sends it for a signal it has no handler for, so Python's SIGINT handler goes, and nothing a
        # submission sends stops this process (its submission processes keep SIGINT's default: restoring Python's
        # handler in each would cost some ten page faults, and a SIGINT it sends itself is then a death by signal)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    set_dumpable(False)  # no process of the same user may read or trace this one's memory
    prctl(PR_SET_CHILD_SUBREAPER, 1)  # orphans of a submission (daemons too) become ours, to be killed
    a = np.arange(4.0).reshape(2, 2) + np.eye(2)  # linear algebra works here (this start may stand for the probe)
    if not np.allclose(a @ np.linalg.solve(a, np.ones(2)), 1):
        return
    if "--preload" in argv:  # heavy modules the submissions of this worker import (SciPy)
        for name in argv[argv.index("--preload") + 1].split(","):
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - then the submission imports it itself, or fails to
                pass
    progress = memoryview(mmap.mmap(-1, mmap.PAGESIZE)).cast("Q")  # shared with each submission process
    _send(control, {"t": "ready", "pid": os.getpid(), "numpy": np.__version__})
    last: tuple[bytes, dict] = (b"", {})
    while True:
        if bwrap_alive is not None and bwrap_alive in select.select([control, bwrap_alive], [], [])[0]:
            if _bwrap_gone(bwrap_alive):
                return
            continue
        try:
            message = _receive(control)
        except (OSError, protocol.ProtocolError):
            return
        if message is None:
            return
        raw, fds = message
        try:
            if raw != last[0]:  # a batch sends the same job again and again: decode it once
                last = (raw, _decode_job(raw))
                try:
                    warm_up(last[1], progress)
                except Exception:  # noqa: BLE001 - only a saving: the job runs all the same
                    progress[0] = 0
        except (protocol.ProtocolError, KeyError, TypeError, AttributeError, ValueError):
            last = (b"", {})
        job = last[1]
        if job.get("t") != "job" or len(fds) != 2:
            for fd in fds:
                os.close(fd)
            continue
        _send(control, run_job(job, fds[0], fds[1], control, in_pid_namespace, progress, bwrap_alive))


def _watch_bwrap(argv: list[str]) -> int | None:
    """The end of a pipe that reads EOF once bwrap is gone, or None outside bwrap.

    ``--bwrap-fds R,W``: W is bwrap's ``--json-status-fd``, which bwrap holds open until it ends;
    this process closes its own copy. bwrap's --die-with-parent asks the kernel to kill its child
    when bwrap dies, but setpriv's change of user made the kernel forget that (and bwrap, root with
    no capability left, may not signal a process of another user anyway): so the worker watches.
    """
    if "--bwrap-fds" not in argv:
        return None
    read_end, write_end = (int(fd) for fd in argv[argv.index("--bwrap-fds") + 1].split(","))
    try:  # where bwrap left this process a copy (the other end of the same pipe, not some other file)
        if os.fstat(write_end).st_ino == os.fstat(read_end).st_ino:
            os.close(write_end)
    except OSError:
        pass
    return read_end


def _bwrap_gone(fd: int) -> bool:
    """Read what bwrap wrote (its status, in JSON, ignored); whether it is gone (the pipe at its end)."""
    try:
        return not os.read(fd, 1 << 16)
    except OSError:
        return True


def _decode_job(raw: bytes) -> dict:
    """A job frame from the grader, with each call's cases decoded into arguments."""
    frames, _ = protocol.unpack_frames(raw)
    header, blobs = frames[0]
    for call in header.get("calls", []):
        call["inputs"] = [[protocol.decode_value(a, blobs) for a in case] for case in call["cases"]]
    return header


def _send(control: socket.socket, header: dict, blobs: list[bytes] = ()) -> None:
    control.sendall(protocol.pack_frame(header, list(blobs)))


def _receive(control: socket.socket) -> tuple[bytes, list[int]] | None:
    """One control frame, raw, and the file descriptors sent with it (None when the grader hung up)."""
    data, fds, _, _ = socket.recv_fds(control, 1 << 16, 4)  # a job's frame, or its start (a 1 MB buffer costs 20 us)
    if not data:
        return None
    while True:
        length = protocol.frame_length(data)
        if length is not None:
            return data[:length], list(fds)
        more = control.recv(1 << 16)
        if not more:
            return None
        data += more


def run_job(job: dict, results_fd: int, code_fd: int, control, in_pid_namespace: bool, progress: memoryview,
            bwrap_alive: int | None = None) -> dict:
    """Fork a submission process for one job and wait for it; return its exit summary.

    The student's code (read from ``code_fd``) and its results (written to ``results_fd``)
    go straight between the submission process and the grader: they never enter this
    long-lived process's memory, where a later submission could look for them.
    ``progress[0]`` is the number of calls the submission process has started.
    """
    own_cpu = time.process_time()
    # In its own PID namespace the sandbox's /tmp is this worker's alone, and emptied after each job: the
    # submission's working folder. Elsewhere /tmp is shared: a folder of its own, removed after.
    workdir = "/tmp" if in_pid_namespace else _own_folder()
    started = time.monotonic()
    progress[0] = 0
    _clear_place(progress)
    gc.freeze()  # the collector of the submission process leaves this process's objects (and their pages) alone
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            control.close()
            os.chdir(workdir)
            submission_process(job, code_fd, results_fd, progress)
            code = 0
        except BaseException:
            pass
        finally:
            os._exit(code)
    os.close(results_fd)
    os.close(code_fd)
    stopped = _wait(pid, job["limits"], started, control, progress, bwrap_alive)
    calls_started = int(progress[0])  # the call running at the limit, before the submission is asked where it is
    loading = int(progress[LOADING])  # the chunk its top-level code was running, if it was
    stuck_at = _locate(pid, progress) if stopped else None
    _kill_submission(pid, in_pid_namespace)
    status, usage = _reap(pid)
    _kill_descendants()  # what escaped the session (a daemon, a process in its own group) came to us
    if not in_pid_namespace:
        _empty(workdir, 0o700)
        _quietly(os.rmdir, workdir, dir_fd=None)
    else:  # the sandbox's /tmp and /dev/shm are this worker's own: empty them (and open them again) for the next one
        _empty("/tmp", 0o1777)
        _empty("/dev/shm", 0o1777)
    return {
        "t": "outcome",
        "timed_out": stopped is not None,
        "stopped": stopped,
        "stuck_at": stuck_at,
        "loading": loading,
        "calls_started": calls_started,
        "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "elapsed_s": round(time.monotonic() - started, 6),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 6),  # the submission's processes (those it waited for)
        "page_faults": usage.ru_minflt,
        "worker_cpu_s": round(time.process_time() - own_cpu, 6),  # this process's own work for the job
    }


def _own_folder() -> str:
    """A new private folder for a job's files, where /tmp is shared (outside the sandbox's PID namespace)."""
    import tempfile

    return tempfile.mkdtemp(prefix="sub-")


_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW  # how _empty opens a folder: never through a link


def _empty(folder: str, mode: int) -> None:
    """Give ``folder`` its ``mode`` again, and remove everything in it that lies on its own file system.

    What another file system holds is never entered: the sandbox's read-only binds of the
    grader's own Python stand under /tmp when the grader is installed there, and walking them
    after every job would cost their thousands of files each time. Links are removed, never
    followed. Every step is relative to an open folder, two at a time: no depth of folders (nor
    a path past PATH_MAX) that a submission made stops it, and a folder it made unreadable (the
    top one too: the sandbox's /tmp is the sandbox user's own) is made readable first. Run once
    every process of the job is dead, so that nothing changes under it.
    """
    try:
        if stat.S_ISDIR(os.lstat(folder).st_mode):  # a folder, not a link put in its place
            os.chmod(folder, mode)
    except OSError:  # not this user's (the sandbox's /tmp when the grader runs as root): nobody else's either
        pass
    try:
        fd = os.open(folder, _FOLDER)
    except OSError:
        return
    try:
        device = os.fstat(fd).st_dev
        levels, names = [_names(fd)], []  # names still to remove at each level; the path down, by name
        while levels:
            if not levels[-1]:  # this folder is done with: back up, and remove it if it is empty now
                levels.pop()
                if not names:
                    break
                parent = os.open("..", _FOLDER, dir_fd=fd)
                os.close(fd)
                fd = parent
                _quietly(os.rmdir, names.pop(), dir_fd=fd)  # fails where it holds a mount point: left there
                continue
            name = levels[-1].pop()
            try:
                info = os.stat(name, dir_fd=fd, follow_symlinks=False)
            except OSError:
                continue
            if info.st_dev != device:  # a mount point: not the submission's
                continue
            if not stat.S_ISDIR(info.st_mode):
                _quietly(os.unlink, name, dir_fd=fd)
                continue
            if _quietly(os.rmdir, name, dir_fd=fd):
                continue
            child = _folder_below(fd, name, device)
            if child is None:
                continue
            os.close(fd)
            fd = child
            names.append(name)
            levels.append(_names(fd))
    except OSError:  # ".." could not be opened: what is left stays (the next job's own files are apart from it)
        pass
    finally:
        os.close(fd)


def _names(fd: int) -> list[str]:
    """The names in the open folder ``fd`` (none if it cannot be read)."""
    try:
        return os.listdir(fd)
    except OSError:
        return []


def _folder_below(fd: int, name: str, device: int) -> int | None:
    """The folder ``name`` of ``fd``, made readable and opened; None if it cannot be, or is another file system's."""
    try:
        os.chmod(name, 0o700, dir_fd=fd)  # a folder (not a link: nothing runs to swap it) made unreadable
        child = os.open(name, _FOLDER, dir_fd=fd)
    except OSError:
        return None
    try:
        if os.fstat(child).st_dev == device:
            return child
    except OSError:
        pass
    os.close(child)
    return None


def _quietly(remove, name: str, dir_fd: int | None) -> bool:
    """``remove(name, dir_fd=dir_fd)``; whether it worked."""
    try:
        remove(name, dir_fd=dir_fd)
        return True
    except OSError:
        return False


def _wait(pid: int, limits: dict, started: float, control, progress: memoryview, bwrap_alive: int | None) -> str | None:
    """Wait for the submission process to end; stop waiting when a limit is reached.

    Returns None when it ended, else which limit it reached: "load" (its top-level code
    ran past ``load_s``), "call" (one call ran past ``call_s``) or "job" (the job's deadline).
    A call is timed from when this process first saw its number in ``progress``, polled
    a few times per ``call_s``. When bwrap is gone (``bwrap_alive`` readable), this process ends at once:
    the init of the sandbox's PID namespace, it takes every process left there with it.
    """
    deadline = started + float(limits["deadline_s"])
    call_s, load_s = float(limits["call_s"]), float(limits["load_s"])
    poll = max(0.02, min(HEARTBEAT_S / 4, call_s / 8))  # a call is timed from when it is seen: at most a poll late
    seen = 0
    phase_end = started + load_s
    next_beat = started + HEARTBEAT_S
    pidfd = os.pidfd_open(pid)
    watched = [pidfd] if bwrap_alive is None else [pidfd, bwrap_alive]
    try:
        while True:
            now = time.monotonic()
            current = int(progress[0])
            if current != seen:
                seen, phase_end = current, now + call_s
            if now >= deadline:
                return "job"
            if now >= phase_end:
                return "call" if seen else "load"
            if now >= next_beat:
                _send(control, {"t": "alive"})
                next_beat = now + HEARTBEAT_S
            ready, _, _ = select.select(watched, [], [], max(0.0, min(deadline, phase_end, now + poll) - now))
            if bwrap_alive in ready and _bwrap_gone(bwrap_alive):
                os._exit(0)
            if pidfd in ready:
                return None
    finally:
        os.close(pidfd)


LOCATE_S = 0.2  # how long a submission stopped at a time limit is given to say where it was


def _locate(pid: int, progress: memoryview) -> list[int] | None:
    """Where a submission stopped at a time limit was: [chunk number, line] of the innermost frame of the
    student's code, then of the outermost when it is another one; None when it did not say.

    SIGUSR2 makes its process write them in ``progress[1:5]``, then a 1 in ``progress[5]``, and stop
    itself (see ``submission.answer_where``); the handler runs between two bytecodes, so a process stuck
    in C code, or that took the signal over, says nothing within LOCATE_S. The page is emptied again
    after: the next submission forked from this worker finds nothing of this one there. Plain numbers,
    checked by the grader like everything else that comes from the submission.
    """
    _clear_place(progress)
    try:
        os.kill(pid, signal.SIGUSR2)
        pidfd = os.pidfd_open(pid)
    except OSError:
        return None
    try:
        end = time.monotonic() + LOCATE_S
        while not progress[5] and time.monotonic() < end:
            if select.select([pidfd], [], [], 0.002)[0]:  # it ended (killed by the signal, say): no answer
                break
    finally:
        os.close(pidfd)
    answered = [int(n) for n in progress[1:5]] if progress[5] else []
    _clear_place(progress)
    places = answered[:4] if answered[2:4] != [0, 0] else answered[:2]
    return places if places and all(places) else None


def _clear_place(progress: memoryview) -> None:
    progress[1:7] = memoryview(bytes(8 * 6)).cast("Q")


def _kill_submission(pid: int, in_pid_namespace: bool) -> None:
    """Kill the submission process and everything it started, whatever it did to its signals."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass
    if in_pid_namespace:
        # Inside the sandbox's own PID namespace: every other process is the submission's.
        try:
            os.kill(-1, signal.SIGKILL)
        except OSError:
            pass


def _kill_descendants() -> None:
    """SIGKILL every child of this worker (a subreaper: orphans of the submission land here), until none is left.

    Most jobs leave none: then one ``waitpid`` says so, and /proc is not read.
    """
    me = os.getpid()
    for _ in range(100):
        if not _reap_any():
            return
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


def _reap_any() -> bool:
    """Reap every child that has exited, without waiting; whether any child is left (alive, or not yet dead)."""
    while True:
        try:
            other, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return False
        if other == 0:
            return True


def _reap(pid: int):
    """Wait for the submission process (its exit status and resource usage); also reap any orphan."""
    _, status, usage = os.wait4(pid, 0)
    _reap_any()
    return status, usage


if __name__ == "__main__":
    main(sys.argv[1:])
