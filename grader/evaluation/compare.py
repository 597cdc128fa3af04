"""Compare one returned array with the expected one, keeping the anatomy of a mismatch as data."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import numpy as np

from grader.exercises.base import Tolerance

Verdict = Literal["match", "mismatch", "shape", "nonfinite"]


@dataclass(slots=True)  # not frozen: one per case and per mutant tried
class Comparison:
    """How an actual array differs from the expected one (numpy.testing's anatomy, as data)."""

    verdict: Verdict
    expected_shape: tuple[int, ...]
    actual_shape: tuple[int, ...]
    max_abs: float = 0.0
    max_rel: float = 0.0
    worst: tuple[int, ...] = ()
    mismatched: int = 0
    total: int = 0
    nonfinite: int = 0  # nan/inf entries of the actual array where the expected one is finite
    squeezed: bool = False  # extra axes of length 1 were removed to compare
    scaled_error: float = 0.0  # max_abs / max(|expected|, floor): what the tolerance bounds
    wrong_rows: tuple[int, ...] = ()  # indices along the first axis holding a wrong entry

    @property
    def ok(self) -> bool:
        """True when the values are right (possibly after removing singleton axes)."""
        return self.verdict == "match"


def conform(actual: np.ndarray, expected_shape: tuple[int, ...]) -> tuple[np.ndarray, bool]:
    """Drop extra axes of length 1 (a (K, 1) column where (K,) was asked); say whether any were."""
    if actual.shape == expected_shape:
        return actual, False
    if actual.size == int(np.prod(expected_shape)) and actual.ndim > len(expected_shape):
        if tuple(n for n in actual.shape if n != 1) == tuple(n for n in expected_shape if n != 1):
            return actual.reshape(expected_shape), True
    return actual, False


def compare(actual: np.ndarray, expected: np.ndarray, tol: Tolerance, rel: float | None = None) -> Comparison:
    """Compare ``actual`` with ``expected``: right when max |a - e| <= rel * max(max |e|, floor)."""
    rel = tol.rel if rel is None else rel
    expected = np.asarray(expected, dtype=np.float64)
    actual, squeezed = conform(np.asarray(actual, dtype=np.float64), expected.shape)
    if actual.shape != expected.shape:
        return Comparison("shape", expected.shape, actual.shape, total=expected.size)
    if expected.size:  # the common cases, finite on both sides, in a few vectorised steps
        diff, max_abs, scale = _differences(actual, expected, tol.floor)
        if max_abs <= rel * scale and scale < np.inf:  # right (False for nan)
            return Comparison("match", expected.shape, actual.shape, max_abs=max_abs, total=expected.size,
                              squeezed=squeezed, scaled_error=max_abs / scale)
        if max_abs < np.inf and scale < np.inf:  # wrong, but every entry of both is a number
            return _finite_mismatch(diff, expected, max_abs, scale, rel, squeezed)
    return _anatomy(actual, expected, tol, rel, squeezed)


def _finite_mismatch(diff: np.ndarray, expected: np.ndarray, max_abs: float, scale: float, rel: float,
                     squeezed: bool) -> Comparison:
    """What :func:`_anatomy` finds when both arrays are finite and some entry is off, in fewer steps."""
    mismatched_mask = diff > rel * scale
    rel_err = np.where(mismatched_mask, diff / np.maximum(np.abs(expected), 1e-6 * scale), 0.0)
    return Comparison(
        "mismatch", expected.shape, expected.shape, max_abs=max_abs, max_rel=float(rel_err.max()),
        worst=tuple(int(i) for i in np.unravel_index(int(np.argmax(diff)), diff.shape)),
        mismatched=int(np.count_nonzero(mismatched_mask)), total=expected.size, squeezed=squeezed,
        scaled_error=max_abs / scale, wrong_rows=_wrong_rows(mismatched_mask))


def _wrong_rows(mismatched_mask: np.ndarray) -> tuple[int, ...]:
    """The indices along the first axis that hold a wrong entry."""
    if mismatched_mask.ndim < 1 or not len(mismatched_mask):
        return ()
    return tuple(int(i) for i in np.flatnonzero(mismatched_mask.reshape(len(mismatched_mask), -1).any(axis=1)))


def _anatomy(actual: np.ndarray, expected: np.ndarray, tol: Tolerance, rel: float, squeezed: bool) -> Comparison:
    """The comparison of two arrays of one shape, whatever they hold (nan and inf too)."""
    finite_expected = np.isfinite(expected)
    bad = ~np.isfinite(actual) & finite_expected
    both_nan = np.isnan(actual) & np.isnan(expected)
    same_inf = np.isinf(actual) & (actual == expected)
    with np.errstate(all="ignore"):
        diff = np.where(both_nan | same_inf, 0.0, np.abs(actual - expected))
        diff = np.where(np.isnan(diff), np.inf, diff)
        scale = max(float(np.max(np.abs(expected[finite_expected]), initial=0.0)), tol.floor)
        bound = rel * scale
        mismatched_mask = diff > bound
        rel_err = np.where(mismatched_mask, diff / np.maximum(np.abs(expected), 1e-6 * scale), 0.0)
    total = expected.size
    if total == 0:
        return Comparison("match", expected.shape, actual.shape, squeezed=squeezed)
    worst = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.size else ()
    max_abs = float(np.max(diff))
    result = dict(
        expected_shape=expected.shape,
        actual_shape=actual.shape,
        max_abs=max_abs,
        max_rel=float(np.nanmax(rel_err)) if rel_err.size else 0.0,
        worst=tuple(int(i) for i in worst),
        mismatched=int(np.count_nonzero(mismatched_mask)),
        total=total,
        nonfinite=int(np.count_nonzero(bad)),
        squeezed=squeezed,
        scaled_error=max_abs / scale,
        wrong_rows=_wrong_rows(mismatched_mask),
    )
    if result["nonfinite"]:
        return Comparison("nonfinite", **result)
    return Comparison("mismatch" if result["mismatched"] else "match", **result)


def right_cases(returned: list, expected: list[np.ndarray], tol: Tolerance) -> dict:
    """The cases that are plainly right, found in a few vectorised steps for the whole list.

    ``returned`` holds, for each case, an object with an ``.array`` of the expected shape, or
    anything else (None) for a case to be judged one by one. Returns {case index: that object}
    for the cases whose arrays meet the tolerance with finite values.
    """
    picked = [i for i, (r, e) in enumerate(zip(returned, expected))
              if r is not None and r.array.shape == e.shape and e.size]
    if not picked:
        return {}
    actual = np.concatenate([returned[i].array.ravel() for i in picked])
    scales, starts, reference = _expected_scales(expected, picked, tol.floor)
    with np.errstate(all="ignore"):
        diff = np.abs(actual - reference)
        worst = np.maximum.reduceat(diff, starts)
    ok = worst <= tol.rel * scales  # False for nan
    return {i: Comparison("match", expected[i].shape, expected[i].shape, max_abs=m, total=expected[i].size,
                          scaled_error=m / scale)
            for i, good, m, scale in zip(picked, ok.tolist(), worst.tolist(), scales.tolist()) if good}


_SCALES: dict[tuple, tuple] = {}


def _expected_scales(expected: list[np.ndarray], picked: list[int], floor: float) -> tuple:
    """For the picked cases: max(max |e|, floor) each, where each starts, and all of them end to end.

    Cached: a batch compares every submission with the same expected arrays.
    """
    key = (id(expected), tuple(picked), floor)
    hit = _SCALES.get(key)
    if hit is not None and hit[0] is expected:
        return hit[1]
    arrays = [expected[i] for i in picked]
    with np.errstate(all="ignore"):
        scales = np.array([max(float(np.abs(e).max()), floor) for e in arrays])
    scales[~np.isfinite(scales)] = np.nan  # never plainly right: judged one by one
    starts = np.cumsum([0] + [e.size for e in arrays[:-1]])
    value = (scales, starts, np.concatenate([e.ravel() for e in arrays]))
    if len(_SCALES) > 4096:
        _SCALES.clear()
    _SCALES[key] = (expected, value)
    return value


def close(actual: np.ndarray, expected: np.ndarray, tol: Tolerance) -> bool:
    """Loose equality used to tell which mistake an output is (nan matches nan, inf matches inf)."""
    expected = np.asarray(expected, dtype=np.float64)
    actual, _ = conform(np.asarray(actual, dtype=np.float64), expected.shape)
    if actual.shape != expected.shape:
        return False
    if expected.size:  # finite on both sides, the common case: one bound
        _, max_abs, scale = _differences(actual, expected, tol.floor)
        if max_abs < np.inf and scale < np.inf:
            return max_abs <= tol.match_rel * scale
    if not np.array_equal(np.isnan(actual), np.isnan(expected)):
        return False
    c = compare(actual, expected, tol, rel=tol.match_rel)
    return c.verdict == "match"


def _differences(actual: np.ndarray, expected: np.ndarray, floor: float) -> tuple[np.ndarray, float, float]:
    """|a - e|, its max, and the scale max(max |e|, floor); nan or inf when either side is not finite."""
    if getattr(_state, "quiet", False):
        diff = np.abs(actual - expected)
        return diff, float(diff.max()), max(float(np.abs(expected).max()), floor)
    with quiet():
        return _differences(actual, expected, floor)


_state = threading.local()  # NumPy's error state is per thread too


@contextmanager
def quiet():
    """NumPy's warnings on nan and inf silenced while a whole submission is compared (once, not per array)."""
    if getattr(_state, "quiet", False):
        yield
        return
    with np.errstate(all="ignore"):
        _state.quiet = True
        try:
            yield
        finally:
            _state.quiet = False
