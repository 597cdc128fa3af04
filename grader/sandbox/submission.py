"""The student's side of a job: load the submission's code, call its functions, send back plain numbers.

Runs in the *submission process*, forked by the worker (``worker.py``) for each job. Everything here may be tampered with by
the student's code once it has run, so nothing here is trusted: the grader validates
what arrives. Imports only the standard library, NumPy and ``protocol``.
"""

from __future__ import annotations

import builtins
import os
import resource
import time
import traceback

import numpy as np

import protocol



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
    student_files = {chunk["name"] for chunk in job["chunks"]}
    chunk_errors = []
    me = os.getpid()
    for chunk in job["chunks"]:
        try:
            exec(compile(chunk["code"], chunk["name"], "exec", dont_inherit=True), namespace)
        except BaseException as exc:  # noqa: BLE001 - a student's exception is a result
            if os.getpid() != me:
                os._exit(0)
            error = _error_summary(exc, student_files)
            if job["mode"] == "module":
                out.write(protocol.pack_frame({"t": "load_error", "chunk": chunk["name"], "error": error}))
                return
            chunk_errors.append({"chunk": chunk["name"], "error": error})
    if os.getpid() != me:  # a process forked by the student's top-level code
        os._exit(0)
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
    _run_calls(work, namespace, out, progress, student_files)
    out.write(protocol.pack_frame({"t": "done"}))


def _read_code(fd: int) -> tuple[list[dict], str, dict[int, list[int]] | None]:
    """The student's code chunks, how to run them, and which cases to call (None: all).

    They come on their own pipe, read to its end, then closed.
    """
    with os.fdopen(fd, "rb") as stream:
        data = stream.read(protocol.MAX_HEADER * 8)
    frames, _ = protocol.unpack_frames(data)
    if not frames:
        return [], "module", None
    header = frames[0][0]
    todo = header.get("todo")
    todo = {int(k): [int(i) for i in v] for k, v in todo.items()} if isinstance(todo, dict) else None
    return [c for c in header.get("chunks", []) if isinstance(c, dict)], str(header.get("mode", "module")), todo


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


FLUSH_S = 0.02  # results are sent at the end of each function, or after this long


def _run_calls(work: list, namespace: dict, out, progress: memoryview, student_files: set[str]) -> None:
    """Call each function on its cases; send one record per function (or per FLUSH_S of calls).

    The namespace is restored before each function, so a global rebound by one stays local to it.
    """
    snapshot = dict(namespace)
    me = os.getpid()
    for fi, first, fn, call, cases in work:
        namespace.clear()
        namespace.update(snapshot)
        name, returns, params = call["function"], call["returns"], call["params"]
        entries: list[dict] = []
        blobs: list[bytes] = []
        flushed = time.perf_counter()
        for index in cases:
            args = [_fresh(a) for a in call["inputs"][index]]
            before = [_fresh(a) for a in args]
            progress[0] = first + index + 1
            t0 = time.perf_counter()
            entry = {"case": index}
            mark = len(blobs)
            try:
                if returns.startswith("numgrad:"):
                    value, kind = numerical_gradient(fn, args, returns.split(":", 1)[1]), "dict"
                else:
                    value, kind = fn(*args), returns
                entry["value"] = encode_result(value, kind, blobs)
                entry["status"] = "ok"
            except BaseException as exc:  # noqa: BLE001
                entry["status"] = "error"
                entry["error"] = _error_summary(exc, student_files)
                del blobs[mark:]
            now = time.perf_counter()
            if os.getpid() != me:  # a process the student forked came back here: it has no business on
                os._exit(0)
            entry["duration_s"] = now - t0
            entry["mutated"] = [params[i] for i, (a, b) in enumerate(zip(args, before)) if not _same(a, b)]
            entries.append(entry)
            if now - flushed > FLUSH_S:
                _send_results(out, name, fi, entries, blobs)
                entries, blobs, flushed = [], [], time.perf_counter()
        if entries:
            _send_results(out, name, fi, entries, blobs)


def _send_results(out, name: str, fi: int, entries: list[dict], blobs: list[bytes]) -> None:
    out.write(protocol.pack_frame({"t": "results", "function": name, "index": fi, "cases": entries}, blobs))


def _fresh(value):
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: _fresh(v) for k, v in value.items()}
    return value


