"""What came back from a submission, parsed and validated on the trusted side.

The submission's byte stream is untrusted: it is parsed here into plain typed
values (arrays of float64 and short strings). A stream that does not follow the
protocol is the submission's failure, never the grader's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from grader.sandbox import protocol

CallStatus = Literal["ok", "error", "timeout", "crash", "not_run"]
RunStatus = Literal["ok", "load_error", "timeout", "crashed", "garbled"]


@dataclass(slots=True)  # not frozen: made thousands of times a batch, and a frozen init costs
class Returned:
    """One array-like that the student returned: its float64 values, or why it could not be read."""

    array: np.ndarray | None
    orig_dtype: str = "float64"
    type_name: str = "ndarray"
    unreadable: str | None = None


Value = Returned | dict | tuple | None


@dataclass(frozen=True)
class StudentError:
    """An exception raised by student code, with the student's own frames only."""

    type: str
    message: str
    frames: tuple[tuple[str, int, str], ...] = ()

    @property
    def where(self) -> tuple[str, int] | None:
        """The innermost student frame (file or cell, line)."""
        return (self.frames[-1][0], self.frames[-1][1]) if self.frames else None


@dataclass(slots=True)
class CallResult:
    """The outcome of calling one student function on one case."""

    status: CallStatus
    value: Value = None
    error: StudentError | None = None
    mutated: tuple[str, ...] = ()
    duration_s: float = 0.0
    detail: str = ""
    stuck_at: tuple[tuple[str, int], ...] = ()  # for a timeout: where the student's code was (see Transcript._place)


@dataclass
class SubmissionRun:
    """Everything a submission's process reported, validated."""

    status: RunStatus
    load_error: StudentError | None = None
    load_chunk: str = ""
    chunk_errors: list[tuple[str, StudentError]] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)
    calls: dict[str, list[CallResult]] = field(default_factory=dict)
    detail: str = ""
    elapsed_s: float = 0.0
    cpu_s: float = 0.0  # CPU time of the submission's processes and of the worker for it, as the worker measured
    page_faults: int = 0  # minor page faults of the submission's processes (each a copied or zeroed page)
    loaded: bool = False  # the top-level code ran to its end (or, for notebooks, every cell was tried)
    stuck_at: tuple[tuple[str, int], ...] = ()  # for a timeout of the whole run: where the student's code was
    loading: str = ""  # for a timeout while loading: the chunk whose top-level code was running


HUNG = "the call ran past its time limit"  # the detail of a call stopped at its own limit
MAX_LINE = 10_000_000  # beyond any file the reader accepts
MAX_ATTEMPTS = 12  # jobs started for one submission: the first, then one after each crash or hang
MAX_CALL_FAILURES = 2  # crashes or hangs in one function before the rest of its cases are skipped


