"""The words of a report for an LMS's text boxes: the same labels as ``grader check`` prints."""

from __future__ import annotations

from grader.report import check_words as words
from grader.report.model import Hint, Report, TestResult


def hint_text(hint: Hint, first: bool = True) -> str:
    """'hint jacobian.diagonal_only (this mistake gives your output on all 5 cases): Only the diagonal ...'."""
    return f"{words.hint_label(0 if first else 1, hint)} {hint.code}{words.evidence(hint)}: {hint.message}"


def describe_test(test: TestResult) -> str:
    """A test's message, then each of its hints on a paragraph of its own."""
    parts = [test.message] + [hint_text(h, i == 0) for i, h in enumerate(test.hints)]
    return "\n\n".join(p for p in parts if p)


def error_text(report: Report) -> str:
    """Why a submission could not be graded, with its hints (a report of status error)."""
    parts = [f"Your submission could not be graded: {report.message or 'it could not be run'}"]
    parts += [f"hint {h.code}: {h.message}" for h in report.hints]
    return "\n\n".join(parts)


def notes_text(report: Report) -> str:
    """What the grader noticed about the file (the one graded among several, dropped magics, ...)."""
    return "\n".join(f"note: {note}" for note in report.notes)


def score_line(report: Report, *, only_public: bool = False) -> str:
    """'score 62 / 100: 12 of 18 tests pass', or the public tests' part only."""
    tests = [t for t in report.tests if t.visibility == "public"] if only_public else report.tests
    score = sum(t.score for t in tests) if only_public else report.score
    most = sum(t.max_score for t in tests) if only_public else report.max_score
    which = "public tests" if only_public else "tests"
    passed = sum(t.status == "passed" for t in tests)
    return f"score {score:g} / {most:g}: {passed} of {len(tests)} {which} pass"
