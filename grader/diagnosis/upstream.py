"""Mistakes made upstream: a test that fails because another function of the student's, which it calls, is wrong.

A gradient good only to float32 because the softmax it calls computes in float32; a backward pass that
raises on the line calling a forward pass whose own tests fail; a gradient that returns nan because the
softmax it calls overflows; a gradient whose input changes in place because the softmax it hands it to
changes its own; a right gradient whose values are wrong because the Jacobian it calls is. The hint (or, where
no hint fits, the test's message) then names the function to fix first.
"""

from __future__ import annotations

from typing import Callable

from grader.diagnosis.catalogue import generic_message
from grader.diagnosis.explain import describe_error, function_of_line
from grader.evaluation.check import CheckResult
from grader.report.model import Hint, TestResult
from grader.source.model import Source
from grader.source.syntax import first_read, globals_read_at, names_used_by, reads_after_calling, writes_into

FLOAT32 = "generic.float32_precision"
_PRECISION = (FLOAT32, "generic.numerical_gradient")


def blame_float32_callee(tests: list[TestResult], source: Source) -> None:
    """On the tests of the functions that call a float32 function, name that function as the one to fix.

    A softmax computed in float32 makes every gradient built on it wrong by about 1e-8: in a float32 array
    that reads as the caller's own float32, in a float64 one as a numerical gradient's precision; the call
    to a function whose own tests show float32 explains both.
    """
    float32 = list(dict.fromkeys(t.function for t in tests if _first_code(t) == FLOAT32))
    if not float32:
        return
    calls = _reader_of_calls(source)
    for test in tests:
        chain = _calls_down(test.function, float32, calls) if _first_code(test) in _PRECISION else []
        if chain:
            message = (f"{generic_message(FLOAT32, function=chain[-1])} {test.function} calls {_through(chain)}, "
                       "so it is no more precise.")
            test.hints[0] = Hint(code=FLOAT32, message=message, evidence=test.hints[0].evidence)


def _first_code(test: TestResult) -> str | None:
    """The code of the test's first hint, when that is a mistake (not a warning)."""
    return test.hints[0].code if test.hints and not test.hints[0].warning else None


def _through(chain: list[str]) -> str:
    """'f, which calls g, which calls h' for a chain of calls."""
    return chain[0] + "".join(f", which calls {f}" for f in chain[1:])


def _reader_of_calls(source: Source) -> Callable[[str], set[str]]:
    """``calls(function)``: the global names that the student's top-level ``function`` reads (read once per
    submission: ``names_used_by`` keeps them)."""
    return lambda function: names_used_by(source.compiled, function)


def _calls_down(function: str, among: list[str], calls) -> list[str]:
    """The functions ``among`` (float32 ones, say) that ``function`` calls, each calling the next, down to the
    last (a batch gradient that calls the cross-entropy gradient, which calls softmax); empty when it calls none."""
    chain: list[str] = []
    while (nxt := next((f for f in among if f != function and f not in chain and f in calls((chain or [function])[-1])), None)):
        chain.append(nxt)
    return chain


def blame_failing_callee(graded: list[tuple[TestResult, CheckResult]], source: Source) -> None:
    """On a test whose function raised, where another of the student's graded functions whose own tests show it
    returns something of the wrong form (or raises) is to blame, say to fix that one first: the line that raised
    calls it (rnn_backward unpacking the single array that an rnn_forward returning h alone gave), or lies in it
    (an xrange in softmax_jacobian, met through squared_loss_grad), or the function calls it elsewhere (the None of
    a softmax that prints instead of returning, handed on to np.diag)."""
    malformed = {test.function for test, _ in graded if _malformed(test)}
    calls = _reader_of_calls(source)
    for test, result in graded:
        others = sorted(malformed - {test.function})
        if not test.hints or test.hints[0].code != "generic.exception" or not others:
            continue
        error = next((c.call.error for c in result.cases if c.state == "exception"), None)
        where = error.where if error is not None else None
        called = _globals_read_at(source, where) if where else set()
        owner = function_of_line(source, *where) if where else None
        if (callee := next((f for f in others if f in called), None)) is not None:
            why = f" That line calls {callee}, whose own tests fail"
        elif owner in others:
            callee, why = owner, f" That line is in {owner}, whose own tests fail"
        elif (chain := _calls_down(test.function, others, calls)) and _called_before(source, test.function, chain[0], where):
            callee, why = chain[-1], f" {test.function} calls {_through(chain)}, whose own tests fail"
        else:
            continue
        message = generic_message("generic.exception", function=test.function,
                                  error=describe_error(error, source, test.function),
                                  start_here=f"{why}: fix {callee} first, then see whether this error remains.")
        test.hints[0] = Hint(code="generic.exception", message=message, evidence=test.hints[0].evidence)


