"""A pool of long-lived sandboxed workers (fork servers), and the job a submission sends them."""

from __future__ import annotations

import functools
import importlib.util
import marshal
import os
import queue
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from grader.sandbox import bwrap, protocol
from grader.sandbox.bwrap import SandboxConfig
from grader.sandbox.cgroups import WorkerCgroup
from grader.sandbox.limits import Limits
from grader.sandbox.outcome import SubmissionRun, Transcript, number
from grader.source.model import Module

WORKER_SCRIPT = Path(__file__).with_name("worker.py")
STARTUP_S = 60.0
REPLY_MARGIN_S = 15.0
RESULTS_CAP = 32 * 1024 * 1024  # bytes of results a submission may send; beyond, its run is "garbled"
READ_SIZE = 1 << 16  # a pipe's capacity: a larger read only allocates (and frees) a larger buffer
SILENCE_S = 5.0  # a worker sends a heartbeat every second while it waits; silence this long means it is stuck
SETTLE_S = 2.0  # how long a job that said "done" may take to end before its worker is replaced (it takes ~2 ms)
DONE = protocol.pack_frame({"t": "done"})  # the last bytes a submission process writes, once every call is made
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
    preload: tuple[str, ...] = ()  # heavy modules the code imports: run it on a worker that has them loaded
    compiled: tuple[bytes, ...] = ()  # each chunk's code object, marshalled (compiled here once, not in the sandbox)
    modules: tuple[str, ...] = ()  # the first chunks are the student's own modules, these, importable by these names

    @classmethod
    def of(cls, source: Any, calls: tuple[Call, ...]) -> "Job":
        """The job that runs a submission's code (a ``Source``: its chunks, mode, imports, compiled code, and its own
        modules, importable there) and makes ``calls``."""
        modules = [*getattr(source, "modules", []), *_importable_as_itself(source)]
        chunks = tuple((m.label, m.code) for m in modules) + tuple(source.chunks)
        compiled = tuple(m.compiled for m in modules) + tuple(source.compiled) \
            if len(source.compiled) == len(source.chunks) else ()
        return cls(chunks, source.mode, calls, preload_for(source.imports), compiled, tuple(m.name for m in modules))

    def frame(self, limits: Limits, processes: int | None = None, deadline_s: float | None = None) -> bytes:
        """The job's control frame: the calls and the limits, the same for a whole batch (the code goes apart).

        ``processes`` is the RLIMIT_NPROC to set (None when a pids cgroup bounds the worker instead);
        ``deadline_s`` shortens the job's wall-clock budget (for a run after a crash).
        """
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
            "calls": calls,
            "limits": limits.as_job(sum(len(c.cases) for c in self.calls), processes),
        }
        if deadline_s is not None:
            header["limits"]["deadline_s"] = min(header["limits"]["deadline_s"], deadline_s)
        return protocol.pack_frame(header, blobs)

    def code(self, todo: dict[int, list[int]] | None = None) -> bytes:
        """The student's code, as sent on the job's code pipe (never through the worker): marshalled.

        Marshal goes one way only, from the grader into the sandbox, where it is read before any of
        the student's code runs (nothing that comes out of the sandbox is ever unmarshalled).
        ``todo`` lists the cases to call, by function index (None: every case).
        """
        compiled = len(self.compiled) == len(self.chunks)  # else each chunk is compiled there
        chunks = [{"name": n, "code": code, "compiled": self.compiled[i] if compiled else None,
                   "module": self.modules[i] if i < len(self.modules) else None}
                  for i, (n, code) in enumerate(self.chunks)]
        return marshal.dumps({"mode": self.mode, "chunks": chunks, "todo": todo})


class Runner(Protocol):
    """What runs a job: the sandboxed :class:`WorkerPool`, or the notebook's check in the student's own kernel."""

    def run(self, job: Job) -> SubmissionRun: ...


