"""Moodle's offline grading worksheet, filled in with a batch's scores, for the assignment's "Upload grading worksheet".

Moodle's importer finds three columns by their headers (in the site's language; English: ``Identifier``,
``Grade``, ``Last modified (grade)``) and each row's student by its identifier, ``Participant {id}``: the
participant id that ``grader grade`` keeps from the names of Moodle's "Download all submissions"
(``report.submission.lms_id``). So the worksheet is not written anew but filled in: the instructor downloads
it from the assignment ("Download grading worksheet"), and each row whose participant has a report gets its
score in the grade column, scaled to the worksheet's ``Maximum Grade`` when it has that column; every other
cell is left as it was. A row none of whose cells names the report's student (a team's report: its folder names
the group, whose id is no participant's) is left as it was; a row of no report, and a report of no row, are said in
warnings; a submission that the grader itself failed on keeps the worksheet's grade.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
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
    maximum = _maximum_column(rows, grade)
    warnings: list[str] = []
    by_id = {}
    for report in reports:
        if report.submission.lms != "moodle" or not report.submission.lms_id:
            warnings.append(f"{report.student}: not graded from a Moodle download (no participant id): not in the "
                            "worksheet")
        elif not report.submission.lms_id.isdigit():
            warnings.append(f"{report.student}: a team's submission outside any group, which no participant's row "
                            "is: enter its grade in Moodle")
        else:
            by_id[report.submission.lms_id] = report
    seen, ungraded, short = set(), [], 0
    for row in rows[1:]:
        if len(row) <= max(ids, grade):
            short += bool(any(cell.strip() for cell in row))
            continue
        participant = re.search(r"(\d+)\s*$", row[ids])
        report = by_id.get(participant.group(1)) if participant else None
        if report is None:
            ungraded.append(row[ids])
            continue
        if participant.group(1) in seen:
            warnings.append(f"{row[ids]} has more than one row in the worksheet: each is filled in")
        seen.add(participant.group(1))
        if not _theirs(row, ids, report.student):
            warnings.append(f"{report.student}: the row of {row[ids]} names someone else (a team's submission, whose "
                            "id is its group's? a worksheet of another assignment?): left as it was")
            continue
        if report.status == "error" and (report.message or "").startswith(GRADER_FAILED):
            warnings.append(f"{report.student}: the grader failed on this submission; its grade is left as it was")
            continue
        written = row[maximum] if maximum is not None and len(row) > maximum else ""
        top = _number(written)
        points = f"{report.score * (top or report.max_score) / (report.max_score or 1):.2f}"
        row[grade] = points.replace(".", ",") if "," in written and "." not in written else points  # as it writes
    missing = [r.student for pid, r in by_id.items() if pid not in seen]
    if missing:
        warnings.append(f"{len(missing)} reports have no row in the worksheet (a student enrolled since it was "
                        f"downloaded, or another assignment's worksheet?): {', '.join(missing[:10])}")
    if ungraded:
        warnings.append(f"{len(ungraded)} rows of the worksheet have no report (no submission downloaded): their "
                        f"grade is left as it was: {', '.join(ungraded[:10])}")
    if short:
        warnings.append(f"{short} rows of the worksheet end before its grade column: left as they were")
    if maximum is None and reports:
        warnings.append(f"the worksheet has no {MAXIMUM!r} column: the scores are written out of "
                        f"{reports[0].max_score:g}, as graded")
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return MoodleExport(buffer.getvalue(), warnings)


def _theirs(row: list[str], ids: int, student: str) -> bool:
    """Whether a row is the report's student's: one of its cells is their name, as the download named them
    (not the grader's ``Name (id)`` of two students of one name), or the report is of a blind-marked download,
    whose student Moodle named with the identifier's word (``Participant``). A team's folder carries its group's
    id, which may be any participant's: a row that does not name the team's report is not the team's."""
    name = _comparable(re.sub(r" \(\d+\)$", "", student))
    word = _comparable(re.sub(r"\s*\d+\s*$", "", row[ids]))
    return name == word or any(_comparable(cell) == name for i, cell in enumerate(row) if i != ids)


def _comparable(name: str) -> str:
    """A name as both Moodle's folder names and its worksheet's cells can be compared: the folder's underscores
    are spaces, and it lacks the characters a file name may not hold."""
    name = unicodedata.normalize("NFC", name).replace("_", " ")
    return " ".join(re.sub(r'[\\/:*?"<>|]', "", name).split()).casefold()


def _maximum_column(rows: list[list[str]], grade: int) -> int | None:
    """The column of the maximum grade: ``Maximum Grade``, or in another language the one after the grade's
    when all its cells are numbers (as Moodle writes them)."""
    if MAXIMUM in rows[0]:
        return rows[0].index(MAXIMUM)
    cells = [row[grade + 1] for row in rows[1:] if len(row) > grade + 1]
    return grade + 1 if cells and all(_number(cell) is not None for cell in cells) else None


def _number(cell: str) -> float | None:
    """A number as Moodle writes one (``100.00``, or ``100,00`` in a language that writes a decimal comma)."""
    try:
        value = float(cell.strip().replace(",", ".") if "." not in cell else cell.strip())
    except ValueError:
        return None
    return value if value > 0 else None


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