def _called_before(source: Source, function: str, callee: str, where: tuple[str, int] | None) -> bool:
    """Whether ``function`` called ``callee`` before the line that raised: before it in its own code, or at all
    when that line lies elsewhere (deeper down, where everything it called came first)."""
    if where is None:
        return False
    if function_of_line(source, *where) != function:
        return True
    called = first_read(source.compiled, function, callee)
    return called is not None and called < where[1]


NONFINITE = "generic.nan_or_inf"
_OVERFLOWS = (NONFINITE, "softmax.unstable")


def blame_nonfinite_callee(graded: list[tuple[TestResult, CheckResult]], source: Source) -> None:
    """On a test whose result holds nan or inf, where its function calls another of the student's functions
    whose own tests show nan or inf (an unstable softmax), say to fix that one first: the caller may be right
    but for it, or wrong in its own way too (a cross-entropy gradient that also forgot the label)."""
    overflowing = sorted({test.function for test, _ in graded if _first_code(test) in _OVERFLOWS})
    if len(overflowing) < 2:  # the caller and what it calls
        return
    calls = _reader_of_calls(source)
    for test, _ in graded:
        chain = _calls_down(test.function, overflowing, calls) if _first_code(test) == NONFINITE else []
        if chain:
            message = (f"{test.hints[0].message} {test.function} calls {_through(chain)}, whose own tests show "
                       f"nan or inf too: fix {chain[-1]} first, then see what remains here.")
            test.hints[0] = Hint(code=NONFINITE, message=message, evidence=test.hints[0].evidence)


MUTATES = "generic.mutates_input"
LOOKS = {"generic.zeros"}  # what an input zeroed in place by the callee looks like in a result told from its values
EXPLAINED = {"bptt.dW_skips_h0"}  # a mistake whose wrong answer an input changed by the callee gives exactly: an
# h0 that rnn_forward overwrote with its last state, read again by rnn_backward, is h[t - 1] wrapped at t = 0


def blame_mutating_callee(graded: list[tuple[TestResult, CheckResult]], source: Source) -> None:
    """On a function that changed its input in place and calls another of the student's functions that changes
    its own, say the change most likely comes from that one (a softmax doing ``z -= z.max()`` changes the z of
    every gradient that hands it theirs): fixed there, it goes from all of them. Where the function's test fails
    with no mistake of its own to show (a backward pass reading h0 again after its forward pass overwrote it), or
    only a look of its values that the change explains (all zeros, from an input the callee zeroed), the change
    is that mistake, not a warning."""
    mutating = sorted({test.function for test, _ in graded if any(h.code == MUTATES for h in test.hints)})
    if len(mutating) < 2:
        return
    calls = _reader_of_calls(source)
    wrong = _wrong_functions(graded)
    for test, result in graded:
        for hint in list(test.hints):
            chain = _calls_down(test.function, mutating, calls) if hint.code == MUTATES else []
            mutated = {m for c in result.cases if c.call for m in c.call.mutated}
            if chain and not mutated & writes_into(source.chunks, test.function):  # else it does it itself
                names = ", ".join(sorted(mutated))
                # the cause only when what it calls is right but for the change (else that is the likelier cause)
                # and the function reads the changed input after handing it on; a mere look of its values (all
                # zeros: an input zeroed by the callee) is likelier the change's doing, and comes after it
                told = [h for h in test.hints if not h.warning]
                cause = (test.status == "failed" and all(h.code in LOOKS | EXPLAINED for h in told)
                         and not set(chain) & wrong and reads_after_calling(source.chunks, test.function, chain[0], mutated))
                if cause:
                    test.hints[:] = [hint] + [h for h in test.hints if h is not hint and h.code not in EXPLAINED]
                message = (f"{test.function} changed its input {names} in place, most likely through {_through(chain)}: "
                           f"{chain[-1]} changes its own input. Work on a copy in {chain[-1]}, and this goes too"
                           + (f": {test.function} then reads {names} changed, most likely why this test fails."
                              if cause else "."))
                test.hints[test.hints.index(hint)] = Hint(code=MUTATES, message=message, warning=not cause,
                                                          evidence=hint.evidence)