@dataclass(frozen=True)
class Launcher:
    """How worker processes are started: in a bubblewrap sandbox, or as plain processes with rlimits."""

    name: str = "process"  # "bwrap" or "process"
    sandbox: SandboxConfig | None = None  # set for "bwrap"
    cgroups: tuple[int, int] | None = None  # (processes, memory MB) per worker, when cgroups are usable
    note: str = ""

    @property
    def in_pid_namespace(self) -> bool:
        return self.name == "bwrap"

    @property
    def contains_submissions(self) -> bool:
        """Whether stopping a worker stops every process its submissions started (its PID namespace or cgroups)."""
        return self.in_pid_namespace or self.cgroups is not None

    def command(self, control_fd: int, preload: tuple[str, ...] = (),
                bwrap_fds: tuple[int, int] | None = None) -> tuple[list[str], WorkerCgroup | None]:
        """The command that starts one worker (talking on ``control_fd``, with ``preload`` imported),
        and the cgroup it will join (if any). ``bwrap_fds``: a pipe's ends, by which the worker
        notices that bwrap is gone (see ``_watch_bwrap`` in worker.py)."""
        inner = [sys.executable, "-I", str(WORKER_SCRIPT), "--control-fd", str(control_fd)]
        if preload:
            inner += ["--preload", ",".join(preload)]
        if self.in_pid_namespace:
            inner.append("--pid-namespace")
        if bwrap_fds:
            inner += ["--bwrap-fds", ",".join(map(str, bwrap_fds))]
        argv = (bwrap.bwrap_argv(inner, self.sandbox, worker_dir=WORKER_SCRIPT.parent, as_pid_1=True,  # see worker.py
                                 status_fd=bwrap_fds[1] if bwrap_fds else None)
                if self.sandbox else inner)
        if self.cgroups is None:
            return argv, None
        group = WorkerCgroup.create(*self.cgroups)
        return group.wrap(argv), group

    def describe(self) -> dict[str, float]:
        """The sandbox's own limits, for the report."""
        out: dict[str, float] = {}
        if self.sandbox:
            out["tmp_mb"] = self.sandbox.tmp_size_mb
        if self.cgroups:
            out["worker_processes"], out["worker_memory_mb"] = self.cgroups
        return out


def worker_env(home: str) -> dict[str, str]:
    """The minimal environment of a worker: nothing of the instructor's own variables."""
    env = dict(bwrap.BASE_ENV, PATH="/usr/local/bin:/usr/bin:/bin", HOME=home)  # as in the sandbox, but HOME
    env.update({k: os.environ[k] for k in PASSED_ENV if k in os.environ})
    return env


PRELOADS = {"scipy": ("scipy.special", "scipy.linalg"),  # package imported -> what its workers load first
            "matplotlib": ("matplotlib.pyplot",)}  # (where this Python has it: notebooks that draw their curves)
# (a worker with SciPy costs about three times as much to fork, so only submissions that import it get one)


def _importable_as_itself(source: Any) -> list[Module]:
    """The graded .py file as a module of its own name, when the code imports that name (a helpers.py doing ``from
    softmax_gradients import softmax``): as in Python, where the script's file beside it is imported as a module,
    run a second time. None (an empty list) for a notebook, or a name the sandbox gives another module."""
    name = getattr(source, "module_name", "")
    if source.mode != "module" or len(source.chunks) != 1 or not name.isidentifier() or name not in source.imports \
            or name in SANDBOX_OWN or name in sys.stdlib_module_names:
        return []
    (label, code), = source.chunks
    return [Module(name, label, code, source.compiled[0] if len(source.compiled) == 1 else b"", source.sha256)]


SANDBOX_OWN = frozenset({"worker", "submission", "calls", "protocol", "grader", "numpy", *PRELOADS})
# names a submission process has imported before the student's code runs (its own files, beside worker.py; the
# stand-in for ``grader``; NumPy, and what a worker may preload), which an ``import`` there gives whatever file of
# the student's has the same name


