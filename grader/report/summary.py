"""The class's summary: one row per student (summary.csv) and the statistics (summary.json)."""

from __future__ import annotations

import csv
import json
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from grader.report.csv_cells import text_cell
from grader.report.model import Report
from grader.report.write import write_atomic


@dataclass
class Row:
    """What the summary keeps of one report (the reports themselves are on disk, not in memory)."""

    student: str
    status: str
    score: float
    max_score: float
    by_function: dict[str, float]
    functions_passed: dict[str, bool]
    hints: list[tuple[str, str]]  # (function, code), mistakes only
    message: str
    late: bool = False  # the LMS flagged the submission late (Canvas's _LATE)
    lms_id: str = ""  # the student's id in the LMS (Canvas's user id, Moodle's participant id), when known
    order: int = 0  # its place in the batch: rows of equal student ids keep it, however the batch ran
    report_file: str = ""  # the report's file name in the batch's folder ('' when not known)

    @classmethod
    def of(cls, report: Report) -> "Row":
        by_function: dict[str, float] = {}
        passed: dict[str, bool] = {}
        for t in report.tests:
            by_function[t.function] = by_function.get(t.function, 0.0) + t.score
            passed[t.function] = passed.get(t.function, True) and t.status == "passed"
        hints = [(t.function, h.code) for t in report.tests for h in t.hints if not h.warning]
        if report.status == "error":
            hints = [(h.function, h.code) for h in report.hints]
        return cls(report.student, report.status, report.score, report.max_score, by_function, passed,
                   list(dict.fromkeys(hints)), report.message or "", bool(report.submission.late),
                   report.submission.lms_id or "")


@dataclass
class Summary:
    """The rows of a batch, accumulated as reports are written."""

    assignment: str
    functions: list[str]
    rows: list[Row] = field(default_factory=list)

    def add(self, report: Report, order: int = 0, report_file: str = "") -> None:
        row = Row.of(report)
        row.order, row.report_file = order, report_file
        self.rows.append(row)

    def statistics(self) -> dict:
        """summary.json's content."""
        graded = [r for r in self.rows if r.status == "graded"]
        scores = [r.score for r in self.rows]
        counts: Counter = Counter()
        by_function: dict[str, Counter] = {f: Counter() for f in self.functions}
        for r in self.rows:  # each student counts once per code (and once per code of a function)
            counts.update({code for _, code in r.hints})
            for function, code in set(r.hints):
                by_function.setdefault(function, Counter())[code] += 1
        return {
            "assignment": self.assignment,
            "students": len(self.rows),
            "graded": len(graded),
            "errors": len(self.rows) - len(graded),
            "max_score": max((r.max_score for r in self.rows), default=0.0),
            "score": _stats(scores),
            "pass_rate": {f: _rate([r.functions_passed.get(f, False) for r in self.rows]) for f in self.functions},
            "hint_counts": _ranked(counts),
            "hint_counts_by_function": {f: _ranked(c) for f, c in by_function.items() if c},
            **({"reports": sorted(r.report_file for r in self.rows)} if all(r.report_file for r in self.rows) else {}),
        }

    def write(self, out_dir: Path) -> None:
        """Write summary.csv and summary.json into ``out_dir``."""
        rows = sorted(self.rows, key=lambda r: (r.student, r.order))
        lines = [["student", "status", "score", "max_score", *self.functions, "hints", "message", "late", "lms_id",
                  "report"]]
        for r in rows:
            lines.append([text_cell(r.student), r.status, _num(r.score), _num(r.max_score),
                          *(_num(r.by_function.get(f, 0.0)) for f in self.functions),
                          " ".join(dict.fromkeys(code for _, code in r.hints)), text_cell(r.message),
                          "yes" if r.late else "", text_cell(r.lms_id), text_cell(r.report_file)])
        import io

        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(lines)
        write_atomic(out_dir / "summary.csv", buffer.getvalue())
        write_atomic(out_dir / "summary.json", json.dumps(self.statistics(), indent=2) + "\n")


def _ranked(counts: Counter) -> dict[str, int]:
    """Counts, commonest first, ties in alphabetical order (so the output is deterministic)."""
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _num(x: float) -> str:
    return f"{x:g}"


def _rate(flags: list[bool]) -> float | None:
    return round(sum(flags) / len(flags), 4) if flags else None


def _stats(scores: list[float]) -> dict:
    if not scores:
        return {"mean": None, "median": None, "min": None, "max": None, "stdev": None}
    return {
        "mean": round(statistics.fmean(scores), 4),
        "median": statistics.median(scores),
        "min": min(scores),
        "max": max(scores),
        "stdev": round(statistics.pstdev(scores), 4),
    }
