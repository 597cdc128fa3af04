"""The results record: plain float64 arrays in columns, every other case as its own entry; forged columns are dropped."""
from __future__ import annotations

import numpy as np
import pytest

from grader.sandbox import calls, protocol
from grader.sandbox.outcome import Transcript


def _stream(*frames: bytes) -> bytes:
    return protocol.pack_frame({"t": "loaded", "chunk_errors": []}) + b"".join(frames) + protocol.pack_frame({"t": "done"})


def _decoded(stream: bytes, count: int = 6) -> list:
    transcript = Transcript({"f": count})
    assert transcript.add(stream, {}) is None
    return transcript.finish().calls["f"]


def _returns(value):
    return lambda z: value


def _mutates(z):
    z[0] = 99.0
    return np.zeros(2)


def test_plain_arrays_travel_in_columns_and_the_rest_as_entries_and_both_decode_to_what_was_returned():
    z = (np.array([1.0, 2.0]),)
    made = [
        _returns(np.arange(6.0).reshape(2, 3)),  # plain
        _returns(np.array([0.5, 0.25], dtype=np.float32)),  # float32: an entry (its dtype is told)
        _returns([1.0, 2.0]),  # a list: an entry (its type is told)
        _mutates,  # changed its input: an entry (the change is told)
        _returns(np.empty((0, 3))),  # plain, and empty
        _returns(np.array([[7.0], [8.0]])),  # plain
    ]
    results = calls.Results("f", 0)
    for i, fn in enumerate(made):
        record, blobs = calls.call_once(fn, z, ("z",), "array", set())
        results.add(i, record, blobs)
    frames, clean = protocol.unpack_all(results.frame())
    header = frames[0][0]
    assert clean and header["plain"][0] == [0, 4, 5] and [e["case"] for e in header["cases"]] == [1, 2, 3]

    got = _decoded(_stream(results.frame()))
    assert [c.status for c in got] == ["ok"] * 6
    assert got[0].value.array.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert got[4].value.array.shape == (0, 3)
    assert got[5].value.array.tolist() == [[7.0], [8.0]]
    assert got[1].value.orig_dtype == "float32" and got[1].value.array.tolist() == [0.5, 0.25]
    assert got[2].value.type_name == "list" and got[2].value.array.tolist() == [1.0, 2.0]
    assert got[3].mutated == ("z",) and got[0].mutated == ()


def _forged(plain, blobs=(np.arange(4.0).tobytes(),)) -> bytes:
    return protocol.pack_frame({"t": "results", "function": "f", "index": 0, "cases": [], "plain": plain}, list(blobs))


@pytest.mark.parametrize("plain", [
    pytest.param([[0], [0.0], [[5]], 0], id="shape_larger_than_the_blob"),
    pytest.param([[0], [0.0], [[3]], 0], id="shape_smaller_than_the_blob"),
    pytest.param([[0], [0.0], [[2 ** 21] * 4], 0], id="shape_that_wraps_around"),
    pytest.param([[0], [0.0], [[-4]], 0], id="negative_length"),
    pytest.param([[0], [0.0], [[True, 4]], 0], id="boolean_length"),
    pytest.param([[0], [0.0], [[[4]]], 0], id="nested_shape"),
    pytest.param([[6], [0.0], [[4]], 0], id="case_out_of_range"),
    pytest.param([[True], [0.0], [[4]], 0], id="case_is_a_boolean"),
    pytest.param([[0, 1], [0.0], [[2], [2]], 0], id="columns_of_different_lengths"),
    pytest.param([[0], [0.0], [[4]], 1], id="blob_that_is_not_there"),
    pytest.param([[0], [0.0], [[4]]], id="three_columns"),
    pytest.param({"cases": [0]}, id="not_a_list"),
    pytest.param([[0] * 7, [0.0] * 7, [[0]] * 7, 0], id="more_cases_than_asked"),
])
def test_a_forged_column_gives_its_cases_no_result_and_raises_nothing(plain):
    got = _decoded(_stream(_forged(plain), _forged([[2], [0.0], [[4]], 0])))  # and a good record after it
    assert [c.status for c in got] == ["not_run", "not_run", "ok", "not_run", "not_run", "not_run"]
    assert got[2].value.array.tolist() == [0.0, 1.0, 2.0, 3.0]


def test_an_absurd_duration_is_read_as_zero_and_a_case_already_told_keeps_its_first_result():
    entry = {"case": 1, "status": "error", "error": {"type": "ValueError", "message": "no", "frames": []},
             "duration_s": 0.0, "mutated": [], "blobs": [0, 0]}
    first = protocol.pack_frame({"t": "results", "function": "f", "index": 0, "cases": [entry],
                                 "plain": [[0, 1], [10 ** 400, 0.5], [[2], [2]], 0]}, [np.arange(4.0).tobytes()])
    got = _decoded(_stream(first), count=2)
    assert got[0].status == "ok" and got[0].duration_s == 0.0 and got[0].value.array.tolist() == [0.0, 1.0]
    assert got[1].status == "error" and got[1].error.type == "ValueError"


def test_plain_arrays_past_the_cap_on_one_blob_travel_as_entries_and_still_decode():
    big = protocol.MAX_ELEMENTS // 2 + 50_000  # two of them pass the cap on one blob, not the cap on a stream
    results = calls.Results("f", 0)
    for i in range(2):
        record, blobs = calls.call_once(_returns(np.full(big, float(i))), (np.zeros(1),), ("z",), "array", set())
        results.add(i, record, blobs)
    header = protocol.unpack_all(results.frame())[0][0][0]
    assert header["plain"][0] == [0] and [e["case"] for e in header["cases"]] == [1]
    got = _decoded(_stream(results.frame()), count=2)
    assert [c.status for c in got] == ["ok", "ok"] and got[1].value.array.shape == (big,) and got[1].value.array[0] == 1.0