class Transcript:
    """The runs of one submission's job, merged: the first, then one after each crash or hung call.

    Each run's byte stream and exit summary are parsed here. A run that dies while calling the
    student's functions (or stops at a call's time limit) costs the case it was on: that case is
    recorded as a crash (or a timeout), and :meth:`add` says which cases a fresh run must still
    call. Two such failures in one function skip the rest of it; one does, for a call that hung where
    a call before it hung (in a helper that both call: every other case would hang there too).
    """

    def __init__(self, calls: dict[str, int], chunks: tuple[str, ...] | list[str] = ()) -> None:
        self.calls = calls  # each requested function and its number of cases, in the job's order
        self.chunks = chunks  # the names of the code's chunks (file or cells), in the job's order
        self.order = list(calls)
        self.offsets = dict(zip(self.order, _running_sum([calls[n] for n in self.order])))
        self.run = SubmissionRun(status="ok")
        self.results: dict[str, dict[int, CallResult]] = {name: {} for name in calls}
        self.failures = {name: 0 for name in calls}
        self.hung_at: set[tuple[str, int]] = set()  # the innermost places where calls hung
        self.attempts = 0

    def add(self, stream: bytes, exit_info: dict[str, Any]) -> dict[int, list[int]] | None:
        """Take in one run; return the cases still to call, by function index (None when finished)."""
        first = self.attempts == 0
        self.attempts += 1
        run = self.run
        run.elapsed_s += number(exit_info.get("elapsed_s"))
        run.cpu_s += number(exit_info.get("cpu_s")) + number(exit_info.get("worker_cpu_s"))
        run.page_faults += int(number(exit_info.get("page_faults")))
        frames, clean = protocol.unpack_all(stream)
        loaded = done = False
        for header, blobs in frames:
            kind = header.get("t")
            fname = header.get("function")
            fname = fname if isinstance(fname, str) else None
            if kind == "loaded":
                loaded = True
                if first:
                    run.loaded = True
                    for item in _as_list(header.get("chunk_errors"))[:100]:
                        if isinstance(item, dict):
                            run.chunk_errors.append((_short(item.get("chunk")), _error(item.get("error"))))
            elif kind == "load_error":
                if first:
                    run.status = "load_error"
                    run.load_error = _error(header.get("error"))
                    run.load_chunk = _short(header.get("chunk"))
            elif kind == "done":
                done = True
            elif fname in self.results:
                if kind == "missing":
                    run.missing[fname] = _short(header.get("found"))
                elif kind == "results":
                    self._take_results(fname, header, blobs)
        if done or run.status != "ok":
            return None
        if not loaded or exit_info.get("lost") or exit_info.get("truncated") or not clean \
                or exit_info.get("stopped") in ("job", "load"):
            run.status, run.detail = _why_incomplete(exit_info, loaded, not clean)
            if run.status == "timeout":
                run.stuck_at = self._place(exit_info)
                run.loading = self._chunk(exit_info.get("loading")) if not loaded else ""
            return None
        culprit = self._culprit(exit_info.get("calls_started"))
        if culprit is None:
            return self._todo() or None
        self._blame(*culprit, exit_info)
        todo = self._todo()
        if todo and self.attempts >= MAX_ATTEMPTS:
            run.status = "crashed"
            run.detail = f"the submission's process died {self.attempts} times while its functions were called"
            return None
        return todo or None

    def out_of_time(self) -> None:
        """The submission's whole time budget is spent with cases still to call."""
        if self.run.status == "ok":
            self.run.status, self.run.detail = "timeout", "the submission ran past its time limit while grading its functions"

    def finish(self) -> SubmissionRun:
        """The merged run; every case that has no result says why."""
        run = self.run
        for name, count in self.calls.items():
            if name in run.missing:
                continue
            reason = _not_run_reason(run)
            got = self.results[name]
            run.calls[name] = [got.get(i) or CallResult(_unfinished_status(run), detail=reason) for i in range(count)]
        return run

    def _take_results(self, fname: str, header: dict[str, Any], blobs: list[bytes]) -> None:
        got, count = self.results[fname], self.calls[fname]
        for entry in _as_list(header.get("cases"))[:count]:
            if not isinstance(entry, dict):
                continue
            case = entry.get("case")
            if _is_int(case) and 0 <= case < count and case not in got:
                got[case] = _call_result(entry, _own_blobs(entry.get("blobs"), blobs))
        for case, duration, array in _plain_results(header.get("plain"), blobs, count):
            if case not in got:
                got[case] = CallResult("ok", value=Returned(array), duration_s=duration)

    def _culprit(self, started: Any) -> tuple[str, int] | None:
        """The call that was running when the run stopped: the one the worker saw start last, if it
        has no result, else the first case with none."""
        if isinstance(started, int) and 1 <= started <= sum(self.calls.values()):
            seq = started - 1
            name = next(n for n in reversed(self.order) if self.offsets[n] <= seq)
            case = seq - self.offsets[name]
            if case not in self.results[name] and name not in self.run.missing:
                return name, case
        for name in self.order:
            if name in self.run.missing:
                continue
            for case in range(self.calls[name]):
                if case not in self.results[name]:
                    return name, case
        return None

    def _blame(self, name: str, case: int, exit_info: dict[str, Any]) -> None:
        if exit_info.get("stopped") == "call":
            place = self._place(exit_info)
            self.results[name][case] = CallResult("timeout", detail=HUNG, stuck_at=place)
            after = "ran past the time limit"
            if place and place[0] in self.hung_at:  # where an earlier call hung (a helper they share): so would the rest
                self.failures[name] = MAX_CALL_FAILURES - 1
            self.hung_at.update(place[:1])
        else:
            sig, code = exit_info.get("signal"), exit_info.get("exit_code")
            if isinstance(sig, int) and not isinstance(sig, bool):
                detail = f"the process running this call was killed by signal {sig} ({_signal_name(sig)})"
            else:
                detail = f"the process running this call exited with status {code if isinstance(code, int) else '?'}"
            self.results[name][case] = CallResult("crash", detail=detail)
            after = "crashed"
        self.failures[name] += 1
        if self.failures[name] >= MAX_CALL_FAILURES:
            status = "timeout" if after.startswith("ran") else "crash"
            for i in range(case + 1, self.calls[name]):  # those before it still run (their results may not have come)
                self.results[name].setdefault(i, CallResult(status, detail=f"not run: the calls before it {after}"))

    def _chunk(self, number: Any) -> str:
        """The name of chunk ``number`` (1-based) of the job, or '' when that is none."""
        return self.chunks[number - 1] if _is_int(number) and 1 <= number <= len(self.chunks) else ""

    def _place(self, exit_info: dict[str, Any]) -> tuple[tuple[str, int], ...]:
        """Where the worker found a run stopped at a time limit: (chunk, line) of the student's innermost frame,
        then of its outermost when another; nothing unless every number names a line of the job's code."""
        where = exit_info.get("stuck_at")
        if not (isinstance(where, list) and len(where) in (2, 4) and all(_is_int(n) for n in where)):
            return ()
        places = tuple((self._chunk(chunk), line) for chunk, line in zip(where[::2], where[1::2]))
        return places if all(name and 1 <= line <= MAX_LINE for name, line in places) else ()

    def _todo(self) -> dict[int, list[int]]:
        todo = {}
        for fi, name in enumerate(self.order):
            if name in self.run.missing:
                continue
            left = [i for i in range(self.calls[name]) if i not in self.results[name]]
            if left:
                todo[fi] = left
        return todo


