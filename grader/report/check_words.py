"""The words of a student's check, one place for both renderings: the terminal's and the notebook's HTML."""

from __future__ import annotations

from grader.report.model import Hint, Report, TestResult

UNGRADABLE = "could not be graded:"
STUBS = "not implemented yet"
STUBS_WHY = "(still the template's stub)"


def mark(test: TestResult) -> str:
    """The short status mark of a test's row: ok, FAIL, ERR or TIME."""
    return {"passed": "ok", "timeout": "TIME"}.get(test.status, "FAIL" if test.status == "failed" else "ERR")


def stub_tests(report: Report) -> list[TestResult]:
    """The tests of functions that are still the template's stub (their hints are said once, together)."""
    return [t for t in report.tests if [h.code for h in t.hints] == ["generic.not_implemented"]]


def stub_names(stubs: list[TestResult]) -> str:
    """The functions of those tests, each named once."""
    return ", ".join(dict.fromkeys(t.function for t in stubs))


def hint_label(index: int, hint: Hint) -> str:
    """'hint' for a test's first hint, 'also possible' for the others, 'warning' for a remark."""
    return "warning" if hint.warning else ("hint" if index == 0 else "also possible")


def hinted(report: Report, stubs: list[TestResult]) -> list[tuple[TestResult, list[tuple[str, Hint]], list[str]]]:
    """The tests whose hints are shown (not the stubs), each with its hints and their labels, and the later tests
    whose hints are the very same (codes, words, evidence): those are said once, under the first such test, and
    not shown again (one missing return would otherwise print the same block seven times)."""
    shown: dict[tuple, list[str]] = {}
    out = []
    for test in report.tests:
        if not test.hints or test in stubs:
            continue
        key = (test.status, *((h.code, h.message, h.warning, evidence(h)) for h in test.hints))
        if key in shown:
            shown[key].append(test.id)
            continue
        shown[key] = []
        out.append((test, [(hint_label(i, h), h) for i, h in enumerate(test.hints)], shown[key]))
    return out


def same_for(tests: list[str]) -> str:
    """', and with the same hints rnn_forward[yhat]/public and rnn_backward[o]/public', or ''."""
    if not tests:
        return ""
    named = ", ".join(tests[:-1]) + f" and {tests[-1]}" if len(tests) > 1 else tests[0]
    return f", and with the same hints {named}"


def evidence(hint: Hint) -> str:
    """' (this mistake gives your output on all 3 cases)' for a catalogued mistake (on every case: where the test
    counts 2 of 3 wrong, the mistake happens to be right on the third too), ' (seen on 1 of 5 cases)' for what a
    result shows (a generic hint, or a backward pass checked against its own forward pass), or '' for a warning
    or a hint without evidence."""
    if not hint.evidence or hint.warning:
        return ""
    if hint.code.startswith("generic.") or hint.code == "bptt.consistent_with_wrong_forward":
        return f" (seen on {hint.evidence.matched_cases} of {hint.evidence.of} cases)"
    matched, of = hint.evidence.matched_cases, hint.evidence.of
    if matched == of:
        return f" (this mistake gives your output on {'both' if of == 2 else f'all {of}'} cases)" if of > 1 \
            else " (this mistake gives your output)"
    return f" (this mistake gives your output on {matched} of {of} cases)"


def score(report: Report) -> str:
    """'score 6 / 33'."""
    return f"score {report.score:g} / {report.max_score:g}"


def tally(report: Report) -> str:
    """'1 of 8 public tests pass (sandbox: bwrap)'."""
    passed = sum(t.status == "passed" for t in report.tests)
    return f"{passed} of {len(report.tests)} public tests pass (sandbox: {report.grader.sandbox})"
