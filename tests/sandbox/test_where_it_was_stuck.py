"""Where a run stopped at a time limit was: numbers from the submission's process, taken only when they name a line."""
from __future__ import annotations

import pytest

from grader.sandbox import protocol
from grader.sandbox.outcome import Transcript

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


def test_a_hung_call_carries_its_place():
    transcript = Transcript({"f": 2}, ["student.py"])
    todo = transcript.add(LOADED, {"timed_out": True, "stopped": "call", "calls_started": 1, "stuck_at": [1, 12]})
    assert todo == {0: [1]}
    hung = transcript.results["f"][0]
    assert hung.status == "timeout" and hung.stuck_at == (("student.py", 12),)