def _is_int(value: Any) -> bool:
    return type(value) is int


def _plain_results(plain: Any, blobs: list[bytes], count: int) -> list[tuple[int, float, np.ndarray]]:
    """The cases of a results record that returned plain float64 arrays: (case, duration, array) each.

    ``plain`` is ``[cases, durations, shapes, blob]``: the arrays end to end in blob number ``blob``.
    Anything malformed and the whole column is dropped (its cases then have no result).
    """
    if plain is None:
        return []
    if not (isinstance(plain, list) and len(plain) == 4 and all(isinstance(c, list) for c in plain[:3])):
        return []
    cases, durations, shapes, index = plain
    if not (len(cases) == len(durations) == len(shapes) <= count and _is_int(index) and 0 <= index < len(blobs)):
        return []
    sizes = []
    for case, shape in zip(cases, shapes):
        if not (_is_int(case) and 0 <= case < count and isinstance(shape, list) and len(shape) <= 8):
            return []
        size = 1
        for n in shape:  # Python ints: no wrap-around
            if not (_is_int(n) and 0 <= n <= protocol.MAX_ELEMENTS):
                return []
            size *= n
        if size > protocol.MAX_ELEMENTS:
            return []
        sizes.append(size)
    blob = blobs[index]
    if len(blob) != 8 * sum(sizes):
        return []
    numbers = np.frombuffer(blob, dtype="<f8").copy()  # one copy, of this record's own bytes
    out, start = [], 0
    for case, duration, shape, size in zip(cases, durations, shapes, sizes):
        out.append((case, number(duration), numbers[start : start + size].reshape(shape)))
        start += size
    return out


def _own_blobs(span: Any, blobs: list[bytes]) -> list[bytes]:
    """The blobs of one case's entry: ``[start, count]`` within its record's (none when malformed)."""
    if (isinstance(span, list) and len(span) == 2 and all(_is_int(n) for n in span)
            and 0 <= span[0] <= len(blobs) and 0 <= span[1] <= len(blobs) - span[0]):
        return blobs[span[0] : span[0] + span[1]]
    return []


def _running_sum(counts: list[int]) -> list[int]:
    out, total = [], 0
    for n in counts:
        out.append(total)
        total += n
    return out


def _why_incomplete(exit_info: dict[str, Any], loaded: bool, garbled: bool) -> tuple[RunStatus, str]:
    if exit_info.get("lost"):
        what = "stopped answering" if exit_info.get("timed_out") else "died"
        return "crashed", (f"the grading process that ran this submission {what} ({exit_info['lost']}): the "
                           "submission killed or stopped it, or exhausted its limits; nothing of it could be graded")
    if exit_info.get("timed_out"):
        stage = "while grading its functions" if loaded else "while running its top-level code"
        return "timeout", f"the submission ran past its time limit {stage}"
    if exit_info.get("truncated"):
        return "garbled", "the submission wrote more output to the grader's channel than allowed"
    if garbled:
        return "garbled", "the submission wrote garbage into the grader's channel"
    signal = exit_info.get("signal")
    if signal:
        return "crashed", f"the submission's process was killed by signal {signal} ({_signal_name(signal)})"
    code = exit_info.get("exit_code")
    return "crashed", f"the submission's process exited (status {code}) before its functions were graded"


