"""Run a job's calls on the functions of the student's own kernel, in this process, as the sandbox would.

Each call goes through the sandbox's own call code (``grader.sandbox.calls``): fresh copies
of the inputs, exceptions caught, inputs checked for changes, the result turned into
plain numbers. The records are then read by the same parser as the sandbox's stream, so
the grading that follows cannot tell where the functions ran. Output the calls print and
warnings they raise are swallowed, as in the sandbox; Ctrl-C still stops the check.
"""

from __future__ import annotations

import contextlib
import io
import time
import warnings

from grader.kernel.deadline import CallTimedOut, Deadline
from grader.sandbox import calls, protocol
from grader.sandbox.outcome import SubmissionRun, parse_run
from grader.sandbox.pool import Call, Job


class KernelRunner:
    """A :class:`grader.sandbox.pool.Runner` whose functions are those of ``namespace`` (the job's code is not run)."""

    def __init__(self, namespace: dict, call_s: float, files: dict[str, str]) -> None:
        self.namespace = namespace
        self.call_s = call_s
        self.files = files  # the student's files -> the names shown for them
        self.enforced = Deadline(call_s).enforced

    def run(self, job: Job) -> SubmissionRun:
        started = time.perf_counter()
        stream = [protocol.pack_frame({"t": "loaded", "chunk_errors": []})]
        for call in job.calls:
            stream += self._frames(call)
        stream.append(protocol.pack_frame({"t": "done"}))
        counts = {c.function: len(c.cases) for c in job.calls}
        return parse_run(b"".join(stream), counts, {"elapsed_s": time.perf_counter() - started})

    def _frames(self, call: Call) -> list[bytes]:
        fn = self.namespace.get(call.function)
        if not callable(fn):
            found = "absent" if fn is None else type(fn).__name__
            return [protocol.pack_frame({"t": "missing", "function": call.function, "found": found})]
        frames = []
        for index, case in enumerate(call.cases):
            record, blobs = self._call(fn, call, case)
            if record is None:  # past the time limit: the rest of this function's cases are not tried
                frames.append(protocol.pack_frame({"t": "timeout", "function": call.function, "case": index}))
                frames.append(protocol.pack_frame({"t": "skipped", "function": call.function,
                                                   "from_case": index + 1, "after": "timeout"}))
                break
            record.update({"t": "result", "function": call.function, "case": index})
            for frame in (record.get("error") or {}).get("frames", []):
                frame["file"] = self.files.get(frame["file"], frame["file"])
            frames.append(protocol.pack_frame(record, blobs))
        return frames

    def _call(self, fn, call: Call, case: tuple) -> tuple[dict | None, list[bytes]]:
        """One call under the time limit, its prints and warnings swallowed; None when it ran out of time."""
        sink = io.StringIO()
        try:
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with Deadline(self.call_s):
                    return calls.call_once(fn, case, call.params, call.returns, set(self.files),
                                           passthrough=(CallTimedOut, KeyboardInterrupt))
        except CallTimedOut:
            return None, []
