"""A pool of long-lived sandboxed workers (fork servers), and the job a submission sends them."""

from __future__ import annotations

import os
import queue
import select
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.sandbox import protocol
from grader.sandbox.limits import Limits
from grader.sandbox.outcome import SubmissionRun, parse_run

WORKER_SCRIPT = Path(__file__).with_name("worker.py")
STARTUP_S = 60.0
REPLY_MARGIN_S = 15.0
PASSED_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


@dataclass(frozen=True)
class Call:
    """One student function to call on a list of cases (each a list of positional arguments)."""

    function: str
    params: tuple[str, ...]
    returns: str
    cases: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True)
class Job:
    """What a submission's process is asked to do: load these code chunks, make these calls."""

    chunks: tuple[tuple[str, str], ...]  # (file or cell name, code)
    mode: str  # "module": one failure stops the load; "cells": each chunk on its own
    calls: tuple[Call, ...]

    def frame(self, limits: Limits, uid: int | None, gid: int | None) -> bytes:
        """The job as a protocol frame."""
        blobs: list[bytes] = []
        calls = [
            {
                "function": c.function,
                "params": list(c.params),
                "returns": c.returns,
                "cases": [[protocol.encode_value(a, blobs) for a in case] for case in c.cases],
            }
            for c in self.calls
        ]
        header = {
            "t": "job",
            "mode": self.mode,
            "chunks": [{"name": n, "code": code} for n, code in self.chunks],
            "calls": calls,
            "limits": limits.as_job(sum(len(c.cases) for c in self.calls), uid, gid),
        }
        return protocol.pack_frame(header, blobs)


@dataclass(frozen=True)
class Launcher:
    """How worker processes are started: plainly, or wrapped in a sandbox."""

    name: str = "process"
    wrap: tuple[str, ...] = ()
    in_pid_namespace: bool = False
    uid: int | None = None
    gid: int | None = None
    note: str = ""

    def argv(self) -> list[str]:
        """The command that starts one worker."""
        inner = [sys.executable, "-I", str(WORKER_SCRIPT)]
        if self.in_pid_namespace:
            inner.append("--pid-namespace")
        return [*self.wrap, *inner]


def worker_env(home: str) -> dict[str, str]:
    """The minimal environment of a worker: nothing of the instructor's own variables."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "LANG": "C.UTF-8",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.update({k: os.environ[k] for k in PASSED_ENV if k in os.environ})
    return env


class WorkerLost(Exception):
    """A worker died or stopped answering."""


class _Worker:
    """One fork-server process and its pipes."""

    def __init__(self, launcher: Launcher) -> None:
        self.home = tempfile.mkdtemp(prefix="grader-worker-")
        self.proc = subprocess.Popen(
            launcher.argv(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=worker_env(self.home),
            cwd=self.home,
            start_new_session=True,
            close_fds=True,
        )
        self.buffer = b""
        self.submission_pid: int | None = None
        header, _ = self._read_frame(time.monotonic() + STARTUP_S)
        if header.get("t") != "ready":
            self.kill()
            raise WorkerLost("the worker did not start")

    def request(self, frame: bytes, timeout: float) -> tuple[dict[str, Any], list[bytes]]:
        """Send a job and wait for its outcome frame."""
        try:
            self.proc.stdin.write(frame)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise WorkerLost(f"the worker stopped reading ({exc.__class__.__name__})") from None
        return self._read_frame(time.monotonic() + timeout)

    def _read_frame(self, deadline: float) -> tuple[dict[str, Any], list[bytes]]:
        fd = self.proc.stdout.fileno()
        while True:
            try:
                frames, self.buffer = protocol.unpack_frames(self.buffer)
            except protocol.ProtocolError as exc:
                raise WorkerLost(f"the worker's reply was garbled ({exc})") from None
            if frames:
                if len(frames) > 1:
                    raise WorkerLost("the worker sent more than one reply")
                return frames[0]
            left = deadline - time.monotonic()
            if left <= 0:
                raise WorkerLost("the worker did not answer in time")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    raise WorkerLost("the worker exited")
                self.buffer += chunk

    def kill(self) -> None:
        """Kill the worker and its whole process group."""
        for pid in (self.proc.pid,):
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        _remove_tree(self.home)


def _remove_tree(path: str) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


class WorkerPool:
    """A few fork-server workers; ``run`` grades one job on whichever is free. Thread-safe."""

    def __init__(self, size: int, launcher: Launcher, limits: Limits) -> None:
        self.launcher = launcher
        self.limits = limits
        self._idle: queue.Queue[_Worker | None] = queue.Queue()
        self._all: list[_Worker] = []
        for _ in range(max(1, size)):
            self._idle.put(None)  # started lazily, in the thread that first needs it

    def run(self, job: Job) -> SubmissionRun:
        """Run one job; a worker that dies or hangs is replaced and the job reported as such."""
        calls = {c.function: len(c.cases) for c in job.calls}
        frame = job.frame(self.limits, self.launcher.uid, self.launcher.gid)
        timeout = self.limits.deadline_s(sum(calls.values())) + REPLY_MARGIN_S
        worker = self._idle.get()
        try:
            if worker is None:
                worker = self._start()
            header, blobs = worker.request(frame, timeout)
        except WorkerLost as exc:
            if worker is not None:
                worker.kill()
                self._forget(worker)
            self._idle.put(None)
            return parse_run(b"", calls, {"timed_out": "in time" in str(exc), "exit_code": None, "signal": None})
        self._idle.put(worker)
        data = blobs[0] if blobs else b""
        return parse_run(data, calls, header)

    def _start(self) -> _Worker:
        worker = _Worker(self.launcher)
        self._all.append(worker)
        return worker

    def _forget(self, worker: _Worker) -> None:
        if worker in self._all:
            self._all.remove(worker)

    def close(self) -> None:
        """Stop every worker."""
        for worker in list(self._all):
            worker.kill()
        self._all.clear()

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
