"""Hidden tests never leak: no export shows a hidden input or a hidden expected value, in any form."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from grader.lms.canvas import canvas_csv
from grader.lms.classroom import classroom_results
from grader.lms.gradescope import gradescope_results
from grader.lms.junit import junit_xml
from grader.lms.prairielearn import prairielearn_results
from grader.lms.student_view import hidden_message, student_view
from grader.report.model import TestResult as Result


def _values(grading, visibility: str) -> list[float]:
    """Every float of the inputs and expected answers of the checks of one visibility."""
    values = []
    for check in grading.plan.checks:
        if check.visibility != visibility:
            continue
        arrays = list(grading.answers[check.id].expected)
        arrays += [a for case in check.cases for a in case.args if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
        for array in arrays:
            values += [float(v) for v in np.ravel(array) if np.isfinite(v)]
    return values


def _digits(text: str) -> int:
    return len(re.sub(r"[^0-9]", "", text.lstrip("-0.").split("e")[0]))


def _long_forms(values: list[float]) -> set[str]:
    """How a value looks printed with 5 digits or more: repr, %.6g, NumPy's array printing."""
    forms = set()
    for v in values:
        for text in (repr(v), f"{v:.6g}", np.format_float_positional(v, precision=8, trim="-")):
            if _digits(text) >= 5:
                forms.add(text)
    return forms


def _short_forms(values: list[float]) -> set[str]:
    """A value as a message rounds it (%.3g), when that still says something (3 digits)."""
    return {f"{v:.3g}" for v in values if _digits(f"{v:.3g}") >= 3}


def _exports(reports) -> dict[str, tuple[str, list[str]]]:
    """Each format's whole text, and the texts of its hidden tests."""
    out = {}
    for name, report in reports.items():
        gs = gradescope_results(report)
        out[f"gradescope/{name}"] = (json.dumps(gs), [t["output"] for t in gs["tests"] if t["visibility"] != "visible"])
        pl = prairielearn_results(report)
        out[f"prairielearn/{name}"] = (json.dumps(pl), [t["message"] + t["output"] for t in pl["tests"]
                                                        if "/hidden" in t["name"]])
        runners = classroom_results(report)
        out[f"classroom/{name}"] = (json.dumps(runners), [t["message"] for r in runners.values() for t in r["tests"]
                                                          if "/hidden" in t["name"]])
    xml = junit_xml(list(reports.values()))
    cases = ET.fromstring(xml).iter("testcase")
    out["junit"] = (xml.decode(), ["".join(c.itertext()) + json.dumps(c.attrib) for c in cases if "/hidden" in c.get("name")])
    out["canvas"] = (canvas_csv(list(reports.values())).text, [])
    return out


def test_no_export_shows_a_hidden_input_or_expected_value(lms_reports, softmax_grading):
    values = _values(softmax_grading, "hidden")
    public = " ".join(_long_forms(_values(softmax_grading, "public")))  # public numbers may be shown
    long_forms = {f for f in _long_forms(values) if f not in public}
    short_forms = {f for f in _short_forms(values) if f not in public}
    # the raw reports do carry such numbers in their hidden tests' messages (so this test can fail):
    raw = " ".join(t.message + " ".join(h.message for h in t.hints)
                   for r in lms_reports.values() for t in r.tests if t.visibility == "hidden")
    assert any(form in raw for form in long_forms) and any(form in raw for form in short_forms)
    assert re.search(r"Leak\d+", raw) and "K" in raw and "index [" in raw
    for name, (whole, hidden_texts) in _exports(lms_reports).items():
        leaked = sorted(f for f in long_forms if f in whole)
        assert not leaked, f"{name} shows hidden values: {leaked[:5]}"
        for text in hidden_texts:
            shown = sorted(f for f in short_forms if f in text)
            assert not shown, f"{name}: a hidden test shows {shown[:5]} in {text[:200]!r}"
            assert not re.search(r"Leak\d+|index \[|case K\d|expected \(|got \(", text), f"{name}: {text[:200]!r}"


