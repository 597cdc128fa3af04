"""The student's side of a job: load the submission's code, call its functions, send back plain numbers.

Runs in the *submission process*, forked by the worker (``worker.py``) for each job. Everything here may be tampered with by
the student's code once it has run, so nothing here is trusted: the grader validates
what arrives. Imports only the standard library, and ``protocol`` and ``calls`` (NumPy through them).
"""

from __future__ import annotations

import builtins
import importlib.machinery
import marshal
import os
import resource
import signal
import sys
import time
import types

import calls
import protocol
from calls import Results, call_once, error_summary, student_places



# ---------------------------------------------------------------- submission process (untrusted)


PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER = 4, 36


def _libc():
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True)
    except (OSError, ImportError):
        return None


_LIBC = _libc()  # loaded once in the worker, so that a submission process need not load it again


def prctl(option: int, value: int) -> None:
    """Linux prctl(2), best effort."""
    try:
        _LIBC.prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def set_dumpable(flag: bool) -> None:
    """Whether processes of the same user may ptrace this one or open its /proc/PID/mem."""
    prctl(PR_SET_DUMPABLE, int(flag))


def submission_process(job: dict, code_fd: int, out_fd: int, progress: memoryview) -> None:
    """Load the student's code, then call each requested function on its cases.

    ``job["calls"]`` lists the functions, each with its ``"inputs"``: every case's arguments, decoded.
    Before each call, ``progress[0]`` is set to 1 + the call's number in the job (``offset``
    of its function + its case), which the worker reads to time the call, and to say which
    call was running if this process dies.
    """
    os.setsid()
    set_dumpable(True)  # its own memory holds nothing but its own code and the shared inputs
    job["chunks"], job["mode"], todo = _read_code(code_fd)
    _isolate_fds(out_fd)
    _apply_limits(job["limits"])
    out = os.fdopen(out_fd, "wb", buffering=0)
    namespace: dict = {"__name__": "__submission__", "__builtins__": builtins}
    sys.modules["grader"] = grader_stub()
    student_files = {chunk["name"] for chunk in job["chunks"]}
    answer_where([chunk["name"] for chunk in job["chunks"]], progress)
    sys.meta_path.insert(0, OwnModules(job["chunks"]))
    chunk_errors = []
    me = os.getpid()
    for number, chunk in enumerate(job["chunks"], 1):
        if chunk.get("module") is not None:  # run when imported, as Python runs a file beside the script
            continue
        progress[LOADING] = number  # which chunk runs, for a worker whose question (SIGUSR2) gets no answer
        try:
            exec(_code_of(chunk), namespace)
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
    progress[LOADING] = 0
    out.write(protocol.pack_frame({"t": "loaded", "chunk_errors": chunk_errors}))
    work, offset = [], 0
    for fi, call in enumerate(job["calls"]):
        cases = range(len(call["inputs"])) if todo is None else todo.get(fi, [])
        first = offset
        offset += len(call["inputs"])
        if not cases:
            continue
        fn = namespace.get(call["function"])
        if callable(fn):
            work.append((fi, first, fn, call, list(cases)))
        else:
            kind = "absent" if fn is None else type(fn).__name__
            out.write(protocol.pack_frame({"t": "missing", "function": call["function"], "found": kind}))
    # "done" is the last thing written: the grader takes the job as finished when the results end with it
    _run_calls(work, namespace, out, progress, student_files, last=protocol.pack_frame({"t": "done"}))


class OwnModules:
    """The student's own modules (a helpers.py handed in beside the code, a folder utils/ of them), importable by
    name as Python makes a file or folder beside the script: found before installed packages (a name already
    imported, numpy say, is what ``import`` gives, as in Python), run when first imported, and run again by an
    import after one that raised. A module with modules under its name (utils.helpers) is a package."""

    def __init__(self, chunks: list[dict]) -> None:
        self.chunks = {c["module"]: c for c in chunks if isinstance(c.get("module"), str)
                       and all(part.isidentifier() for part in c["module"].split("."))}

    def find_spec(self, name: str, path=None, target=None):
        chunk = self.chunks.get(name)
        if chunk is None:
            return None
        package = chunk["name"].endswith("/__init__.py") or any(other.startswith(name + ".") for other in self.chunks)
        return importlib.machinery.ModuleSpec(name, self, origin=chunk["name"], is_package=package)

    def create_module(self, spec):
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        chunk = self.chunks[module.__name__]
        module.__file__ = chunk["name"]
        exec(_code_of(chunk), module.__dict__)


LOADING = 6  # the slot of the shared page that holds the number of the chunk being loaded (0: none)


def answer_where(names: list[str], progress: memoryview) -> None:
    """On SIGUSR2 (from the worker, at a time limit), say where the student's code is, then stop.

    ``progress[1:5]`` gets the places of :func:`calls.student_places` (chunks numbered in ``names``),
    ``progress[5]`` a 1 once they are written; then the process stops itself (SIGSTOP), so that the
    call that ran out of time cannot finish and be followed by another while the worker reads them.
    """
    numbers = {name: i + 1 for i, name in enumerate(names)}

    def where(signum, frame) -> None:
        frames = []
        while frame is not None:
            frames.append((frame.f_code.co_filename, frame.f_lineno))
            frame = frame.f_back
        places = student_places(frames[::-1], numbers)
        progress[1:5] = memoryview(bytes(8 * 4)).cast("Q")
        for i, n in enumerate(places):
            progress[1 + i] = n
        progress[5] = 1
        os.kill(os.getpid(), signal.SIGSTOP)

    signal.signal(signal.SIGUSR2, where)


