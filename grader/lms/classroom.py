"""GitHub Classroom's autograding results of one report: one runner result per function.

``classroom-resources/autograding-grading-reporter`` reads, for each runner id listed in its
``runners`` input, the base64 of a JSON result from the environment variable
``<RUNNER>_RESULTS``: ``{"version": 1, "status": "pass"|"fail"|"error", "max_score": N,
"tests": [{"name", "status", "message", "score", "line_no", ...}]}`` (the shape that
``autograding-command-grader`` and ``autograding-io-grader`` output). Classroom's points are the
sum of the tests' ``score`` over the sum of the runners' ``max_score``; here each function of the
assignment is a runner, each of its graded tests a test.
"""

from __future__ import annotations

from grader import exercises
from grader.lms.feedback import describe_test, error_text
from grader.lms.student_view import student_view
from grader.report.model import Report, TestResult

STATUS = {"passed": "pass", "failed": "fail", "error": "error", "timeout": "error"}


def classroom_results(report: Report) -> dict[str, dict]:
    """The runner results of ``report``, keyed by function name (the runner id), in the assignment's order."""
    view = student_view(report)
    if report.status == "error":
        return {function: _runner([_test(f"{function}: the submission runs", "error", error_text(view), 0.0)], most)
                for function, most in _points(report).items()}
    by_function: dict[str, list[TestResult]] = {}
    for test in view.tests:
        by_function.setdefault(test.function, []).append(test)
    return {function: _runner([_test(t.id, STATUS[t.status], describe_test(t), t.score) for t in tests],
                              sum(t.max_score for t in tests))
            for function, tests in by_function.items()}


def _runner(tests: list[dict], max_score: float) -> dict:
    statuses = {t["status"] for t in tests}
    status = "error" if "error" in statuses else "fail" if "fail" in statuses else "pass"
    return {"version": 1, "status": status, "max_score": max_score, "tests": tests}


def _test(name: str, status: str, message: str, score: float) -> dict:
    return {"name": name, "status": status, "message": message, "score": score, "line_no": 0}


def _points(report: Report) -> dict[str, float]:
    """Each function's points in a report without tests: from the assignment (public tests only for a check)."""
    exercise = exercises.EXERCISES.get(report.assignment)
    if exercise is None:
        return {"submission": report.max_score}
    shown = {"public"} if report.grader.answers == "public data" else {"public", "hidden"}
    points: dict[str, float] = {}
    for check in exercise.checks_for(shown):
        points[check.function] = points.get(check.function, 0.0) + float(check.points)
    return points
