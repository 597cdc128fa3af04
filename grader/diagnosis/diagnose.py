"""Diagnosis of one test: the hints it gets, most useful first."""

from __future__ import annotations

from grader.diagnosis.catalogue import START_HERE, generic_message, rank, wanted
from grader.diagnosis.explain import describe_error, given_away, missing_message, place, returned_none
from grader.diagnosis.mutants import matching_mutants
from grader.diagnosis.structure import structural_hints, warning_hints
from grader.evaluation.answers import CheckAnswers
from grader.evaluation.check import CheckResult
from grader.exercises.base import Exercise
from grader.report.model import Hint
from grader.source.model import Source
from grader.source.syntax import uses_single_precision


def diagnose(result: CheckResult, answers: CheckAnswers, exercise: Exercise, source: Source | None, call_s: float) -> list[Hint]:
    """Hints for a test: a known mistake if one fits, else what its structure shows; then warnings."""
    hints = _failure_hints(result, answers, exercise, source, call_s) if result.status != "passed" else []
    hints += [w for w in warning_hints(result, exercise) if w.code not in {h.code for h in hints}]
    return sorted(hints, key=lambda h: (h.warning, rank(h.code, exercise)))


def _failure_hints(result: CheckResult, answers: CheckAnswers, exercise: Exercise, source: Source | None, call_s: float) -> list[Hint]:
    function = result.check.function
    states = {c.state for c in result.cases}
    for state, code in (("missing", "generic.missing_function"), ("timeout", "generic.timeout"),
                        ("not_implemented", "generic.not_implemented")):
        if state not in states:
            continue
        if state == "missing" and (at := given_away(source, function)) is not None:  # defined, then its name taken
            return [Hint(code=code, message=f"{function} is defined, but {place(at, source)} then gives the name "
                                            f"{function} to something else, so it is no function when the tests call "
                                            "it: give that variable another name.")]
        if state == "not_implemented" and (why := returned_none(result, source)):  # written, but returns nothing:
            # HINTS.md's code for a None returned, in words that do not call it unwritten
            message = f"{function} is written, but {why}. {wanted(exercise.function(function))}"
            return [Hint(code="generic.not_implemented", message=message)]
        if state == "missing":
            return [Hint(code=code, message=missing_message(source, function, tuple(f.name for f in exercise.functions)))]
        return [Hint(code=code, message=generic_message(code, function=function, limit=call_s))]
    failing = next((c for c in result.cases if c.state == "exception"), None)
    if failing is not None and failing.call.error and failing.call.error.type == "OverflowError" \
            and function in exercise.overflows:  # math.exp's way of being unstable
        code, words = exercise.overflows[function]
        return [Hint(code=code, message=words)]
    if failing is not None:
        error = describe_error(failing.call.error, source, function)
        start_here = START_HERE if failing.call.error and failing.call.error.where else ""  # else no line is quoted
        start_here = _python2_name(failing.call.error) + start_here
        return [Hint(code="generic.exception", message=generic_message("generic.exception", function=function, error=error,
                                                                     start_here=start_here))]
    crashes = [c for c in result.cases if c.state == "crash"]
    if crashes:  # no exception to show: the process itself ended (os._exit, a signal); the cases after it were not run
        crash = next((c for c in crashes if not c.problem.startswith("not run")), crashes[0])
        return [Hint(code="generic.exception", message=f"{function} ended the process running it: {crash.problem}. "
                     "There is no Python error to show: look for os._exit or exit calls, signals, or C code "
                     "(ctypes) that crashes.")]
    unreadable = next((c for c in result.cases if c.state == "unreadable"), None)
    if unreadable is not None:
        message = generic_message("generic.wrong_type", function=function, detail=unreadable.problem,
                                  wanted=wanted(exercise.function(function)))
        return [Hint(code="generic.wrong_type", message=message)]
    hints = matching_mutants(result, answers, exercise)
    if hints:
        return hints
    return structural_hints(result, answers.expected, exercise.tolerance, derivative=exercise.function(function).derivative,
                            single=lambda: source is not None and uses_single_precision(source.chunks, source.compiled,
                                                                                        function))


PYTHON2 = {  # (the error, Python 2's name in it) -> what Python 3 has instead
    ("NameError", "xrange"): "range", ("NameError", "raw_input"): "input", ("NameError", "unicode"): "str",
    ("NameError", "basestring"): "str", ("NameError", "long"): "int", ("NameError", "unichr"): "chr",
    ("NameError", "reduce"): "functools.reduce", ("AttributeError", "iteritems"): "items",
    ("AttributeError", "itervalues"): "values", ("AttributeError", "iterkeys"): "keys",
    ("AttributeError", "has_key"): "the in operator",
}


def _python2_name(error) -> str:
    """' xrange is Python 2's: Python 3 has range.' for an error naming one of Python 2's names ('' else)."""
    found = next((key for key in PYTHON2 if error is not None and error.type == key[0] and f"'{key[1]}'" in error.message), None)
    return f" {found[1]} is Python 2's: Python 3 has {PYTHON2[found]}." if found else ""


def summary_order(hints: list[Hint], exercise: Exercise) -> list[Hint]:
    """Hints of a whole report without repeats: mistakes before warnings, specific before generic."""
    seen, out = set(), []
    for hint in sorted(hints, key=lambda h: (h.warning, rank(h.code, exercise))):
        if hint.code not in seen:
            seen.add(hint.code)
            out.append(hint)
    return out
