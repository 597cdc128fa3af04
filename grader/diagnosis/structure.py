"""Structural checks: what can be said of a wrong answer when no known mistake matches it exactly."""

from __future__ import annotations

from fractions import Fraction
from typing import Callable

import numpy as np

from grader.diagnosis.catalogue import generic_message
from grader.evaluation.check import CheckResult
from grader.evaluation.compare import compare
from grader.exercises.base import Exercise, Tolerance
from grader.report.model import Evidence, Hint

NUMERICAL_BAND = 1e-4  # wrong by less than this (relative to scale): finite-difference precision
FLOAT32_BAND = 1e-5


def _exact(candidate: np.ndarray, expected: np.ndarray, tol: Tolerance, error: float = np.inf) -> bool:
    """True when a transformed answer is right to float64 precision and far closer than ``error`` (untransformed)."""
    c = compare(candidate, expected, tol, rel=10 * tol.rel)
    return c.ok and c.scaled_error <= 0.01 * error


def _hint(code: str, n: int, matched: int | None = None, **fields) -> Hint:
    """A hint seen on ``matched`` of the check's ``n`` cases (all of them unless said)."""
    return Hint(code=code, message=generic_message(code, **fields),
                evidence=Evidence(matched_cases=n if matched is None else matched, of=n))


def structural_hints(result: CheckResult, expected: list[np.ndarray], tol: Tolerance, *, derivative: bool = True,
                     single: Callable[[], bool] = lambda: False) -> list[Hint]:
    """Generic hints for a failed check whose every case returned an array.

    ``derivative``: the function computes a gradient (finite differences may stand in for it); ``single()``:
    its code (or what it calls) names a single-precision type (asked only of values right to about 1e-4).
    """
    name = _target(result)
    n = len(result.cases)
    cases = result.cases
    shapes = [c for c in cases if c.comparison and c.comparison.verdict == "shape"]
    if shapes:
        if all(_is_transpose(c.actual, e, tol) for c, e in zip(cases, expected)):
            return [_hint("generic.transposed", n, function=name)]
        first = shapes[0].comparison
        return [_hint("generic.shape_mismatch", n, len(shapes), function=name, expected=first.expected_shape,
                      got=first.actual_shape)]
    nonfinite = sum(c.comparison.verdict == "nonfinite" for c in cases)
    if nonfinite:
        large = "large" in result.check.tags
        where = ""
        if large:  # what is verified, and only that: another case of this test right, where it stays finite
            right = any(c.state == "right" for c in cases)
            where = " (on scores of size 1e3; on its other cases, it is right)" if right else " (on scores of size 1e3)"
        return [_hint("generic.nan_or_inf", n, nonfinite, function=name, where=where)]
    actual = [c.actual for c in cases]
    errors = [c.comparison.scaled_error for c in cases]
    if all(not np.any(a) for a in actual) and any(np.any(e) for e in expected):
        return [_hint("generic.zeros", n, function=name)]
    if all(_exact(-a, e, tol, err) for a, e, err in zip(actual, expected, errors)):
        return [_hint("generic.sign_flipped", n, function=name)]
    if all(a.ndim == 2 and a.shape[0] == a.shape[1] and _exact(a.T, e, tol, err) for a, e, err in zip(actual, expected, errors)):
        return [_hint("generic.transposed", n, function=name)]
    factor = _common_factor(actual, expected, errors, tol, result)
    if factor:
        return [_hint("generic.scaled", n, function=name, factor=factor)]
    worst = max(c.comparison.scaled_error for c in cases)
    # A float32 array returned, or float32 named in the code, is evidence enough, however the rounding of large
    # inputs grew; float32-exact values in a float64 array are, only within single precision.
    if worst <= NUMERICAL_BAND and (_returned_float32(result) or single()) or worst <= FLOAT32_BAND and _float32_values(actual):
        return [_hint("generic.float32_precision", n, function=name)]
    if worst <= NUMERICAL_BAND and derivative:
        return [_hint("generic.numerical_gradient", n, function=name, precision=worst)]
    return []


