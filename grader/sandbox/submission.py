"""The student's side of a job: load the submission's code, call its functions, send back plain numbers.

Runs in the *submission process*, forked by the worker (``worker.py``) for each job,
and in the *call processes* it forks in turn. Everything here may be tampered with by
the student's code once it has run, so nothing here is trusted: the grader validates
what arrives. Imports only the standard library, and ``protocol`` and ``calls`` (NumPy through them).
"""

from __future__ import annotations

import builtins
import os
import resource
import select
import signal
import sys
import time
import types

import protocol
from calls import call_once, error_summary

STREAM_CAP = 32 * 1024 * 1024  # what a call process may send back through its submission process
MAX_CALL_FAILURES = 2


# ---------------------------------------------------------------- submission process (untrusted)


PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER = 4, 36


def prctl(option: int, value: int) -> None:
    """Linux prctl(2), best effort."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def set_dumpable(flag: bool) -> None:
    """Whether processes of the same user may ptrace this one or open its /proc/PID/mem."""
    prctl(PR_SET_DUMPABLE, int(flag))


def submission_process(job: dict, blobs: list[bytes], code_fd: int, out_fd: int) -> None:
    """Load the student's code, then call each requested function in a call process."""
    os.setsid()
    set_dumpable(True)  # its own memory holds nothing but its own code and the shared inputs
    job["chunks"], job["mode"] = _read_code(code_fd)
    _isolate_fds(out_fd)
    _apply_limits(job["limits"])
    calls = [(c, [[protocol.decode_value(a, blobs) for a in case] for case in c["cases"]]) for c in job["calls"]]
    out = os.fdopen(out_fd, "wb", buffering=0)
    namespace: dict = {"__name__": "__submission__", "__builtins__": builtins}
    sys.modules["grader"] = grader_stub()
    student_files = {chunk["name"] for chunk in job["chunks"]}
    chunk_errors = []
    me = os.getpid()
    for chunk in job["chunks"]:
        try:
            exec(compile(chunk["code"], chunk["name"], "exec", dont_inherit=True), namespace)
        except BaseException as exc:  # noqa: BLE001 - a student's exception is a result
            if os.getpid() != me:
                os._exit(0)
            error = error_summary(exc, student_files)
            if job["mode"] == "module":
                out.write(protocol.pack_frame({"t": "load_error", "chunk": chunk["name"], "error": error}))
                return
            chunk_errors.append({"chunk": chunk["name"], "error": error})
    if os.getpid() != me:  # a process forked by the student's top-level code
        os._exit(0)
    out.write(protocol.pack_frame({"t": "loaded", "chunk_errors": chunk_errors}))
    work = []
    for call, cases in calls:
        fn = namespace.get(call["function"])
        if callable(fn):
            work.append((fn, call, cases))
        else:
            kind = "absent" if fn is None else type(fn).__name__
            out.write(protocol.pack_frame({"t": "missing", "function": call["function"], "found": kind}))
    _run_calls(work, namespace, out, float(job["limits"]["call_s"]), student_files)
    out.write(protocol.pack_frame({"t": "done"}))


def grader_stub() -> types.ModuleType:
    """What ``import grader`` gives the student's code here: a ``check`` that does nothing.

    A notebook may end with ``from grader import check; check()``, the student's own
    loop in Jupyter; being graded, it must neither fail nor run the tests again.
    """
    stub = types.ModuleType("grader", "the grader's stand-in inside the sandbox")
    stub.check = lambda *args, **kwargs: None
    return stub


def _read_code(fd: int) -> tuple[list[dict], str]:
    """The student's code chunks and how to run them, sent on their own pipe (read to its end, then closed)."""
    with os.fdopen(fd, "rb") as stream:
        data = stream.read(protocol.MAX_HEADER * 8)
    frames, _ = protocol.unpack_frames(data)
    if not frames:
        return [], "module"
    header = frames[0][0]
    return [c for c in header.get("chunks", []) if isinstance(c, dict)], str(header.get("mode", "module"))


def _isolate_fds(keep: int) -> None:
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.closerange(3, keep)
    os.closerange(keep + 1, 1 << 16)