def preload_for(imports: set[str]) -> tuple[str, ...]:
    """The modules to have loaded for code that imports ``imports`` (those that this Python has)."""
    return tuple(m for package in sorted(imports) if package in PRELOADS and installed(package)
                 for m in PRELOADS[package])


@functools.lru_cache(maxsize=None)
def installed(package: str) -> bool:
    """Whether this Python (the one the sandbox runs) has ``package`` (asked once per package and process)."""
    try:
        return importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):
        return False


_IMPORTED = {package: re.compile(rb"\b(?:import|from)[ \t]+" + package.encode() + rb"\b") for package in PRELOADS}


def likely_preload(data: bytes) -> tuple[str, ...]:
    """What ``preload_for`` will most likely say of the code in a file holding ``data``: a guess from the
    ``import``/``from`` of the packages anywhere in it (in a notebook's JSON, in a comment too), cheap
    enough to make for every file of a batch before any is read."""
    return preload_for({package for package, imported in _IMPORTED.items() if imported.search(data)})


class WorkerLost(Exception):
    """A worker died or stopped answering."""


class _Worker:
    """One fork-server process and its pipes."""

    def __init__(self, launcher: Launcher, preload: tuple[str, ...] = (), wait: bool = True) -> None:
        """Start the worker; with ``wait``, also wait until it says it is ready (else call :meth:`wait_ready`)."""
        self.launcher, self.preload = launcher, preload
        self.home = tempfile.mkdtemp(prefix="grader-worker-")
        self.proc: subprocess.Popen | None = None
        self.cgroup: WorkerCgroup | None = None
        self.control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        bwrap_fds = os.pipe() if launcher.sandbox else None  # passed on; EOF for the worker once bwrap is gone
        self.buffer = b""
        self.owed = 0  # outcomes of jobs taken as finished when their results said "done", not yet read
        self.carry: dict[str, float] = {}  # what those outcomes measured, added to the next outcome returned
        try:
            argv, self.cgroup = launcher.command(theirs.fileno(), preload, bwrap_fds)
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=worker_env(self.home),
                cwd=self.home,
                start_new_session=True,
                close_fds=True,
                pass_fds=(theirs.fileno(), *(bwrap_fds or ())),
            )
        except OSError as exc:
            self.kill()
            raise WorkerLost(f"the worker did not start ({exc})") from None
        except BaseException:  # stopped (Ctrl-C, SIGTERM) while starting: leave no process, group or folder
            self.kill()
            raise
        finally:
            theirs.close()
            for fd in bwrap_fds or ():
                os.close(fd)
        if wait:
            self.wait_ready()

    def wait_ready(self) -> None:
        """Wait for the worker's "ready" (its NumPy imported and checked); WorkerLost if it never comes."""
        try:
            header, _ = self._next_control(time.monotonic() + STARTUP_S)
        except WorkerLost as exc:
            self.kill()
            raise WorkerLost(f"the worker did not start ({exc})") from None
        except BaseException:
            self.kill()
            raise
        if header.get("t") != "ready":
            self.kill()
            raise WorkerLost("the worker did not start")

    def request(self, job: bytes, code: bytes, timeout: float, early: bool = False) -> tuple[dict[str, Any], bytes]:
        """Run one job: send it with a code pipe and a results pipe; return the outcome and the results.

        With ``early``, once the results end with "done" (every call made), they are returned at once,
        with an outcome of this process's own (``"early": True``): the submission process's exit and
        the worker's cleanup then overlap the judging, and the worker's outcome is read before its next
        job (:meth:`settle`). Only where stopping the worker stops all its submission left running.
        Heartbeats keep the wait going; silence for SILENCE_S, or ``timeout`` in all, means the worker
        is lost. Call only once the worker is settled.
        """
        results_r, results_w = os.pipe()
        code_r, code_w = os.pipe()
        os.set_blocking(code_w, False)
        try:
            try:  # the code first, as much as the pipe holds: the submission process then need not wait for this one
                written = os.write(code_w, code[:READ_SIZE])
            except BlockingIOError:
                written = 0
            try:
                socket.send_fds(self.control, [job], [results_w, code_r])
            except OSError as exc:
                os.close(code_w)
                raise WorkerLost(f"the worker stopped listening ({exc.__class__.__name__})") from None
            finally:
                os.close(results_w)
                os.close(code_r)
            return self._collect(results_r, code_w, code[written:], time.monotonic() + timeout, early)
        finally:
            os.close(results_r)

    def settle(self, deadline: float) -> None:
        """Read the outcomes still owed (of jobs returned early); WorkerLost if they do not all come by ``deadline``.

        A job whose results said "done" ends within milliseconds, unless the submission wrote "done"
        itself and lingers: then the worker is still busy with it, and is to be replaced.
        """
        while self.owed:
            header, _ = self._next_control(deadline)
            if header.get("t") != "outcome":  # a heartbeat: the worker still waits for that submission
                continue
            self.owed -= 1
            for key in ("cpu_s", "worker_cpu_s", "page_faults"):
                self.carry[key] = self.carry.get(key, 0.0) + number(header.get(key))

    def _returned(self, header: dict[str, Any]) -> dict[str, Any]:
        """An outcome to return, with what the owed outcomes read since measured added to it."""
        for key, value in self.carry.items():
            header[key] = number(header.get(key)) + value
        self.carry = {}
        return header

    def _collect(self, results: int, code_w: int, code: bytes, deadline: float, early: bool) -> tuple[dict[str, Any], bytes]:
        """Write the rest of the code (then close its pipe), read results and control frames, until the outcome arrives."""
        writing = [code_w]
        if not code:  # all of it is in the pipe: EOF tells the reader so
            os.close(writing.pop())
        try:
            return self._exchange(results, writing, code, deadline, early)
        finally:
            if writing:
                os.close(code_w)

    def _exchange(self, results: int, writing: list[int], code: bytes, deadline: float,
                  early: bool) -> tuple[dict[str, Any], bytes]:
        data = bytearray()
        frames = protocol.FrameEnds()  # where the results' whole frames end, for "done"
        pending = memoryview(code)
        silent_until = time.monotonic() + SILENCE_S
        reading = [results]
        while True:
            header = self._parsed_control()
            if header is not None:
                if header[0].get("t") == "alive":
                    silent_until = time.monotonic() + SILENCE_S
                    continue
                _drain(results, data)
                if len(data) > RESULTS_CAP:
                    return self._returned({**header[0], "truncated": True}), b""
                return self._returned(header[0]), bytes(data)
            if early and not writing and len(data) <= RESULTS_CAP and data.endswith(DONE) \
                    and frames.ends_with(data, DONE):  # every call made
                self.owed += 1
                return self._returned({"t": "outcome", "early": True}), bytes(data)
            left = min(deadline, silent_until) - time.monotonic()
            if left <= 0:
                raise WorkerLost("the worker did not answer in time")
            readable, writable, _ = select.select([self.control, *reading], writing, [], left)
            if writable:
                try:
                    pending = pending[os.write(writing[0], pending[: 1 << 16]) :]
                except BlockingIOError:
                    pass
                except OSError:  # the submission process is gone: its outcome will say why
                    pending = pending[:0]
                if not pending:  # the whole code is sent: EOF tells the reader so
                    os.close(writing.pop())
            if results in readable:
                chunk = os.read(results, READ_SIZE)
                if not chunk:  # every writer is gone: wait for the outcome alone
                    reading = []
                elif len(data) <= RESULTS_CAP:
                    data += chunk
            if self.control in readable:
                chunk = self.control.recv(1 << 16)
                if not chunk:
                    raise WorkerLost("the worker exited")
                self.buffer += chunk

    def _parsed_control(self) -> tuple[dict[str, Any], list[bytes]] | None:
        try:
            frame, self.buffer = protocol.take_frame(self.buffer)
        except protocol.ProtocolError as exc:
            raise WorkerLost(f"the worker's reply was garbled ({exc})") from None
        return frame

    def _next_control(self, deadline: float) -> tuple[dict[str, Any], list[bytes]]:
        while True:
            frame = self._parsed_control()
            if frame is not None:
                return frame
            left = deadline - time.monotonic()
            if left <= 0:
                raise WorkerLost("the worker did not answer in time")
            ready, _, _ = select.select([self.control], [], [], left)
            if ready:
                chunk = self.control.recv(1 << 16)
                if not chunk:
                    raise WorkerLost("the worker exited")
                self.buffer += chunk

    def kill(self) -> None:
        """Kill the worker and its whole process group (once: a worker reaped leaves its number to others)."""
        if self.proc is not None and self.proc.returncode is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        self.control.close()
        if self.cgroup:
            self.cgroup.remove()
        shutil.rmtree(self.home, ignore_errors=True)


