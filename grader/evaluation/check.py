"""Judge one check: the student's result on each of its cases against the expected answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from grader.evaluation.compare import Comparison, compare, right_cases
from grader.exercises.base import Case, Check, Function, Tolerance
from grader.sandbox.outcome import CallResult, Returned

CaseState = Literal[
    "right", "wrong", "shape", "nonfinite", "unreadable", "not_implemented", "exception", "timeout", "crash", "missing"
]
TestStatus = Literal["passed", "failed", "error", "timeout"]
FAILED_VALUES = {"wrong", "shape", "nonfinite", "unreadable"}


@dataclass
class CaseResult:
    """The student's result on one case, judged."""

    case: Case
    state: CaseState
    call: CallResult | None = None
    returned: Returned | None = None
    actual: np.ndarray | None = None
    comparison: Comparison | None = None
    alias: str | None = None  # the key under which a dict value was found, when not the contract's
    problem: str = ""  # why it could not be compared, in the student's terms


@dataclass
class CheckResult:
    """All of a check's cases, judged, with the status they add up to."""

    check: Check
    cases: list[CaseResult]

    @property
    def status(self) -> TestStatus:
        """timeout if any case timed out, error if any raised or crashed, failed if any is wrong."""
        states = {c.state for c in self.cases}
        if "timeout" in states:
            return "timeout"
        if states & {"not_implemented", "exception", "crash", "missing"}:
            return "error"
        if states & FAILED_VALUES:
            return "failed"
        return "passed"

    @property
    def comparable(self) -> bool:
        """True when every case returned an array of the right shape (values can be studied)."""
        return all(c.actual is not None and c.comparison and c.comparison.verdict != "shape" for c in self.cases)


Judged = tuple[Check, Function, "list[CallResult] | None", list[np.ndarray]]  # a check, its calls, their answers


def judge_checks(judged: list[Judged], tol: Tolerance, every_expected: list[np.ndarray]) -> list[CheckResult]:
    """Judge a submission's checks; the plainly right cases of them all are found in one vectorised pass.

    Each item is a check, its function, its calls (None when the function is missing) and the expected
    answers; ``every_expected`` is those answers end to end, the same list for a whole batch (so that
    what is derived from it is computed once).
    """
    plains = [[None] * len(check.cases) if calls is None else [_plain_array(r, function, check.key) for r in calls]
              for check, function, calls, _ in judged]
    right = right_cases([p for plain in plains for p in plain], every_expected, tol)
    results, offset = [], 0
    for (check, function, calls, expected), plain in zip(judged, plains):
        results.append(_judge_check(check, function, calls, expected, tol, plain, right, offset))
        offset += len(check.cases)
    return results


def _judge_check(check: Check, function: Function, calls: list[CallResult] | None, expected: list[np.ndarray],
                 tol: Tolerance, plain: list, right: dict, offset: int) -> CheckResult:
    """Each case's call result against its expected answer; ``right[offset + i]``: case i is plainly right."""
    if calls is None:
        return CheckResult(check, [CaseResult(case, "missing") for case in check.cases])
    cases = []
    for i, (case, call, answer) in enumerate(zip(check.cases, calls, expected)):
        comparison = right.get(offset + i)
        if comparison is not None:
            cases.append(CaseResult(case, "right", call, plain[i], plain[i].array, comparison))
        else:
            cases.append(_judge_case(case, function, check.key, call, answer, tol))
    return CheckResult(check, cases)


def _plain_array(call: CallResult, function: Function, key: str | None) -> Returned | None:
    """The array a case returned, when it is one, readable, under the contract's own key (else None)."""
    if call.status != "ok":
        return None
    value = call.value
    if key is not None:
        if isinstance(value, dict) and function.returns == "dict":
            value = value.get(key)
        elif isinstance(value, tuple) and function.returns == "tuple" and function.keys.index(key) < len(value):
            value = value[function.keys.index(key)]
        else:
            return None
    if isinstance(value, Returned) and value.unreadable is None:
        return value
    return None


def _judge_case(
    case: Case, function: Function, key: str | None, call: CallResult, expected: np.ndarray, tol: Tolerance
) -> CaseResult:
    if call.status == "timeout":
        return CaseResult(case, "timeout", call, problem=call.detail)
    if call.status in ("crash", "not_run"):
        return CaseResult(case, "crash", call, problem=call.detail)
    if call.status == "error":
        state = "not_implemented" if call.error and call.error.type == "NotImplementedError" else "exception"
        return CaseResult(case, state, call)
    value, alias, problem = _select(call.value, function, key)
    if problem:
        state = "not_implemented" if call.value is None else "unreadable"
        return CaseResult(case, state, call, problem=problem)
    if value.unreadable:
        return CaseResult(case, "unreadable", call, value, problem=f"a {value.type_name}: {value.unreadable}")
    comparison = compare(value.array, expected, tol)
    state = _STATES[comparison.verdict]
    actual = value.array.reshape(comparison.expected_shape) if comparison.squeezed else value.array
    return CaseResult(case, state, call, value, actual, comparison, alias)


_STATES = {"match": "right", "mismatch": "wrong", "shape": "shape", "nonfinite": "nonfinite"}


def _select(value, function: Function, key: str | None) -> tuple[Returned | None, str | None, str]:
    """The returned array a check grades: the whole result, or one key of a dict (or item of a tuple)."""
    if value is None:
        return None, None, "returned None"
    if key is None:
        if isinstance(value, Returned):
            return value, None, ""
        return None, None, f"returned a {'dict' if isinstance(value, dict) else 'tuple'} where an array was asked"
    if function.returns == "tuple":
        if not isinstance(value, tuple):
            what = "a dict" if isinstance(value, dict) else "one array"
            return None, None, f"returned {what} where a tuple {tuple(function.keys)} was asked"
        index = function.keys.index(key)
        if index >= len(value):
            return None, None, f"returned a tuple of {len(value)} items where {len(function.keys)} were asked"
        item = value[index]
        return (item, None, "") if isinstance(item, Returned) else (None, None, "an item of the tuple is None")
    if isinstance(value, tuple):
        return None, None, f"returned a tuple of {len(value)} items where a dict with keys {list(function.keys)} was asked"
    if not isinstance(value, dict):
        return None, None, f"returned an array where a dict with keys {list(function.keys)} was asked"
    if key in value:
        item, alias = value[key], None
    else:
        alias = next((a for a, k in function.key_aliases.items() if k == key and a in value), None)
        if alias is None:
            found = ", ".join(repr(k) for k in list(value)[:12]) or "none"
            return None, None, f"the dict has no key {key!r} (keys found: {found})"
        item = value[alias]
    if not isinstance(item, Returned):
        return None, None, f"the value under {key!r} is not an array"
    return item, alias, ""