def _apply_limits(limits: dict) -> None:
    mb = 1024 * 1024
    cpu = int(limits["cpu_s"])
    settings = [
        (resource.RLIMIT_CPU, (cpu, cpu + 2)),
        (resource.RLIMIT_AS, (int(limits["memory_mb"]) * mb,) * 2),
        (resource.RLIMIT_FSIZE, (int(limits["file_mb"]) * mb,) * 2),
        (resource.RLIMIT_NOFILE, (int(limits["open_files"]),) * 2),
        (resource.RLIMIT_CORE, (0, 0)),
    ]
    if limits.get("processes") is not None:  # else a pids cgroup bounds the whole worker
        settings.append((resource.RLIMIT_NPROC, (int(limits["processes"]),) * 2))
    for which, value in settings:
        try:
            resource.setrlimit(which, value)
        except (ValueError, OSError):
            pass
    try:  # under memory pressure, the kernel kills the submission, not the worker
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("1000")
    except OSError:
        pass


def _run_calls(work: list, namespace: dict, out, call_s: float, student_files: set[str]) -> None:
    """Run every call in a call process; after a crash or a hang, go on in a fresh one.

    Forking costs milliseconds, so one call process serves the whole submission while it
    behaves; its globals are restored before each function, so a rebound global stays local.
    A case that crashes or hangs costs only itself; two such cases skip the rest of that function.
    """
    position = (0, 0)
    failures = [0] * len(work)
    while position[0] < len(work):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(r)
                os.setpgid(0, 0)  # its own group, so that what it forks dies with it
                _call_process(work, namespace, position, os.fdopen(w, "wb", buffering=0), student_files)
            finally:
                os._exit(0)
        os.close(w)
        state, position = _relay_calls(r, out, call_s, position, work)
        os.close(r)
        for kill in (os.killpg, os.kill):
            try:
                kill(pid, signal.SIGKILL)
            except OSError:
                pass
        _, status = os.waitpid(pid, 0)
        if state == "finished":
            return
        fi, case = position
        if fi >= len(work):
            return
        name = work[fi][1]["function"]
        record = {"t": state, "function": name, "case": case}
        if state == "crash":
            record["signal"] = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
            record["exit_code"] = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
        out.write(protocol.pack_frame(record))
        failures[fi] += 1
        position = _advance(work, fi, case)
        if failures[fi] >= MAX_CALL_FAILURES and position[0] == fi:
            out.write(protocol.pack_frame({"t": "skipped", "function": name, "from_case": position[1], "after": state}))
            position = (fi + 1, 0)


def _advance(work: list, fi: int, case: int) -> tuple[int, int]:
    """The position after (function fi, case)."""
    if case + 1 < len(work[fi][2]):
        return fi, case + 1
    return fi + 1, 0


def _relay_calls(fd: int, out, call_s: float, position: tuple[int, int], work: list) -> tuple[str, tuple[int, int]]:
    """Relay a call process's result frames as they are; return how it stopped and the case it was on.

    Each result restarts the clock of the next call; the stream ending with every case answered
    is a finish, ending before is a crash.
    """
    buffer = b""
    deadline = time.monotonic() + call_s
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return "timeout", position
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return ("finished" if position[0] >= len(work) else "crash"), position
        if len(buffer) + len(chunk) > STREAM_CAP:
            return "crash", position
        buffer += chunk
        try:
            frames, rest = protocol.unpack_frames(buffer)
        except protocol.ProtocolError:
            return "crash", position
        if frames:
            out.write(buffer[: len(buffer) - len(rest)])
            buffer = rest
            header = frames[-1][0]
            position = _advance(work, int(header.get("index", 0)), int(header.get("case", 0)))
            deadline = time.monotonic() + call_s


def _call_process(work: list, namespace: dict, position: tuple[int, int], out, student_files: set[str]) -> None:
    """Call each student function on its cases from ``position`` on, one record per case."""
    snapshot = dict(namespace)
    first_fi, first_case = position
    me = os.getpid()
    for fi in range(first_fi, len(work)):
        fn, call, cases = work[fi]
        namespace.clear()
        namespace.update(snapshot)
        name, returns = call["function"], call["returns"]
        for index in range(first_case if fi == first_fi else 0, len(cases)):
            record, blobs = call_once(fn, cases[index], call["params"], returns, student_files)
            if os.getpid() != me:  # a process the student forked came back here: it has no business on
                os._exit(0)
            record.update({"t": "result", "function": name, "index": fi, "case": index})
            out.write(protocol.pack_frame(record, blobs))
