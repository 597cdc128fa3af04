"""Where a run stopped at a time limit was: numbers from the submission's process, taken only when they name a line."""
from __future__ import annotations

import pytest

from grader.sandbox import protocol
from grader.sandbox.outcome import Transcript
from tests.conftest import sandbox_modules

LOADED = protocol.pack_frame({"t": "loaded", "chunk_errors": []})


def _load_timeout(stuck_at) -> tuple:
    transcript = Transcript({"f": 2}, ["cell 1", "cell 2"])
    assert transcript.add(b"", {"timed_out": True, "stopped": "load", "stuck_at": stuck_at}) is None
    run = transcript.finish()
    assert run.status == "timeout"
    return run.stuck_at


def test_the_place_of_a_load_timeout_names_the_chunk_and_the_caller():
    assert _load_timeout([2, 7]) == (("cell 2", 7),)
    assert _load_timeout([2, 7, 1, 3]) == (("cell 2", 7), ("cell 1", 3))


@pytest.mark.parametrize("forged", [
    [3, 7], [0, 7], [1, 0], [1, -4], [1, 10**12], [True, 7], [1.0, 7], ["cell 1", 7], [1, 7, 2], [1, 7, 9, 9],
    {"chunk": 1}, "cell 1, line 7", None,
])
def test_forged_or_out_of_range_numbers_give_no_place(forged):
    assert _load_timeout(forged) == ()


@pytest.mark.parametrize("loading, named", [(2, "cell 2"), (1, "cell 1"), (0, ""), (3, ""), (-1, ""), (True, ""),
                                             (2.0, ""), ("cell 2", ""), (None, "")])
def test_the_cell_being_loaded_is_named_only_when_it_is_one_of_the_jobs(loading, named):
    transcript = Transcript({"f": 2}, ["cell 1", "cell 2"])
    transcript.add(b"", {"timed_out": True, "stopped": "load", "loading": loading})
    assert transcript.finish().loading == named


def test_a_function_that_hangs_where_another_hung_is_skipped_after_one_hung_call():
    transcript = Transcript({"softmax": 3, "jacobian": 3, "backward": 3}, ["student.py"])
    hang = lambda started, line: {"timed_out": True, "stopped": "call", "calls_started": started, "stuck_at": [1, line]}  # noqa: E731
    assert transcript.add(LOADED, hang(1, 6)) == {0: [1, 2], 1: [0, 1, 2], 2: [0, 1, 2]}
    assert transcript.add(LOADED, hang(2, 6)) == {1: [0, 1, 2], 2: [0, 1, 2]}  # softmax: two hung calls
    assert transcript.add(LOADED, hang(4, 6)) == {2: [0, 1, 2]}  # jacobian hung in softmax's loop: once is enough
    assert transcript.add(LOADED, hang(7, 30)) == {2: [1, 2]}  # backward hung elsewhere: it gets its second chance
    run = transcript.finish()
    assert [c.status for c in run.calls["jacobian"]] == ["timeout"] * 3
    assert [c.detail.startswith("not run") for c in run.calls["jacobian"]] == [False, True, True]


def test_a_hung_call_carries_its_place():
    transcript = Transcript({"f": 2}, ["student.py"])
    todo = transcript.add(LOADED, {"timed_out": True, "stopped": "call", "calls_started": 1, "stuck_at": [1, 12]})
    assert todo == {0: [1]}
    hung = transcript.results["f"][0]
    assert hung.status == "timeout" and hung.stuck_at == (("student.py", 12),)


# ---------------------------------------------------------------- the worker asks, the submission's process answers

SPIN = "def spin(page):\n    while True:\n        page[7] += 1\n\nspin(page)\n"


def _spinning(answer: str):
    """A forked process spinning in the student's code ('s.py'), its SIGUSR2 answered, ignored or left as is."""
    import mmap
    import os
    import signal
    import time

    submission, worker = sandbox_modules()
    page = memoryview(mmap.mmap(-1, mmap.PAGESIZE)).cast("Q")
    pid = os.fork()
    if pid == 0:
        try:
            if answer == "answers":
                submission.answer_where(["notes.py", "s.py"], page)
            elif answer == "ignores":
                signal.signal(signal.SIGUSR2, signal.SIG_IGN)
            exec(compile(SPIN, "s.py", "exec"), {"page": page})
        finally:
            os._exit(0)
    while not page[7]:
        time.sleep(0.001)
    return pid, page, worker


def _end(pid: int) -> None:
    import os
    import signal

    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def test_the_process_says_where_it_is_then_stops_and_the_page_is_emptied_after():
    import time

    pid, page, worker = _spinning("answers")
    try:
        where = worker._locate(pid, page)
        assert where[:2] in ([2, 2], [2, 3]) and where[2:] == [2, 5], where  # in spin(), called from line 5
        assert list(page[1:7]) == [0] * 6  # nothing of it left for the next submission forked from the worker
        count = page[7]
        time.sleep(0.05)
        assert page[7] == count  # stopped: the call that ran out of time cannot finish meanwhile
    finally:
        _end(pid)


@pytest.mark.parametrize("answer", ["ignores", "dies"])
def test_a_process_that_does_not_answer_gives_no_place(answer):
    import time

    pid, page, worker = _spinning(answer)
    try:
        started = time.monotonic()
        assert worker._locate(pid, page) is None
        waited = time.monotonic() - started
        assert waited < worker.LOCATE_S + 0.1
        if answer == "dies":  # killed by the signal's default action: no need to wait for an answer
            assert waited < worker.LOCATE_S / 2
    finally:
        _end(pid)