def _same(a, b) -> bool:
    try:
        if isinstance(b, np.ndarray):
            return type(a) is np.ndarray and a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()
        if isinstance(b, dict):
            return isinstance(a, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in b)
        return True
    except Exception:  # noqa: BLE001
        return False


# ---------------------------------------------------------------- gradients of the student's own forward pass


def _rnn_nll(fn, args):
    """rnn_backward's arguments -> (params, the loss -sum_t log yhat(t)[y(t)] of the student's rnn_forward)."""
    x, y, h0, params = args
    rows = np.arange(len(y))

    def loss(p):
        _, yhat = fn(x, h0, p)
        return -float(np.sum(np.log(np.asarray(yhat, dtype=np.float64)[rows, y])))

    return params, loss


LOSSES = {"rnn_nll": _rnn_nll}


def numerical_gradient(fn, args, loss_name: str, h: float = 1e-6) -> dict:
    """Central differences of a named loss of the student's function, for every entry of a dict argument."""
    params, loss = LOSSES[loss_name](fn, args)
    params = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    out = {}
    for key, value in params.items():
        grad = np.empty_like(value)
        for index in np.ndindex(value.shape):
            step = h * max(1.0, abs(float(value[index])))
            plus, minus = value.copy(), value.copy()
            plus[index] += step
            minus[index] -= step
            grad[index] = (loss({**params, key: plus}) - loss({**params, key: minus})) / (2 * step)
        out[key] = grad
    return out


# ---------------------------------------------------------------- results as plain numbers


def encode_result(value, returns: str, blobs: list[bytes]) -> dict:
    """Turn whatever the student returned into plain float64 arrays (or say why it cannot be)."""
    if value is None:
        return {"t": "none"}
    if returns in ("dict", "tuple"):
        if isinstance(value, dict):
            items = []
            for key in list(value.keys())[:64]:
                items.append([str(key)[:100], encode_array(value[key], blobs)])
            return {"t": "dict", "items": items}
        if isinstance(value, (tuple, list)) and not _is_numeric_sequence(value):
            return {"t": "tuple", "items": [encode_array(v, blobs) for v in list(value)[:64]]}
    return encode_array(value, blobs)


def _is_numeric_sequence(value) -> bool:
    return all(isinstance(v, (int, float, np.number)) for v in value)


def encode_array(value, blobs: list[bytes]) -> dict:
    """One returned value as a float64 array, or a description of why it is not numbers."""
    type_name = type(value).__name__
    if value is None:
        return {"t": "none"}
    try:
        original = np.asarray(value)
        if original.dtype.kind == "c":
            return {"t": "unreadable", "type": type_name, "reason": "complex numbers"}
        if original.dtype.kind in "USV":
            return {"t": "unreadable", "type": type_name, "reason": f"{original.dtype.kind} data (text, not numbers)"}
        array = np.array(np.asarray(value, dtype=np.float64), dtype="<f8", order="C", copy=True)
    except BaseException as exc:  # noqa: BLE001
        return {"t": "unreadable", "type": type_name, "reason": f"{exc.__class__.__name__}: {_safe_str(exc)}"}
    if array.size > protocol.MAX_ELEMENTS:
        return {"t": "unreadable", "type": type_name, "reason": f"{array.size} numbers, too many"}
    blobs.append(array.tobytes())
    return {
        "t": "array",
        "dtype": "<f8",
        "shape": list(array.shape),
        "blob": len(blobs) - 1,
        "orig": original.dtype.name,
        "type": type_name[:60],
    }


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)[:300]
    except BaseException:  # noqa: BLE001
        return "(unprintable)"


def _error_summary(exc: BaseException, student_files: set[str]) -> dict:
    """The exception's type, message and the student's own frames (never the grader's)."""
    frames = []
    try:
        for frame in traceback.extract_tb(exc.__traceback__):
            if frame.filename in student_files:
                frames.append({"file": frame.filename, "line": frame.lineno, "function": frame.name})
        if isinstance(exc, SyntaxError) and exc.filename in student_files:
            frames.append({"file": exc.filename, "line": exc.lineno or 0, "function": "<module>"})
    except BaseException:  # noqa: BLE001
        frames = []
    return {"type": type(exc).__name__[:80], "message": _safe_str(exc), "frames": frames[-5:]}