SIGNAL_WORDS = {
    "SIGKILL": "killed, by the memory limit, by the grader at a time limit, or by the submission itself",
    "SIGXCPU": "it used up its CPU time limit",
    "SIGXFSZ": "it wrote a file larger than the file size limit",
    "SIGSEGV": "a segmentation fault: memory was accessed where it must not be",
    "SIGBUS": "a bus error: memory was accessed where it must not be",
    "SIGABRT": "it aborted",
}


def _signal_name(number: int) -> str:
    import signal

    try:
        name = signal.Signals(number).name
    except ValueError:
        return "unknown"
    words = SIGNAL_WORDS.get(name)
    return f"{name}: {words}" if words else name


def _unfinished_status(run: SubmissionRun) -> CallStatus:
    return "timeout" if run.status == "timeout" else "not_run"


def _not_run_reason(run: SubmissionRun) -> str:
    if run.status == "load_error":
        return "the submission's top-level code failed"
    return run.detail or "no result was reported"


def _call_result(entry: dict[str, Any], blobs: list[bytes]) -> CallResult:
    """One case's entry of a results record."""
    mutated = entry.get("mutated")
    mutated = tuple(_short(m) for m in mutated[:10]) if mutated and isinstance(mutated, list) else ()
    duration = number(entry.get("duration_s"))
    if entry.get("status") == "error":
        return CallResult("error", error=_error(entry.get("error")), mutated=mutated, duration_s=duration)
    try:
        value = _decode_returned(entry.get("value"), blobs, 0)
    except ValueError as exc:  # ProtocolError, or anything else a forged value provokes
        return CallResult("crash", detail=f"its result could not be read ({exc})")
    return CallResult("ok", value=value, mutated=mutated, duration_s=duration)


def _decode_returned(tag: Any, blobs: list[bytes], depth: int) -> Value:
    if not isinstance(tag, dict) or depth > 1:
        raise protocol.ProtocolError("malformed result")
    kind = tag.get("t")
    if depth > 0 and kind in ("dict", "tuple"):
        raise protocol.ProtocolError("malformed result")
    if kind == "none":
        return None
    if kind == "unreadable":
        return Returned(None, type_name=_short(tag.get("type")), unreadable=_short(tag.get("reason"), 300))
    if kind == "array":
        array = protocol.decode_float_array(tag, blobs)  # float64 whatever was sent
        return Returned(array, orig_dtype=_short(tag.get("orig")), type_name=_short(tag.get("type")))
    items = tag.get("items")
    if not isinstance(items, list) or len(items) > 64:
        raise protocol.ProtocolError("malformed result")
    if kind == "dict":
        out = {}
        for item in items:
            if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)):
                raise protocol.ProtocolError("malformed result")
            out[_short(item[0], 100)] = _decode_returned(item[1], blobs, depth + 1)
        return out
    if kind == "tuple":
        return tuple(_decode_returned(v, blobs, depth + 1) for v in items)
    raise protocol.ProtocolError("malformed result")


def _error(raw: Any) -> StudentError:
    if not isinstance(raw, dict):
        return StudentError("UnknownError", "")
    frames = []
    for f in _as_list(raw.get("frames"))[:5]:
        if isinstance(f, dict) and isinstance(f.get("line"), int):
            frames.append((_short(f.get("file")), int(f["line"]), _short(f.get("function"))))
    return StudentError(_short(raw.get("type")), _short(raw.get("message"), 500), tuple(frames))


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def number(value: Any) -> float:
    """A duration, a CPU time or a count from the stream or a worker's outcome: a finite float, or 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0.0
    try:
        number = float(value)
    except OverflowError:
        return 0.0
    return number if number == number and abs(number) < 1e9 else 0.0


def _short(value: Any, limit: int = 120) -> str:
    """A string from the stream, cut to ``limit`` and made valid UTF-8 (lone surrogates replaced)."""
    if type(value) is str and len(value) <= limit and value.isascii():  # the common case, already fine
        return value
    if not isinstance(value, str):
        return ""
    return value[:limit].encode("utf-8", "replace").decode("utf-8")
