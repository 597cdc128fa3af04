"""Precision lost upstream: a result good only to float32 because a function of the student's it calls is."""

from __future__ import annotations

from grader.diagnosis.catalogue import generic_message
from grader.report.model import Hint, TestResult
from grader.source.model import Source
from grader.source.syntax import names_used_by

FLOAT32 = "generic.float32_precision"
_PRECISION = (FLOAT32, "generic.numerical_gradient")


def blame_float32_callee(tests: list[TestResult], source: Source) -> None:
    """On the tests of the functions that call a float32 function, name that function as the one to fix.

    A softmax computed in float32 makes every gradient built on it wrong by about 1e-8: in a float32 array
    that reads as the caller's own float32, in a float64 one as a numerical gradient's precision; the call
    to a function whose own tests show float32 explains both.
    """
    float32 = list(dict.fromkeys(t.function for t in tests if t.hints and t.hints[0].code == FLOAT32 and not t.hints[0].warning))
    if not float32:
        return
    used: dict[str, set[str]] = {}
    for test in tests:
        if not test.hints or test.hints[0].code not in _PRECISION or test.hints[0].warning:
            continue
        if test.function not in used:
            used[test.function] = names_used_by(source.compiled, test.function)
        callee = next((f for f in float32 if f != test.function and f in used[test.function]), None)
        if callee is not None:
            message = f"{generic_message(FLOAT32, function=callee)} {test.function} calls {callee}, so it is no more precise."
            test.hints[0] = Hint(code=FLOAT32, message=message, evidence=test.hints[0].evidence)
