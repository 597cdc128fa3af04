"""Gradescope's ``results.json`` of one report (gradescope-autograders.readthedocs.io, "Autograder Specifications").

One Gradescope test per graded test of the report; the top-level ``score`` is the report's, so
Gradescope shows our total whatever it would add up itself. Hidden tests get the visibility
asked for (``after_published`` by default: shown when the instructor publishes the grades) and,
like every test, only the words of ``student_view``. While a test is hidden, Gradescope hides
the total from students too, so the top-level ``output`` speaks of the public tests only.
"""

from __future__ import annotations

from grader.lms.feedback import describe_test, error_text, notes_text, score_line
from grader.lms.student_view import student_view
from grader.report.model import Report

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
DEFAULT_HIDDEN_VISIBILITY = "after_published"


def gradescope_results(report: Report, *, hidden_visibility: str = DEFAULT_HIDDEN_VISIBILITY,
                       graded_note: str = "") -> dict:
    """The content of ``results.json`` for ``report``; ``graded_note`` says which file was graded."""
    if hidden_visibility not in VISIBILITIES:
        raise ValueError(f"visibility must be one of {', '.join(VISIBILITIES)}, not {hidden_visibility!r}")
    view = student_view(report)
    header = "\n".join(p for p in (graded_note, notes_text(view)) if p)
    if report.status == "error":
        text = "\n\n".join(p for p in (error_text(view), header) if p)
        return _results(0.0, text, report, [{
            "name": "the submission can be run",
            "score": 0.0,
            "max_score": report.max_score,
            "status": "failed",
            "visibility": "visible",
            "output": text,
        }])
    tests = [{
        "name": test.id,
        "score": test.score,
        "max_score": test.max_score,
        "status": "passed" if test.status == "passed" else "failed",
        "visibility": hidden_visibility if test.visibility == "hidden" else "visible",
        "output": describe_test(test),
        "tags": [test.function, test.visibility],
    } for test in view.tests]
    hidden = any(t.visibility == "hidden" for t in view.tests) and hidden_visibility != "visible"
    summary = score_line(view, only_public=hidden)
    if hidden:
        summary += ("; the hidden tests and the total are shown "
                    + {"after_published": "when grades are published", "after_due_date": "after the due date",
                       "hidden": "to the instructor only"}[hidden_visibility])
    return _results(report.score, "\n\n".join(p for p in (summary, header) if p), report, tests)


def failure_results(message: str) -> dict:
    """``results.json`` when no report could be made (no submission file, grader misconfigured): score 0."""
    return {
        "score": 0.0,
        "output": message,
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [],
    }


def _results(score: float, output: str, report: Report, tests: list[dict]) -> dict:
    return {
        "score": score,
        "execution_time": round(report.duration_s, 3),
        "output": output,
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",  # the run's log holds the unredacted report: instructors only
        "extra_data": {"assignment": report.assignment, "grader": report.grader.version,
                       "sandbox": report.grader.sandbox, "status": report.status},
        "tests": tests,
    }