UPSTREAM = {FLOAT32, NONFINITE, MUTATES}  # hints with a cause of their own, upstream or not, left as they are


def blame_wrong_callee(graded: list[tuple[TestResult, CheckResult]], source: Source, keep: frozenset[str] = frozenset()) -> None:
    """On a test whose values are wrong, where its function calls another of the student's functions whose own
    tests fail on ordinary cases, say to fix that one first, and drop the mistakes told from the values: they
    describe what the wrong callee made of them, not the student's code (a right squared-loss gradient built on
    a diagonal-only Jacobian looks like the sigmoid's derivative). Warnings stay, and so do the hints in ``keep``
    (those that already name the callee as the cause: the consistency of a backward pass with its forward one).
    """
    wrong = sorted(_wrong_functions(graded) - _imprecise_only(graded))
    if len(wrong) < 2:  # the caller and what it calls
        return
    calls = _reader_of_calls(source)
    untouched = {t.function for t, r in graded if t.status == "passed" and "large" not in r.check.tags}
    for test, _ in graded:
        codes = {h.code for h in test.hints if not h.warning}
        chain = _calls_down(test.function, wrong, calls) if test.status == "failed" and not codes & (UPSTREAM | keep) else []
        if chain:
            if test.function not in untouched:  # none of its tests passes: the callee's error reaches them all
                test.hints = [h for h in test.hints if h.warning]
            # else a test of it passes (rnn_backward[o] right beside a forward pass wrong in yhat alone): the callee's
            # error need not reach this one, whose own mistake, if one is named, is most likely its own
            test.message += (f"; {test.function} calls {_through(chain)}, whose own tests fail: fix {chain[-1]} "
                             "first, then see what remains here")


def _wrong_functions(graded: list[tuple[TestResult, CheckResult]]) -> set[str]:
    """The functions not right on some case of ordinary size (an unstable softmax, wrong on large scores only, is
    not to blame for what a function calling it gets wrong elsewhere)."""
    return {test.function for test, result in graded
            if any(c.state != "right" and "large" not in c.case.tags for c in result.cases)}


def _imprecise_only(graded: list[tuple[TestResult, CheckResult]]) -> set[str]:
    """The functions wrong only as float32 is (a softmax computed in float32): off by about 1e-8, which explains no
    wrong value of a function calling them (that is :func:`blame_float32_callee`'s case), only an imprecise one."""
    codes: dict[str, set[str | None]] = {}
    for test, result in graded:
        if test.status != "passed" and "large" not in result.check.tags:  # (unstable as well: not on ordinary cases)
            codes.setdefault(test.function, set()).add(_first_code(test))
    return {function for function, seen in codes.items() if seen == {FLOAT32}}


_FORM = {"generic.wrong_type", "generic.shape_mismatch", "generic.transposed", "generic.missing_function",
        "generic.not_implemented", "generic.exception"}


def _malformed(test: TestResult) -> bool:
    """The test shows its function returning something of the wrong form, or nothing (it raised, or is missing)."""
    return test.status != "passed" and bool(test.hints) and (test.hints[0].code in _FORM or test.message.startswith("wrong shape"))


def _globals_read_at(source: Source, where: tuple[str, int]) -> set[str]:
    chunk, line = where
    return set().union(*(globals_read_at(code, line) for code in source.compiled_chunks(chunk)))
