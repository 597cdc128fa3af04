"""PrairieLearn's external-grader ``results.json`` of one report (prairielearn.readthedocs.io, "External Grading").

``score`` is the fraction of the points, in [0, 1]. A submission that could not be run is
``gradable: false`` with ``format_errors``: PrairieLearn then awards and takes no points and does
not count the attempt. PrairieLearn shows every test to the student, so tests carry only the
words of ``student_view``. The file must stay under 1 MB: outputs are cut, with a note, to fit.
"""

from __future__ import annotations

import json

from grader.lms.feedback import error_text, hint_text, notes_text, score_line
from grader.lms.student_view import student_view
from grader.report.model import Report

MAX_BYTES = 1_000_000  # "this file should be limited to 1 MB"
CUT_NOTE = "\n[... cut here: PrairieLearn's results are limited to 1 MB]"


def prairielearn_results(report: Report, *, graded_note: str = "", max_bytes: int = MAX_BYTES) -> dict:
    """The content of ``results.json`` for ``report``, at most ``max_bytes`` once encoded."""
    view = student_view(report)
    notes = "\n".join(p for p in (graded_note, notes_text(view)) if p)
    if report.status == "error":
        return fit({"gradable": False, "format_errors": [report.message or "the submission could not be run"],
                    "message": error_text(view), "output": notes, "tests": []}, max_bytes)
    fraction = report.score / report.max_score if report.max_score > 0 else 0.0
    results = {
        "gradable": True,
        "score": min(1.0, max(0.0, fraction)),
        "message": score_line(view),
        "output": notes,
        "tests": [{
            "name": test.id,
            "description": f"{test.function} on {test.cases} {test.visibility} case{'s' if test.cases != 1 else ''}",
            "points": test.score,
            "max_points": test.max_score,
            "message": test.message,
            "output": "\n\n".join(hint_text(h, i == 0) for i, h in enumerate(test.hints)),
        } for test in view.tests],
    }
    return fit(results, max_bytes)


def failure_results(message: str) -> dict:
    """``results.json`` when no report could be made (no file found, grader misconfigured): not gradable."""
    return {"gradable": False, "format_errors": [message], "message": message, "tests": []}


def encode(results: dict) -> bytes:
    """The bytes written to ``results.json``."""
    return json.dumps(results, indent=1, ensure_ascii=False).encode("utf-8") + b"\n"


def fit(results: dict, max_bytes: int = MAX_BYTES) -> dict:
    """``results`` with its longest texts cut until it encodes to at most ``max_bytes``."""
    for _ in range(64):
        size = len(encode(results))
        if size <= max_bytes:
            return results
        texts = _texts(results)
        if not texts:
            break
        holder, key = max(texts, key=lambda hk: len(hk[0][hk[1]]))
        text = holder[key]
        keep = max(0, len(text) - (size - max_bytes) - len(CUT_NOTE) - 64)  # chars: each is at least a byte
        holder[key] = text[:keep] + CUT_NOTE
    while len(encode(results)) > max_bytes and results.get("tests"):
        results["tests"].pop()  # nothing long is left to cut: drop tests from the end
        results["message"] = (results.get("message") or "") + CUT_NOTE
    return results


def _texts(results: dict) -> list[tuple]:
    """The (holder, key) of every text long enough to be worth cutting (a holder is a dict or a list)."""
    holders = [results] + list(results.get("tests", []))
    found: list[tuple] = [(h, k) for h in holders for k in ("message", "output") if isinstance(h.get(k), str)]
    errors = results.get("format_errors")
    if isinstance(errors, list):
        found += [(errors, i) for i, e in enumerate(errors) if isinstance(e, str)]
    return [(h, k) for h, k in found if len(h[k]) > len(CUT_NOTE) + 64]
