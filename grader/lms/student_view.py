"""A report as students may see it on an LMS: hidden tests say what went wrong, never on which numbers.

A hidden test's message names its case (``K5-label4`` holds a hidden label), the size and
place of the worst error (with the student's own output, that gives the expected value), and
the student's exception text (which a student can fill with the hidden inputs). So each hidden
message is rebuilt from the few safe facts of its first words (a count of wrong cases, a
built-in exception's name, the time limit); anything else becomes a plain sentence. Hints of
hidden tests are their catalogue words with neutral blanks. Public tests are left as they are:
their inputs ship with the grader (``grader check``).
"""

from __future__ import annotations

import builtins
import re

from grader import exercises
from grader.diagnosis.catalogue import GENERIC, generic_message
from grader.diagnosis.explain import right_on_all
from grader.diagnosis.structure import NUMERICAL_BAND
from grader.report.model import Hint, HintSummary, Report, TestResult

HIDDEN_NOTE = "a hidden test: its inputs and expected values are not shown"
_BUILTIN_ERRORS = {name for name, value in vars(builtins).items()
                   if isinstance(value, type) and issubclass(value, BaseException)}


def student_view(report: Report) -> Report:
    """A copy of ``report`` whose hidden tests carry no value, input or student-made text."""
    view = report.model_copy(deep=True)
    exercise = exercises.EXERCISES.get(report.assignment)
    call_s = report.grader.limits.get("call_s")
    for test in view.tests:
        if test.visibility == "hidden":
            test.message = hidden_message(test)
            test.hints = [hidden_hint(h, test, exercise, call_s) for h in test.hints]
    view.hints = _summary_hints(report.hints, view.tests)
    return view


def hidden_message(test: TestResult) -> str:
    """The message of a hidden test, rebuilt from its safe facts only."""
    message = test.message
    if test.status == "passed":
        return right_on_all(test.cases) if test.cases else "right"
    if (m := re.match(r"wrong on (\d+) of (\d+) cases: nan or inf", message)):
        return f"wrong on {m[1]} of {m[2]} cases: nan or inf where the right values are finite ({HIDDEN_NOTE})"
    if (m := re.match(r"wrong on (\d+) of (\d+) cases", message)):
        return f"wrong on {m[1]} of {m[2]} cases: the values differ from the right ones{_when(message)} ({HIDDEN_NOTE})"
    if message.startswith("wrong shape"):
        return f"wrong shape: the result does not have the shape asked for ({HIDDEN_NOTE})"
    if message == f"{test.function} is not defined in the submission":
        return message
    if (m := re.match(r"not run: earlier calls of \S+ ran past the time limit of ([0-9.]+) s per call$", message)):
        return f"not run: earlier calls of {test.function} ran past the time limit of {m[1]} s per call"
    if (m := re.match(r"ran past the time limit of ([0-9.]+) s per call", message)):
        return f"ran past the time limit of {m[1]} s per call ({HIDDEN_NOTE})"
    if message.startswith("not implemented yet"):
        return "not implemented yet: it raises NotImplementedError or returns no result"
    if (m := re.match(r"raised ([A-Za-z_][A-Za-z0-9_]*)\b", message)):
        name = m[1] if m[1] in _BUILTIN_ERRORS else "an exception"
        return f"raised {name} ({HIDDEN_NOTE}, nor the exception's message)"
    if message.startswith("the result cannot be read as numbers"):
        return f"the result cannot be read as numbers ({HIDDEN_NOTE})"
    return f"{test.status} ({HIDDEN_NOTE})"


def _when(message: str) -> str:
    """Where in time a BPTT result goes wrong, without the steps' numbers (they give T away)."""
    if "already wrong at the last step" in message:
        return ", already at the last step t = T"
    if "first wrong at t =" in message:
        return ", right at the last steps and first wrong further back in time"
    return ""


def hidden_hint(hint: Hint, test: TestResult, exercise, call_s: float | None) -> Hint:
    """A hint of a hidden test in its catalogue words, blanks filled with neutral words."""
    if exercise is not None and hint.code in exercise.codes():
        message = exercise.words(hint.code)
    elif hint.code in GENERIC:
        target = f'{test.function}["{test.key}"]' if test.key else test.function
        message = generic_message(hint.code, **_neutral_blanks(target, call_s))
    else:
        message = "(the words of this hint are not shown for a hidden test)"
    return hint.model_copy(update={"message": message})


def _neutral_blanks(target: str, call_s: float | None) -> dict:
    return dict(
        function=target,
        error="an exception",
        limit=call_s if call_s else 5.0,
        detail="not an array of numbers",
        expected="the shape asked for",
        got="another shape",
        factor="a constant",
        where="",
        precision=NUMERICAL_BAND,
        names="(one of its arguments)",
    )


def _summary_hints(hints: list[HintSummary], tests: list[TestResult]) -> list[HintSummary]:
    """The report's list of hints, each in the words of the first test that gives it as shown."""
    out = []
    for summary in hints:
        words = next((h.message for t in tests for h in t.hints if h.code == summary.code), None)
        out.append(summary if words is None else summary.model_copy(update={"message": words}))
    return out
