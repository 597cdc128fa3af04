"""What the class page shows, computed from the reports alone: numbers, pass rates, misconceptions, rows."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Callable

from grader.diagnosis.catalogue import GENERIC, generic_message
from grader.report.model import HintSummary, Report, TestResult
from grader.report.summary import Row, Summary


@dataclass(frozen=True)
class StudentRow:
    """One student of the class: the report's id, its page, score, and the most useful of its hints."""

    student: str
    href: str
    status: str
    score: float
    max_score: float
    top_hint: HintSummary | None
    message: str  # why the submission could not be graded (status error)
    late: bool = False  # the LMS says it was handed in late


@dataclass(frozen=True)
class PartRate:
    """How many students pass every test of a function (or of one key of its result, as ``rnn_backward[W]``)."""

    part: str
    passed: int
    total: int

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else 0.0


@dataclass(frozen=True)
class Misconception:
    """One hint code across the class: where it was given, its words, and who got it."""

    code: str
    functions: tuple[str, ...]
    message: str  # the commonest of its words
    varies: bool  # the words differ between students (a generic hint names the function, the shape, ...)
    students: tuple[StudentRow, ...]

    @property
    def count(self) -> int:
        return len(self.students)


@dataclass(frozen=True)
class ClassData:
    """The class page's content (CONTRACT.md's report fields only, so any folder of reports will do)."""

    assignments: tuple[str, ...]
    students: tuple[StudentRow, ...]  # by name
    statistics: dict  # summary.json's numbers, computed the same way
    parts: tuple[PartRate, ...]
    misconceptions: tuple[Misconception, ...]  # commonest first

    @property
    def ungraded(self) -> tuple[StudentRow, ...]:
        return tuple(s for s in self.students if s.status == "error")


def part_of(test: TestResult) -> str:
    """The unit of a pass rate: the function, or the function and key for per-key tests."""
    return f"{test.function}[{test.key}]" if test.key else test.function


def class_data(reports: list[tuple[str, Report]], href: Callable[[str], str]) -> ClassData:
    """Aggregate ``(stem, report)`` pairs; ``href(stem)`` is the link to a student's page."""
    builder = ClassBuilder(href)
    for stem, report in reports:
        builder.add(stem, report)
    return builder.finish()


class ClassBuilder:
    """The class page's content, gathered one report at a time (``grade`` adds each as it is written,
    so the reports themselves need not be held or read back); ``href(stem)`` links a student's page."""

    def __init__(self, href: Callable[[str], str]) -> None:
        self.href = href
        self.functions: dict[str, None] = {}
        self.assignments: set[str] = set()
        self.rows: list[Row] = []
        self.students: list[StudentRow] = []
        self.holders: dict[str, list[StudentRow]] = {}
        self.where: dict[str, dict[str, None]] = {}
        self.words: dict[str, Counter] = {}
        self.parts: dict[str, int] = {}  # each part's passing students
        self.call_s: set[float] = set()  # the time limits per call the reports were graded under

    def add(self, stem: str, report: Report) -> None:
        self.functions.update(dict.fromkeys(t.function for t in report.tests))
        self.assignments.add(report.assignment)
        if "call_s" in report.grader.limits:
            self.call_s.add(report.grader.limits["call_s"])
        row = Row.of(report)
        self.rows.append(row)
        mistakes = {code for _, code in row.hints}
        student = StudentRow(report.student, self.href(stem), report.status, report.score, report.max_score,
                             next((h for h in report.hints if h.code in mistakes), None), report.message or "",
                             bool(report.submission.late))
        self.students.append(student)
        for function, code in row.hints:
            self.where.setdefault(code, {})[function] = None
        for code in dict.fromkeys(code for _, code in row.hints):
            self.holders.setdefault(code, []).append(student)
        for hint in report.hints:
            if hint.code in mistakes:
                self.words.setdefault(hint.code, Counter())[hint.message] += 1
        passing: dict[str, bool] = {}  # a submission that could not be graded passes nothing
        for test in report.tests:
            part = part_of(test)
            passing[part] = passing.get(part, True) and test.status == "passed"
        for part, ok in passing.items():
            self.parts[part] = self.parts.get(part, 0) + ok

    def finish(self) -> ClassData:
        summary = Summary(", ".join(sorted(self.assignments)), list(self.functions), self.rows)
        statistics = summary.statistics()
        known = {"limit": f"{next(iter(self.call_s)):g}"} if len(self.call_s) == 1 else {}  # the same for the class
        misconceptions = tuple(_misconception(code, tuple(self.where[code]), self.words.get(code), _by_name(self.holders[code]),
                                              known)
                               for code in statistics["hint_counts"])
        parts = tuple(PartRate(part, n, len(self.rows)) for part, n in self.parts.items())
        return ClassData(tuple(sorted(self.assignments)), _by_name(self.students), statistics, parts, misconceptions)


def _by_name(rows: list[StudentRow]) -> tuple[StudentRow, ...]:
    return tuple(sorted(rows, key=lambda s: (s.student.lower(), s.student, s.href)))


def _misconception(code: str, functions: tuple[str, ...], words: Counter | None,
                   students: tuple[StudentRow, ...], known: dict[str, str] | None = None) -> Misconception:
    """A code's row: for a generic hint, its catalogue words for any student (one student's own words may quote
    their code), with the blanks ``known`` for the whole class filled in; else its words when all its students
    got the same ones, else the commonest, as an example."""
    if words and code in GENERIC:  # a student's particulars (their error, their shapes, a line of their code) are
        neutral = _neutral(generic_message(code), known or {})  # not shown to the class: the catalogue's words
        return Misconception(code, functions, neutral[:1].upper() + neutral[1:], False, students)
    return Misconception(code, functions, _commonest(words), bool(words) and len(words) > 1, students)


BLANK = re.compile(r"\{(\w+)(?::[^}]*)?\}")
NEUTRAL = {"function": "the function", "error": "an exception", "names": "", "factor": "a constant",
           "axes": "Check which axis is which."}  # what a blank of the catalogue says for any student


def _neutral(template: str, known: dict[str, str]) -> str:
    """A catalogue text with its blanks in words that fit every student: those ``known`` for the class, '…' for
    another number (a shape), none for a student's own detail."""
    text = BLANK.sub(lambda m: known.get(m.group(1)) or NEUTRAL.get(
        m.group(1), "" if m.group(1) in ("start_here", "where", "wanted", "detail") else "…"), template)
    return re.sub(r"\s+([.,;)])", r"\1", re.sub(r"\s{2,}", " ", text.replace("()", ""))).strip()


def _commonest(messages: Counter | None) -> str:
    if not messages:
        return ""
    return sorted(messages.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