def _target(result: CheckResult) -> str:
    check = result.check
    return f'{check.function}["{check.key}"]' if check.key else check.function


def _is_transpose(actual: np.ndarray | None, expected: np.ndarray, tol: Tolerance) -> bool:
    return actual is not None and actual.ndim == 2 and actual.T.shape == expected.shape and _exact(actual.T, expected, tol)


def _common_factor(actual: list[np.ndarray], expected: list[np.ndarray], errors: list[float], tol: Tolerance,
                   result: CheckResult) -> str:
    """The constant c with actual = c * expected on every case, named; '' when there is none."""
    factors = []
    for a, e, err in zip(actual, expected, errors):
        denom = float(np.vdot(e, e))
        if denom == 0.0:
            return ""
        c = float(np.vdot(a, e)) / denom
        if not np.isfinite(c) or abs(c) < 1e-12 or abs(c - 1) < 1e-6 or not _exact(a, c * e, tol, err):
            return ""
        factors.append(c)
    if np.allclose(factors, factors[0], rtol=1e-8, atol=0.0):
        return _name_number(factors[0])
    for label, sizes in _case_sizes(result).items():
        for power, word in ((1, label), (-1, f"1/{label}")):
            if np.allclose(factors, np.asarray(sizes, dtype=float) ** power, rtol=1e-8, atol=0.0):
                return f"{word} ({label} the number of {'classes' if label == 'K' else 'rows'})"
    return ""


def _case_sizes(result: CheckResult) -> dict[str, list[int]]:
    """Sizes that a case-dependent factor may be: K (classes) and N (rows), read from the expected shapes."""
    shapes = [c.comparison.expected_shape for c in result.cases]
    sizes = {"K": [s[-1] for s in shapes]}
    if all(len(s) == 2 for s in shapes):
        sizes["N"] = [s[0] for s in shapes]
    return sizes


def _name_number(c: float) -> str:
    fraction = Fraction(c).limit_denominator(12)
    if abs(float(fraction) - c) < 1e-9 * max(1.0, abs(c)):
        return str(fraction)
    return f"{c:.6g}"


def _float32_values(actual: list[np.ndarray]) -> bool:
    return all(np.array_equal(a.astype(np.float32).astype(np.float64), a) for a in actual)


def _returned_float32(result: CheckResult) -> bool:
    return any(c.returned is not None and c.returned.orig_dtype == "float32" for c in result.cases)


def warning_hints(result: CheckResult, exercise: Exercise) -> list[Hint]:
    """Remarks that cost no points: an input changed in place, an extra axis, float32 results, d-prefixed keys."""
    hints = []
    if any(c.alias for c in result.cases) and "bptt.d_prefixed_keys" in exercise.notes:
        hints.append(Hint(code="bptt.d_prefixed_keys", message=exercise.words("bptt.d_prefixed_keys"), warning=True))
    name = _target(result)
    mutated = sorted({m for c in result.cases if c.call for m in c.call.mutated})
    if mutated:
        hints.append(Hint(code="generic.mutates_input", message=generic_message(
            "generic.mutates_input", function=result.check.function, names=", ".join(mutated)), warning=True))
    squeezed = next((c.comparison for c in result.cases if c.comparison and c.comparison.squeezed), None)
    if squeezed:
        got = next(c.returned.array.shape for c in result.cases if c.comparison is squeezed)
        hints.append(Hint(code="generic.extra_singleton_axis", message=generic_message(
            "generic.extra_singleton_axis", function=name, got=got, expected=squeezed.expected_shape), warning=True))
    if result.status == "passed" and _returned_float32(result):
        hints.append(Hint(code="generic.float32_precision", message=generic_message(
            "generic.float32_precision", function=name), warning=True))
    return hints
