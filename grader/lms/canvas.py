"""A Canvas gradebook CSV of a batch of reports, for Grades > Import.

Canvas's importer reads the student columns ``Student``, ``ID``, ``SIS User ID``, ``SIS Login ID``
and ``Section`` (the last student column), then one column per assignment, headed
``Title (assignment_id)`` to update that assignment, or ``Title`` alone, matched by title (a new
title creates an assignment); an optional second row starting with ``Points Possible``.
Canvas finds each student by ``ID``, its own user id, which ``grader grade`` keeps from the file
names of Canvas's "Download Submissions" zip (``report.submission.lms_id``); without it Canvas
can only go by the other columns. An empty score cell changes nothing in Canvas, so a
submission that the grader itself failed on is left empty rather than scored 0.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field

from grader import exercises
from grader.grading import GRADER_FAILED
from grader.report.csv_cells import text_cell
from grader.report.model import Report

STUDENT_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
ID_COLUMNS = {"sis-user-id": "SIS User ID", "sis-login-id": "SIS Login ID"}


@dataclass
class CanvasExport:
    """The CSV text and what the instructor must know about it."""

    text: str
    warnings: list[str] = field(default_factory=list)


def assignment_header(assignment: str, *, title: str | None = None, canvas_id: str | None = None) -> str:
    """'Softmax gradients (12345)', or the title alone when Canvas's assignment id is not given."""
    if title is None:
        exercise = exercises.EXERCISES.get(assignment)
        title = exercise.title if exercise else assignment
    return f"{title} ({canvas_id})" if canvas_id else title


def canvas_csv(reports: list[Report], *, titles: dict[str, str] | None = None, canvas_ids: dict[str, str] | None = None,
               student_id_column: str | None = None, points_possible: bool = True) -> CanvasExport:
    """One row per student, one column per assignment of ``reports``; ``student_id_column`` is where our
    student ids go when they are Canvas's SIS ids ('sis-user-id' or 'sis-login-id')."""
    titles, canvas_ids = titles or {}, canvas_ids or {}
    assignments = list(dict.fromkeys(r.assignment for r in reports))
    headers = {a: assignment_header(a, title=titles.get(a), canvas_id=canvas_ids.get(a)) for a in assignments}
    warnings = []
    rows: dict[tuple[str, str], dict] = {}
    for report in reports:
        user = _canvas_user_id(report)
        key = (user, report.student if not user else "")
        row = rows.setdefault(key, _student_cells(report, student_id_column))
        if headers[report.assignment] in row:
            warnings.append(f"{report.student}: more than one report for this student in {headers[report.assignment]!r}; "
                            "the last one read is in the CSV")
        if report.grader.answers != "reference":
            warnings.append(f"{report.student}: a report of grader check (public tests only, out of "
                            f"{report.max_score:g}), not of grader grade")
        if report.status == "error" and (report.message or "").startswith(GRADER_FAILED):
            warnings.append(f"{report.student}: the grader failed on this submission; its cell is left empty")
            row[headers[report.assignment]] = ""
        else:
            row[headers[report.assignment]] = f"{report.score:g}"
    elsewhere = Counter(r.submission.lms for r in reports if r.submission.lms not in (None, "canvas"))
    if elsewhere:
        which = ", ".join(f"{n} of {lms.capitalize()}'s" for lms, n in elsewhere.items())
        warnings.append(f"{sum(elsewhere.values())} of {len(reports)} reports were graded from another LMS's download "
                        f"({which}): its ids are not Canvas's, so their ID cell is left empty")
    missing = [r.student for r in reports if not _canvas_user_id(r)]
    anonymous = [r.student for r in reports if (r.submission.lms_id or "").startswith("anon_")]
    if missing and not student_id_column:  # with SIS ids written, Canvas matches by those instead
        warnings.append(
            f"{len(missing)} of {len(reports)} reports have no Canvas user id (grade Canvas's \"Download Submissions\" "
            f"zip to get them): their ID cell is empty and Canvas must match them by the other columns: "
            + ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else ""))
    if anonymous:
        warnings.append(f"{len(anonymous)} reports have anonymous Canvas ids (anon_...), which the gradebook import "
                        "cannot match: turn anonymous grading off, or enter these scores in SpeedGrader")
    columns = list(STUDENT_COLUMNS) + list(headers.values())
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n", restval="")
    writer.writeheader()
    if points_possible:
        most = {}
        for report in reports:
            most[headers[report.assignment]] = max(most.get(headers[report.assignment], 0.0), report.max_score)
        writer.writerow({"Student": "Points Possible", **{h: f"{v:g}" for h, v in most.items()}})
    for _, row in sorted(rows.items(), key=lambda kv: (kv[1]["Student"].lower(), kv[0])):
        writer.writerow(row)
    return CanvasExport(buffer.getvalue(), warnings)


def _student_cells(report: Report, student_id_column: str | None) -> dict:
    cells = {"Student": text_cell(report.student), "ID": _canvas_user_id(report)}
    if student_id_column:
        cells[ID_COLUMNS[student_id_column]] = report.student  # as it is: Canvas matches students by it
    return cells


def _canvas_user_id(report: Report) -> str:
    """Canvas's user id of the report's student, from the file names of Canvas's download ('' when there is none:
    another LMS's id, Moodle's participant id say, would match another Canvas user)."""
    lms_id = report.submission.lms_id
    canvas = report.submission.lms in (None, "canvas")  # None: a report written before the field
    return lms_id if canvas and lms_id and lms_id.isdigit() else ""