def _drain(fd: int, data: bytearray) -> None:
    """Read what is left in a results pipe without waiting (its writers are dead by now)."""
    os.set_blocking(fd, False)
    while len(data) <= RESULTS_CAP:
        try:
            chunk = os.read(fd, READ_SIZE)
        except BlockingIOError:
            return
        if not chunk:
            return
        data += chunk


class WorkerPool:
    """A few fork-server workers; ``run`` grades one job on whichever is free.

    Thread-safe, but a worker dies with the thread that started it (bwrap's --die-with-parent goes by
    thread): call ``run`` from threads that live as long as the pool is used (a batch calls it from its main
    thread, and from the thread that runs the next submission ahead: ``grader.run_ahead``).
    """

    def __init__(self, size: int, launcher: Launcher, limits: Limits, pools: int = 1) -> None:
        """``pools``: how many pools like this one run at once (one per grading process of a batch)."""
        self.launcher = launcher
        self.limits = limits
        self.size = max(1, size)
        self.pools = max(1, pools)
        self._idle: dict[tuple[str, ...], queue.Queue[_Worker | None]] = {}  # by the modules preloaded
        self._all: list[_Worker] = []
        self._closed = False
        self._frames: dict[int, tuple[tuple, bytes]] = {}
        self.cpu_s = 0.0  # CPU time the sandbox spent on the jobs run so far (as the workers measured it)
        self.page_faults = 0  # and the page faults of their submission processes
        self._lock = threading.Lock()

    def _queue(self, preload: tuple[str, ...]) -> queue.Queue:
        """The idle workers that have ``preload`` imported; ``size`` of them, each started when first needed."""
        with self._lock:
            idle = self._idle.get(preload)
            if idle is None:
                idle = self._idle[preload] = queue.Queue()
                for _ in range(self.size):
                    idle.put(None)
            return idle

    def adopt(self, worker: _Worker) -> None:
        """Use ``worker``, started and ready (a spare: ``grader.sandbox.spares``), in place of one not yet started.

        Called before the pool's first job; a worker of another launcher, or one too many, is stopped.
        """
        idle = self._queue(worker.preload)
        try:
            place = idle.get_nowait()  # None: a worker not started yet
        except queue.Empty:  # every worker is busy
            worker.kill()
            return
        if place is not None or self._closed or worker.launcher != self.launcher:
            idle.put(place)
            worker.kill()
            return
        with self._lock:
            self._all.append(worker)
        idle.put(worker)

    def run(self, job: Job) -> SubmissionRun:
        """Run one job to its end: after a crash or a hung call, a fresh run goes on with the cases left.

        A worker that dies or hangs is replaced and the job reported as such.
        """
        calls = {c.function: len(c.cases) for c in job.calls}
        transcript = Transcript(calls, [name for name, _ in job.chunks])
        budget = self.limits.deadline_s(sum(calls.values()))
        started = time.monotonic()
        todo: dict[int, list[int]] | None = None
        while True:
            left = budget - (time.monotonic() - started)
            if todo is not None and left < min(1.0, self.limits.call_s):
                transcript.out_of_time()
                break
            header, data, waited = self._attempt(job, todo, left)
            started += waited  # the end of another submission's job (or a new worker) is not this one's time
            todo = transcript.add(data, header)
            if todo is None:
                break
        run = transcript.finish()
        with self._lock:
            self.cpu_s += run.cpu_s
            self.page_faults += run.page_faults
        return run

    def _attempt(self, job: Job, todo: dict[int, list[int]] | None,
                 left: float) -> tuple[dict[str, Any], bytes, float]:
        """One run of the job on whichever worker is free: its exit summary, its raw results, and the
        seconds spent before it could start (the worker's last job ending, or a new worker starting)."""
        frame = self._frame(job) if todo is None else job.frame(self.limits, self._nproc(), deadline_s=left)
        code = job.code(todo)  # both made before a worker is taken: a job that cannot be encoded costs none
        idle = self._queue(job.preload)
        asked = time.monotonic()
        worker = idle.get()  # perhaps after another thread's job (grader.run_ahead): not this job's time
        waited = time.monotonic() - asked
        try:
            if worker is not None and not self._settles(worker):
                worker = None  # stopped, with the submission that kept it busy
            if worker is None:
                worker = self._start(job.preload)
            waited = time.monotonic() - asked
            header, data = worker.request(frame, code, left + REPLY_MARGIN_S, early=self.launcher.contains_submissions)
        except BaseException as exc:  # whatever went wrong, this worker is done for, and its place given back (an
            if worker is not None:  # interrupt too: another thread may be waiting for it)
                self._stop(worker)
            idle.put(None)
            if not isinstance(exc, (WorkerLost, OSError, ValueError)):
                raise
            return {"lost": str(exc), "timed_out": "in time" in str(exc)}, b"", waited
        if worker.cgroup and not self.launcher.in_pid_namespace:
            worker.cgroup.kill_others({worker.proc.pid})  # outside a PID namespace, daemons can escape the session
        idle.put(worker)
        return header, data, waited

    def _settles(self, worker: _Worker) -> bool:
        """Whether ``worker``'s last job has ended (at once if it was not returned early); if it will not, stop the worker."""
        try:
            worker.settle(time.monotonic() + SETTLE_S)
        except (WorkerLost, OSError, ValueError):  # still busy with the last submission
            self._stop(worker)
            return False
        return True

    def _frame(self, job: Job) -> bytes:
        """The job's frame: the same cases for every submission of a batch, so encoded once."""
        cached = self._frames.get(id(job.calls))
        if cached is None or cached[0] is not job.calls:
            if len(self._frames) > 16:  # one-off jobs (consistency checks) must not pile up
                self._frames.clear()
            cached = (job.calls, job.frame(self.limits, self._nproc()))
            self._frames[id(job.calls)] = cached
        return cached[1]

    def _nproc(self) -> int | None:
        """RLIMIT_NPROC counts every process of the user, so without cgroups it must leave room for every worker
        (one of each kind: each set of PRELOADS a submission may need)."""
        if self.launcher.cgroups is not None:
            return None
        return (self.limits.processes + 8) * self.size * self.pools * 2 ** len(PRELOADS)

    def _start(self, preload: tuple[str, ...]) -> _Worker:
        if self._closed:
            raise WorkerLost("the pool is closed")
        worker = _Worker(self.launcher, preload)
        with self._lock:  # closed meanwhile (from another thread, which ran a job ahead: grader.run_ahead)?
            if not self._closed:
                self._all.append(worker)
                return worker
        worker.kill()
        raise WorkerLost("the pool is closed")

    def _stop(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            if worker in self._all:
                self._all.remove(worker)

    def close(self) -> None:
        """Stop every worker (a request in flight then fails at once)."""
        with self._lock:
            self._closed = True
            workers, self._all = self._all, []
            queues = list(self._idle.values())
        for worker in workers:
            worker.kill()
        for idle in queues:  # a thread waiting for a worker wakes, and finds the pool closed
            idle.put(None)

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
