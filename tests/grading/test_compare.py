"""The comparison of a returned array with the expected one: its quick paths tell what the full anatomy tells."""

from __future__ import annotations

import math
from dataclasses import fields

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from grader import exercises
from grader.evaluation.compare import _anatomy, compare, quiet

TOL = exercises.get("softmax_gradients").tolerance
NUMBERS = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False, width=64)
ANY = st.one_of(NUMBERS, st.sampled_from([np.nan, np.inf, -np.inf]))


def _same(x, y) -> bool:
    if isinstance(x, float) and isinstance(y, float):
        return (math.isnan(x) and math.isnan(y)) or x == y
    return x == y


@st.composite
def pairs(draw):
    """An expected array and an answer to it: right, a little off, far off, or with nan and inf in it."""
    shape = draw(array_shapes(min_dims=0, max_dims=3, max_side=5))
    expected = draw(arrays(np.float64, shape, elements=NUMBERS))
    kind = draw(st.sampled_from(["right", "off", "far", "nonfinite"]))
    if kind == "right":
        actual = expected.copy()
    elif kind == "nonfinite":
        actual = draw(arrays(np.float64, shape, elements=ANY))
    else:
        noise = draw(arrays(np.float64, shape, elements=st.floats(-1, 1, width=64)))
        actual = expected + noise * (1e-3 if kind == "off" else 1e3)
    if draw(st.booleans()) and expected.size:  # a nan or inf in the expected answer too, now and then
        expected = expected.copy()
        expected.flat[draw(st.integers(0, expected.size - 1))] = draw(st.sampled_from([np.nan, np.inf]))
    return actual, expected


@pytest.mark.filterwarnings("ignore:All-NaN slice")  # an expected answer of nan alone (never a real one)
@settings(max_examples=400, deadline=None)
@given(pairs())
def test_the_quick_comparison_finds_what_the_full_anatomy_finds(pair):
    actual, expected = pair
    with quiet():  # as when a submission is graded
        quick, full = compare(actual, expected, TOL), _anatomy(actual, expected, TOL, TOL.rel, False)
    assert quick.verdict == full.verdict
    if quick.verdict != "match":  # a right answer's comparison leaves the anatomy out (nothing to explain)
        assert all(_same(getattr(quick, f.name), getattr(full, f.name)) for f in fields(quick)), (quick, full)


def test_a_wrong_finite_answer_is_told_entry_by_entry():
    expected = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    actual = expected.copy()
    actual[1, 2] += 0.5
    actual[1, 0] -= 0.1
    c = compare(actual, expected, TOL)
    assert (c.verdict, c.mismatched, c.worst, c.wrong_rows, c.nonfinite) == ("mismatch", 2, (1, 2), (1,), 0)
    assert math.isclose(c.max_abs, 0.5) and math.isclose(c.max_rel, 0.5 / 6) and math.isclose(c.scaled_error, 0.5 / 6)