MAX_CODE = 32 << 20  # bytes of code read from the grader


def _read_code(fd: int) -> tuple[list[dict], str, dict[int, list[int]] | None]:
    """The student's code chunks, how to run them, and which cases to call (None: all).

    They come on their own pipe, marshalled by the grader (:meth:`Job.code`), read to its end,
    then closed; a chunk's ``"compiled"`` is its code object, marshalled too (or None).
    """
    parts, size = [], 0
    try:
        while size <= MAX_CODE:
            part = os.read(fd, 1 << 16)
            if not part:
                break
            parts.append(part)
            size += len(part)
    finally:
        os.close(fd)
    try:
        sent = marshal.loads(b"".join(parts))
    except (ValueError, EOFError, TypeError):
        sent = None
    if not isinstance(sent, dict):
        return [], "module", None
    chunks = [c for c in sent.get("chunks", []) if isinstance(c, dict)]
    return chunks, str(sent.get("mode", "module")), sent.get("todo")


def _code_of(chunk: dict) -> types.CodeType:
    """A chunk's code object: the grader's, unmarshalled (the same Python), or compiled here from its text."""
    if chunk.get("compiled") is not None:
        try:
            return marshal.loads(chunk["compiled"])
        except (ValueError, EOFError, TypeError):
            pass
    return compile(chunk["code"], chunk["name"], "exec", dont_inherit=True)


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
        fd = os.open("/proc/self/oom_score_adj", os.O_WRONLY)
        try:
            os.write(fd, b"1000")
        finally:
            os.close(fd)
    except OSError:
        pass


FLUSH_S = 0.02  # results are written after this long, and at the end: a record per function, written together


def _run_calls(work: list, namespace: dict, out, progress: memoryview, student_files: set[str],
               last: bytes = b"") -> None:
    """Call each function on its cases; write one record per function, every FLUSH_S and at the end (then ``last``).

    Few writes, each one wakes the grader. The records not yet written when the process dies are
    lost, and the grader calls those cases again (all but the one that was running).
    The namespace is restored before each function, so a global rebound by one stays local to it.
    """
    snapshot = dict(namespace)
    me = os.getpid()
    pending: list[bytes] = []
    flushed = time.perf_counter()
    for fi, first, fn, call, cases in work:
        namespace.clear()
        namespace.update(snapshot)
        name, returns, params = call["function"], call["returns"], call["params"]
        results = Results(name, fi)
        for index in cases:
            progress[0] = first + index + 1
            record, blobs = call_once(fn, call["inputs"][index], params, returns, student_files)
            if os.getpid() != me:  # a process the student forked came back here: it has no business on
                os._exit(0)
            results.add(index, record, blobs)
            if time.perf_counter() - flushed > FLUSH_S:
                pending.append(results.frame())
                out.write(b"".join(pending))
                pending, results, flushed = [], Results(name, fi), time.perf_counter()
        if len(results):
            pending.append(results.frame())
    pending.append(last)
    out.write(b"".join(pending))


def warm_up(job: dict, progress: memoryview, rounds: int = 3) -> None:
    """Run a job's call path a few times in the worker, on stand-ins of the grader's own (never student code).

    CPython specialises its bytecode as it runs, writing into the code objects; done here, before
    the fork, a submission process writes to (and so copies) fewer of the worker's pages.
    """
    work, offset = [], 0
    for fi, call in enumerate(job.get("calls", [])):
        if not call["returns"].startswith("numgrad:"):  # those call the function hundreds of times
            work.append((fi, offset, _stand_in(call["returns"]), call, list(range(len(call["inputs"])))))
        offset += len(call["inputs"])
    for _ in range(rounds):
        _run_calls(work, {}, _Discard(), progress, set())
    progress[0] = 0


def _stand_in(returns: str):
    """A function of the grader's that returns what ``returns`` says: an array, a dict or a tuple of arrays."""
    def array(*args):
        return calls.fresh(args[0]) if args and isinstance(args[0], calls.np.ndarray) else calls.np.zeros(2)

    if returns == "dict":
        return lambda *args: {"a": array(*args), "b": array(*args)}
    if returns == "tuple":
        return lambda *args: (array(*args), array(*args))
    return array


class _Discard:
    def write(self, data: bytes) -> int:
        return len(data)


def grader_stub() -> types.ModuleType:
    """What ``import grader`` gives the student's code here: a ``check`` that does nothing.

    A notebook may end with ``from grader import check; check()``, the student's own
    loop in Jupyter; being graded, it must neither fail nor run the tests again.
    """
    stub = types.ModuleType("grader", "the grader's stand-in inside the sandbox")
    stub.check = lambda *args, **kwargs: _NOT_CHECKED
    return stub


class _NotChecked:
    """What the stand-in ``check()`` returns: enough of the real result that a cell using it runs."""

    passed = True  # the grader's own tests decide; a cell asserting this must not fail meanwhile
    report = None

    def __repr__(self) -> str:
        return "grader.check: not run while the notebook is being graded"

    def _repr_html_(self) -> str:
        return f"<p>{self!r}</p>"


_NOT_CHECKED = _NotChecked()
