"""One call of a student's function, as the grader makes it: fresh inputs, plain numbers out.

The same code serves both sides of the trust boundary. Inside the sandbox it is
imported beside ``worker.py`` as ``calls`` by the submission's call process; in
the grader's process, as ``grader.sandbox.calls``, by the notebook's own check
(``grader.check``), which calls the functions of the student's kernel in process.
Either way what a call returned leaves here as protocol records (float64 bytes,
short strings), which the trusted side parses. Imports only the standard library,
NumPy and ``protocol``.
"""

from __future__ import annotations

import time
import traceback

import numpy as np

if __package__:  # grader.sandbox.calls, in the grader's process
    from grader.sandbox import protocol
else:  # beside worker.py, in the sandbox
    import protocol


def call_once(fn, case, params, returns: str, student_files: set[str],
              passthrough: tuple[type[BaseException], ...] = ()) -> tuple[dict, list[bytes]]:
    """Call ``fn`` on fresh copies of one case's arguments: the result record (without its place) and its blobs.

    Whatever the student's code raises is part of the record, except ``passthrough``
    exceptions (the notebook's time limit and Ctrl-C), which propagate.
    """
    args = [fresh(a) for a in case]  # ``case`` itself stays as it was: what a mutation is told against
    t0 = time.perf_counter()
    record: dict = {}
    blobs: list[bytes] = []
    try:
        if returns.startswith("numgrad:"):
            value, kind = numerical_gradient(fn, args, returns.split(":", 1)[1]), "dict"
        else:
            value, kind = fn(*args), returns
        record["value"] = encode_result(value, kind, blobs)
        record["status"] = "ok"
    except passthrough:
        raise
    except BaseException as exc:  # noqa: BLE001 - a student's exception is a result
        record["status"] = "error"
        record["error"] = error_summary(exc, student_files)
        blobs = []
    record["duration_s"] = time.perf_counter() - t0
    record["mutated"] = [params[i] for i, (a, b) in enumerate(zip(args, case)) if not same(a, b)]
    return record, blobs


class Results:
    """The results of one function's calls, gathered into one record (a frame of the protocol).

    A case that returned a plain float64 ndarray, and changed none of its inputs (most cases),
    travels in the record's ``"plain"`` columns: its case number, duration and shape, its numbers
    in one blob with the other plain cases' (after the other cases' blobs). Every other case is
    an entry of ``"cases"``, as :func:`call_once` made it.
    """

    def __init__(self, function: str, index: int) -> None:
        self.function, self.index = function, index
        self.entries: list[dict] = []
        self.blobs: list[bytes] = []
        self.plain: tuple[list[int], list[float], list[list[int]]] = ([], [], [])
        self.plain_blobs: list[bytes] = []
        self.plain_size = 0  # bytes in plain_blobs: their blob stays within the protocol's cap on one blob

    def __len__(self) -> int:
        return len(self.entries) + len(self.plain[0])

    def add(self, case: int, record: dict, blobs: list[bytes]) -> None:
        """One case's record from :func:`call_once`; its blobs are numbered from 0, as ``record["blobs"]`` says."""
        value = record.get("value")
        if value is not None and value.get("type") == "ndarray" and value.get("orig") == "float64" \
                and value["t"] == "array" and len(blobs) == 1 and not record["mutated"] \
                and self.plain_size + len(blobs[0]) <= protocol.MAX_ELEMENTS * 8:
            cases, durations, shapes = self.plain
            cases.append(case)
            durations.append(record["duration_s"])
            shapes.append(value["shape"])
            self.plain_blobs.append(blobs[0])
            self.plain_size += len(blobs[0])
            return
        record["case"] = case
        record["blobs"] = [len(self.blobs), len(blobs)]
        self.entries.append(record)
        self.blobs += blobs

    def frame(self) -> bytes:
        header = {"t": "results", "function": self.function, "index": self.index, "cases": self.entries}
        blobs = self.blobs
        if self.plain_blobs:
            header["plain"] = [*self.plain, len(blobs)]
            blobs = [*blobs, b"".join(self.plain_blobs)]
        return protocol.pack_frame(header, blobs)


def fresh(value):
    """A copy of an input that the student's code may change at will."""
    if type(value) is np.ndarray or isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: fresh(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(fresh(v) for v in value)
    return value


def same(a, b) -> bool:
    """Whether an input is still what it was (same type, shape, dtype and bytes)."""
    try:
        if isinstance(b, np.ndarray):
            return type(a) is np.ndarray and a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()
        if isinstance(b, dict):
            return isinstance(a, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in b)
        if isinstance(b, (list, tuple)):
            return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
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


_FLOAT64 = np.dtype("<f8")


_NOT_NUMBERS = {dict: "not an array of numbers", set: "not an array of numbers", str: "text, not numbers",
                bytes: "raw bytes, not numbers"}


def encode_array(value, blobs: list[bytes]) -> dict:
    """One returned value as a float64 array, or a description of why it is not numbers."""
    type_name = type(value).__name__
    if value is None:
        return {"t": "none"}
    if type(value) is np.ndarray and value.dtype == _FLOAT64 and value.size <= protocol.MAX_ELEMENTS:
        blobs.append(value.tobytes())  # the common case: a plain float64 array, copied once, in C order
        return {"t": "array", "dtype": "<f8", "shape": list(value.shape), "blob": len(blobs) - 1,
                "orig": "float64", "type": "ndarray"}
    for kind, reason in _NOT_NUMBERS.items():  # NumPy would make one object of it, or text
        if isinstance(value, kind):
            return {"t": "unreadable", "type": type_name, "reason": reason}
    try:
        original = np.asarray(value)
        if original.dtype.kind == "c":
            return {"t": "unreadable", "type": type_name, "reason": "complex numbers"}
        if original.dtype.kind in "USV":
            return {"t": "unreadable", "type": type_name, "reason": "text, not numbers" if original.dtype.kind in "US"
                    else "raw bytes, not numbers"}
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


def student_places(frames, numbers: dict[str, int]) -> list[int]:
    """Where the student's code is, from ``frames`` (file name, line) listed outermost first: [chunk
    number, line] of the innermost student frame, then of the outermost when it is another frame (the
    graded function's call in progress, or the top-level statement); [] when no frame is the student's.
    ``numbers`` numbers the student's files (1-based)."""
    places = [[numbers[name], line] for name, line in frames if name in numbers and line]
    if not places:
        return []
    return places[-1] + places[0] if len(places) > 1 else places[-1]


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)[:300]
    except BaseException:  # noqa: BLE001
        return "(unprintable)"


def error_summary(exc: BaseException, student_files: set[str]) -> dict:
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
