"""Moodle's offline grading worksheet, filled in with a batch's scores, for the assignment's "Upload grading worksheet".

Moodle's importer finds three columns by their headers (in the site's language; English: ``Identifier``,
``Grade``, ``Last modified (grade)``) and each row's student by its identifier, ``Participant {id}``: the
participant id that ``grader grade`` keeps from the names of Moodle's "Download all submissions"
(``report.submission.lms_id``). So the worksheet is not written anew but filled in: the instructor downloads
it from the assignment ("Download grading worksheet"), and each row whose participant has a report gets its
score in the grade column, scaled to the worksheet's ``Maximum Grade`` when it has that column; every other
cell is left as it was. A row of no report, and a report of no row, are said in warnings; a submission that the
grader itself failed on keeps the worksheet's grade.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from grader.grading import GRADER_FAILED
from grader.report.model import Report

IDENTIFIER, GRADE, MAXIMUM = "Identifier", "Grade", "Maximum Grade"


@dataclass
class MoodleExport:
    """The worksheet's text, filled in, and what the instructor must know about it."""

    text: str
    warnings: list[str] = field(default_factory=list)


class WorksheetError(ValueError):
    """A worksheet that cannot be filled in (not Moodle's, or without the columns), in the instructor's words."""


def fill_worksheet(reports: list[Report], worksheet: str, grade_column: str = GRADE) -> MoodleExport:
    """``worksheet`` (the CSV text Moodle gave) with the reports' scores in ``grade_column``."""
    rows = list(csv.reader(io.StringIO(worksheet.lstrip("\ufeff"))))
    if not rows:
        raise WorksheetError("the worksheet is empty")
    header = rows[0]
    ids = _identifier_column(rows)
    if ids is None or grade_column not in header:
        missing = IDENTIFIER if ids is None else grade_column
        raise WorksheetError(f"the worksheet has no {missing!r} column (its columns: {', '.join(header)}); is it "
                             "Moodle's grading worksheet? In another language, name its grade column with "
                             "--moodle-grade-column")
    assignments = sorted({r.assignment for r in reports})
    if len(assignments) > 1:
        raise WorksheetError(f"the reports are of {len(assignments)} assignments ({', '.join(assignments)}): a "
                             "worksheet is one assignment's")
    grade = header.index(grade_column)
    maximum = header.index(MAXIMUM) if MAXIMUM in header else None
    warnings: list[str] = []
    by_id = {}
    for report in reports:
        if report.submission.lms != "moodle" or not report.submission.lms_id:
            warnings.append(f"{report.student}: not graded from a Moodle download (no participant id): not in the "
                            "worksheet")
        elif not report.submission.lms_id.isdigit():
            warnings.append(f"{report.student}: a team submission ({report.submission.lms_id}), which Moodle's "
                            "worksheet has no row for: enter its grade in Moodle")
        else:
            by_id[report.submission.lms_id] = report
    seen, ungraded = set(), []
    for row in rows[1:]:
        if len(row) <= max(ids, grade):
            continue
        participant = re.search(r"(\d+)\s*$", row[ids])
        report = by_id.get(participant.group(1)) if participant else None
        if report is None:
            ungraded.append(row[ids])
            continue
        seen.add(participant.group(1))
        if report.status == "error" and (report.message or "").startswith(GRADER_FAILED):
            warnings.append(f"{report.student}: the grader failed on this submission; its grade is left as it was")
            continue
        row[grade] = _scaled(report, row[maximum] if maximum is not None and maximum < len(row) else "")
    missing = [r.student for pid, r in by_id.items() if pid not in seen]
    if missing:
        warnings.append(f"{len(missing)} reports have no row in the worksheet (a student enrolled since it was "
                        f"downloaded, or another assignment's worksheet?): {', '.join(missing[:10])}")
    if ungraded:
        warnings.append(f"{len(ungraded)} rows of the worksheet have no report (no submission downloaded): their "
                        f"grade is left as it was: {', '.join(ungraded[:10])}")
    if maximum is None:
        warnings.append(f"the worksheet has no {MAXIMUM!r} column: the scores are written out of "
                        f"{reports[0].max_score:g}, as graded" if reports else "")
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return MoodleExport(buffer.getvalue(), [w for w in warnings if w])


def _identifier_column(rows: list[list[str]]) -> int | None:
    """The column of the participants' identifiers: ``Identifier``, or in another language the first column whose
    every cell is a word and a number (``Participant 42``, ``Teilnehmer/in 42``)."""
    if IDENTIFIER in rows[0]:
        return rows[0].index(IDENTIFIER)
    for column in range(len(rows[0])):
        cells = [row[column] for row in rows[1:] if len(row) > column]
        if cells and all(re.fullmatch(r"\D+\s*\d+", cell.strip()) for cell in cells):
            return column
    return None


def _scaled(report: Report, maximum: str) -> str:
    """The score, out of the worksheet's maximum grade when it has one (two decimals, as Moodle writes them)."""
    try:
        top = float(maximum)
    except ValueError:
        top = report.max_score
    points = report.score * top / report.max_score if report.max_score else 0.0
    return f"{points:.2f}"
