"""What a student page shows of one report, in the words of `grader check` (grader/report/text.py)."""

from __future__ import annotations

from dataclasses import dataclass

from grader.report import check_words as words
from grader.report.model import Hint, Report, TestResult

@dataclass(frozen=True)
class TestRow:
    """One line of the tests table, as `grader check` prints it."""

    mark: str
    status: str
    id: str
    score: str
    message: str


@dataclass(frozen=True)
class HintLine:
    """A hint under its test: "hint", "also possible" or "warning", its code, the evidence, its words."""

    label: str
    code: str
    evidence: str
    message: str


@dataclass(frozen=True)
class HintedTest:
    """A test that carries hints, with them in the order they were ranked."""

    test: TestResult
    hints: tuple[HintLine, ...]


@dataclass(frozen=True)
class StudentView:
    """The student page's content."""

    report: Report
    rows: tuple[TestRow, ...]
    stubs: tuple[str, ...]  # functions whose every hint says the template's stub is still there
    hinted: tuple[HintedTest, ...]
    passed: int
    tests_word: str  # "public tests" for a `grader check` report, as check says; "tests" otherwise


def hint_line(hint: Hint, rank: int) -> HintLine:
    """One hint as `grader check` prints it (``rank`` 0 is the most likely)."""
    return HintLine(words.hint_label(rank, hint), hint.code, words.evidence(hint).strip(), hint.message)


def page_view(report: Report) -> StudentView:
    """Group the report's tests and hints as the terminal check does (not to be confused with
    ``grader.lms.student_view``, which redacts hidden tests)."""
    stub_tests = words.stub_tests(report)
    stub_ids = {id(t) for t in stub_tests}
    hinted = tuple(
        HintedTest(t, tuple(hint_line(h, i) for i, h in enumerate(t.hints)))
        for t in report.tests
        if t.hints and id(t) not in stub_ids
    )
    public_only = bool(report.tests) and all(t.visibility == "public" for t in report.tests)
    return StudentView(
        report=report,
        rows=tuple(TestRow(words.mark(t), t.status, t.id, f"{t.score:g}/{t.max_score:g}", t.message) for t in report.tests),
        stubs=tuple(dict.fromkeys(t.function for t in stub_tests)),
        hinted=hinted,
        passed=sum(t.status == "passed" for t in report.tests),
        tests_word="public tests" if public_only else "tests",
    )
