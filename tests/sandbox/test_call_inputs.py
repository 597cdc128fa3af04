"""Each call gets fresh copies of its inputs; a change to them is told against the case itself, which stays as it was."""

from __future__ import annotations

import mmap

import numpy as np

from grader.exercises import get
from grader.grading import Plan
from grader.sandbox import calls
from grader.sandbox.limits import Limits
from grader.sandbox.pool import Job
from tests.conftest import sandbox_modules


def _scale_in_place(z, g):
    z *= 2.0
    return z


def _mutate_inside_tuple(pair, g):
    pair[0][0] = 99.0
    return g


def _pure(z, g):
    return z * 2.0


def test_an_input_changed_in_place_is_told_and_the_case_is_untouched():
    case = (np.array([1.0, 2.0, 3.0]), np.array([0.5, 0.5, 0.5]))
    record, blobs = calls.call_once(_scale_in_place, case, ("z", "g"), "array", set())
    assert record["status"] == "ok" and record["mutated"] == ["z"]
    assert case[0].tolist() == [1.0, 2.0, 3.0]  # the next call (or the next function) sees the same case
    assert np.frombuffer(blobs[0]).tolist() == [2.0, 4.0, 6.0]


def test_an_array_inside_a_tuple_input_is_copied_too():
    case = ((np.array([1.0, 2.0]), np.array([3.0])), np.array([1.0]))
    record, _ = calls.call_once(_mutate_inside_tuple, case, ("pair", "g"), "array", set())
    assert record["mutated"] == ["pair"]
    assert case[0][0].tolist() == [1.0, 2.0]


def test_a_function_that_changes_nothing_is_not_told():
    case = (np.array([1.0, 2.0]), np.array([1.0, 1.0]))
    record, _ = calls.call_once(_pure, case, ("z", "g"), "array", set())
    assert record["mutated"] == [] and case[0].tolist() == [1.0, 2.0]


def test_the_workers_warm_up_leaves_the_jobs_inputs_and_progress_as_they_were():
    submission, worker = sandbox_modules()
    exercise = get("softmax_gradients")
    plan = Plan.build(exercise, exercise.checks)
    job = worker._decode_job(Job((("s.py", ""),), "module", plan.calls).frame(Limits(), None))
    before = [[a.tobytes() if isinstance(a, np.ndarray) else a for a in case] for c in job["calls"] for case in c["inputs"]]
    progress = memoryview(mmap.mmap(-1, mmap.PAGESIZE)).cast("Q")
    progress[0] = 0
    submission.warm_up(job, progress)
    after = [[a.tobytes() if isinstance(a, np.ndarray) else a for a in case] for c in job["calls"] for case in c["inputs"]]
    assert after == before and len(before) > 10
    assert progress[0] == 0
