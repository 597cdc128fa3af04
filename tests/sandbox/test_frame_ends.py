"""Where a growing results stream's whole frames end: "done" only as a whole last frame, each length read once."""
from __future__ import annotations

import struct

import pytest

from grader.sandbox import protocol
from grader.sandbox.pool import DONE, Call, Job, WorkerPool
from grader.sandbox.outcome import Transcript
from grader import api
from tests.conftest import TEST_LIMITS

LOADED = protocol.pack_frame({"t": "loaded", "chunk_errors": []})
RESULTS = protocol.pack_frame({"t": "results", "function": "f"}, [b"\0" * 16, DONE, b"\1" * 8])


def _ends(pieces) -> list[bool]:
    """Whether the stream is finished after each piece, fed to one follower as it grows."""
    frames, data, said = protocol.FrameEnds(), bytearray(), []
    for piece in pieces:
        data += piece
        said.append(frames.ends_with(data, DONE))
    return said


def test_done_is_seen_only_once_the_whole_stream_has_arrived_however_it_is_cut():
    stream = LOADED + RESULTS + DONE
    for size in (1, 3, 7, 64):
        pieces = [stream[i : i + size] for i in range(0, len(stream), size)]
        assert _ends(pieces) == [False] * (len(pieces) - 1) + [True]


def test_done_inside_a_blob_or_after_a_broken_frame_is_not_the_end():
    cut = RESULTS.index(DONE) + len(DONE)  # the results frame up to its blob that holds "done"'s bytes
    assert _ends([LOADED, RESULTS[:cut]]) == [False, False]
    assert _ends([b"GRD0" + LOADED[4:] + DONE]) == [False]  # not the protocol's marker
    assert _ends([LOADED + DONE + DONE]) == [True]  # "done" twice: whole frames, the last one "done"


def test_too_many_frames_are_garbled_before_and_after_they_arrive():
    many = protocol.pack_frame({}) * (protocol.MAX_FRAMES - 1)
    assert _ends([many + DONE]) == [True]  # as many frames as allowed, "done" the last of them
    assert _ends([many + protocol.pack_frame({}) + DONE]) == [False]
    assert protocol.unpack_all(many + DONE)[1] is True
    frames, whole = protocol.unpack_all(many + protocol.pack_frame({}) + DONE)
    assert (len(frames), whole) == (protocol.MAX_FRAMES, False)


class _CountingStruct:
    """``struct`` as protocol uses it, counting the length fields read."""

    def __init__(self) -> None:
        self.reads = 0

    def unpack_from(self, fmt, buffer, offset=0):
        self.reads += 1
        return struct.unpack_from(fmt, buffer, offset)

    def __getattr__(self, name):
        return getattr(struct, name)


def test_following_a_stream_read_in_small_pieces_reads_each_length_once(monkeypatch):
    # 1,000 frames, then one of 4,000 blobs that each end with "done"'s bytes, arriving a blob at a time:
    # every read ends like "done" (a walk from the stream's start on each read would cost 4,000 x 1,000).
    blob = b"x" * 15 + DONE
    frame = protocol.pack_frame({"t": "results"}, [blob] * 4000)
    start = frame.index(blob) - 8  # where the first blob's length is
    step = 8 + len(blob)
    pieces = [LOADED * 1000 + frame[:start]]
    pieces += [frame[i : i + step] for i in range(start, len(frame), step)]
    pieces.append(DONE)
    counting = _CountingStruct()
    monkeypatch.setattr(protocol, "struct", counting)
    finished = _ends(pieces)
    assert finished == [False] * (len(pieces) - 1) + [True]
    fields = 2 * 1001 + 4000 + 2  # two for each frame's start, one for each blob
    assert counting.reads <= fields + len(pieces)  # a frame start not all arrived may be looked at again, no more


FLOODS = f'''
import os, sys
protocol = sys.modules["protocol"]
fd = next(n for n in range(3, 64) if os.path.exists(f"/proc/self/fd/{{n}}"))
os.write(fd, protocol.pack_frame({{"t": "loaded", "chunk_errors": []}}) + protocol.pack_frame({{}}) * {protocol.MAX_FRAMES + 10}
         + protocol.pack_frame({{"t": "done"}}))
os._exit(0)
'''


def test_a_submission_that_floods_frames_is_garbled_and_the_next_one_is_graded():
    calls = (Call("f", ("x",), "array", ((0,),)),)
    with WorkerPool(1, api.default_launcher(TEST_LIMITS), TEST_LIMITS) as pool:
        flood = pool.run(Job(chunks=(("s.py", FLOODS),), mode="module", calls=calls))
        assert flood.status == "garbled" and "garbage" in flood.detail
        honest = pool.run(Job(chunks=(("s.py", "import numpy as np\ndef f(x):\n    return np.ones(2)\n"),),
                              mode="module", calls=calls))
        assert honest.status == "ok" and [c.status for c in honest.calls["f"]] == ["ok"]
        assert honest.calls["f"][0].value.array.tolist() == [1.0, 1.0]
