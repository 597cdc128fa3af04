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
from grader.sandbox.outcome import SubmissionRun, Transcript
from grader.sandbox.pool import Call, Job


class KernelRunner:
    """A :class:`grader.sandbox.pool.Runner` whose functions are those of ``namespace`` (the job's code is not run)."""

    def __init__(self, namespace: dict, call_s: float, files: dict[str, str]) -> None:
        self.namespace = namespace
        self.call_s = call_s
        self.files = files  # the student's files -> the names shown for them
        self.enforced = Deadline(call_s).enforced
        self.shown = list(dict.fromkeys(files.values()))  # the chunks, as the Transcript numbers them
        self.stuck_at: list[int] = []  # where the last call past its time limit was, as the sandbox says it

    def run(self, job: Job) -> SubmissionRun:
        """Call the job's functions as the sandbox would; after a call past its time limit, go on after it."""
        transcript = Transcript({c.function: len(c.cases) for c in job.calls}, self.shown)
        todo: dict[int, list[int]] | None = None
        while True:
            stream, exit_info = self._attempt(job, todo)
            todo = transcript.add(stream, exit_info)
            if todo is None:
                return transcript.finish()

    def _attempt(self, job: Job, todo: dict[int, list[int]] | None) -> tuple[bytes, dict]:
        """One pass over the cases still to call: the records, and how the pass ended."""
        started = time.perf_counter()
        stream = [protocol.pack_frame({"t": "loaded", "chunk_errors": []})]
        offset = 0
        for fi, call in enumerate(job.calls):
            first, offset = offset, offset + len(call.cases)
            cases = range(len(call.cases)) if todo is None else todo.get(fi, [])
            fn = self.namespace.get(call.function)
            if not cases:
                continue
            if not callable(fn):
                found = "absent" if fn is None else type(fn).__name__
                stream.append(protocol.pack_frame({"t": "missing", "function": call.function, "found": found}))
                continue
            results = calls.Results(call.function, fi)
            for index in cases:
                record, blobs = self._call(fn, call, call.cases[index])
                if record is None:  # past the time limit: this pass ends here, as a killed process would
                    stream.append(results.frame())
                    return b"".join(stream), {"stopped": "call", "calls_started": first + index + 1,
                                              "elapsed_s": time.perf_counter() - started, "stuck_at": self.stuck_at}
                for frame in (record.get("error") or {}).get("frames", []):
                    frame["file"] = self.files.get(frame["file"], frame["file"])
                results.add(index, record, blobs)
            stream.append(results.frame())
        stream.append(protocol.pack_frame({"t": "done"}))
        return b"".join(stream), {"elapsed_s": time.perf_counter() - started}

    def _call(self, fn, call: Call, case: tuple) -> tuple[dict | None, list[bytes]]:
        """One call under the time limit, its prints and warnings swallowed; None when it ran out of time."""
        sink = io.StringIO()
        try:
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with Deadline(self.call_s):
                    return calls.call_once(fn, case, call.params, call.returns, set(self.files),
                                           passthrough=(CallTimedOut, KeyboardInterrupt))
        except CallTimedOut as exc:
            self.stuck_at = self._where(exc.__traceback__)
            return None, []

    def _where(self, tb) -> list[int]:
        """Where in the student's code the call was when its time ran out, numbered as the sandbox's worker
        numbers it (:func:`grader.sandbox.calls.student_places`)."""
        frames = []
        while tb is not None:
            frames.append((tb.tb_frame.f_code.co_filename, tb.tb_lineno))
            tb = tb.tb_next
        numbers = {raw: self.shown.index(shown) + 1 for raw, shown in self.files.items()}
        return calls.student_places(frames, numbers)