def test_public_tests_keep_their_whole_message(lms_reports):
    report = lms_reports["chloe"]
    view = student_view(report)
    public = [(a, b) for a, b in zip(report.tests, view.tests) if a.visibility == "public"]
    assert public and all(a.message == b.message and a.hints == b.hints for a, b in public)
    assert any("expected -0.00618" in b.message for _, b in public)  # the public value is still quoted


def test_hidden_hints_keep_their_code_and_evidence_in_catalogue_words(lms_reports):
    report = lms_reports["lou"]
    view = student_view(report)
    for before, after in zip(report.tests, view.tests):
        assert [h.code for h in before.hints] == [h.code for h in after.hints]
        assert [h.evidence for h in before.hints] == [h.evidence for h in after.hints]
    jacobian = next(t for t in view.tests if t.id == "softmax_jacobian/hidden-random")
    assert jacobian.hints[0].code == "generic.zeros" and "all zeros" in jacobian.hints[0].message
    raised = next(t for t in view.tests if t.id == "softmax_backward/hidden-random")
    assert raised.message.startswith("raised ValueError (") and "cannot do" not in raised.message
    assert "raised an exception" in raised.hints[0].message
    assert not (set(view.model_dump_json()) - set(report.model_dump_json()))  # no new characters invented


def _test(message: str, status: str = "failed", function: str = "softmax") -> Result:
    return Result(id=f"{function}/hidden-random", function=function, visibility="hidden", status=status,
                      score=0.0, max_score=5.0, message=message, cases=6)


@pytest.mark.parametrize("message, shown", [
    ("wrong on 3 of 6 cases: on case K5-label4, max abs error 0.0153 at index [2, 3], max relative error 1",
     "wrong on 3 of 6 cases: the values differ"),
    ("wrong on 6 of 6 cases: nan or inf in 3 of 3 entries on case K3-large-0, where the right values are finite",
     "wrong on 6 of 6 cases: nan or inf where the right values are finite"),
    ("wrong on 2 of 2 cases: on case T24-D4-H6-K5-long, max abs error 5.83 at index [0, 4], max relative error 12.8; "
     "right at t = T = 24 back to t = 24, first wrong at t = 23 (counting back from T)",
     "wrong on 2 of 2 cases: the values differ from the right ones, right at the last steps and first wrong further"),
    ("wrong shape on case K7-2: expected (7, 7), got (7,)", "wrong shape: the result does not have the shape asked for"),
    ("ran past the time limit of 2 s per call on case K9-1", "ran past the time limit of 2 s per call"),
    ("not run: earlier calls of softmax ran past the time limit of 2 s per call",
     "not run: earlier calls of softmax ran past the time limit of 2 s per call"),
    ("not run: earlier calls of Leak496714 ran past the time limit of 2 s per call", "not run: earlier calls of softmax "),
    ("not implemented yet: it the dict has no key 'W' (keys found: 'a', 'b')", "not implemented yet"),
    ("raised ZeroDivisionError: float division by zero (s.py, line 3: `x = 1/0`) on case K2-0", "raised ZeroDivisionError"),
    ("raised Leak496714: boom (s.py, line 9) on case K2-0", "raised an exception"),
    ("the result cannot be read as numbers on case K4-1: str holding 'x'", "the result cannot be read as numbers"),
    ("case K3-0: the call process died (signal 9)", "failed ("),
])
def test_each_message_form_of_a_hidden_test_is_rebuilt_from_safe_facts(message, shown):
    rebuilt = hidden_message(_test(message))
    assert rebuilt.startswith(shown)
    assert not re.search(r"K\d|\[|0\.0153|Leak|'W'|line \d|division|= \d", rebuilt)


def test_a_passed_or_missing_hidden_test_says_so_plainly():
    assert hidden_message(_test("right on all 6 cases", status="passed")) == "right on all 6 cases"
    missing = _test("softmax is not defined in the submission", status="error")
    assert hidden_message(missing) == "softmax is not defined in the submission"
