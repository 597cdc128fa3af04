"""What the class page shows, computed from reports: the same numbers as summary.json, rates per key."""

from __future__ import annotations

import json

from grader.report.html.classdata import class_data
from grader.report.model import Hint
from tests.html.conftest import load_json_reports, make_report


def data_of(reports):
    return class_data(list(reports.items()), lambda stem: f"{stem}.html")


def test_the_numbers_and_hint_counts_are_summary_json_s(softmax_class, rnn_class):
    for folder in (softmax_class, rnn_class):
        data = data_of(load_json_reports(folder))
        summary = json.loads((folder / "summary.json").read_text())
        assert data.statistics["score"] == summary["score"]
        assert (data.statistics["students"], data.statistics["graded"], data.statistics["errors"]) == (
            summary["students"], summary["graded"], summary["errors"])
        assert {m.code: m.count for m in data.misconceptions} == summary["hint_counts"]
        assert [m.code for m in data.misconceptions] == list(summary["hint_counts"])  # commonest first
    rates = {p.part: round(p.rate, 4) for p in data_of(load_json_reports(softmax_class)).parts}
    assert rates == json.loads((softmax_class / "summary.json").read_text())["pass_rate"]


def test_rnn_pass_rates_are_per_key(rnn_class):
    data = data_of(load_json_reports(rnn_class))
    assert [p.part for p in data.parts] == ["rnn_forward[h]", "rnn_forward[yhat]", *(
        f"rnn_backward[{k}]" for k in ("o", "h", "U", "W", "V", "b", "c"))]
    rates = {p.part: p.passed for p in data.parts}
    assert rates["rnn_backward[V]"] == 3 and rates["rnn_backward[W]"] == 1  # jon and lea fail W, not V


def test_an_ungraded_submission_passes_nothing_and_warnings_are_not_misconceptions():
    warned = make_report("wendy", score=100.0)
    warned.tests[0].hints.append(Hint(code="generic.extra_singleton_axis", message="shape (K, 1)", warning=True))
    reports = {
        "ann": make_report("ann", score=100.0),
        "err": make_report("err", status="error", message="syntax error", hints=[("generic.python2_syntax", "py2")]),
        "wendy": warned,
    }
    data = data_of(reports)
    assert [(p.part, p.passed, p.total) for p in data.parts] == [("softmax", 2, 3)]
    assert [(m.code, [s.student for s in m.students]) for m in data.misconceptions] == [("generic.python2_syntax", ["err"])]
    assert [s.student for s in data.ungraded] == ["err"] and data.ungraded[0].message == "syntax error"
    assert {s.student: s.top_hint and s.top_hint.code for s in data.students} == {
        "ann": None, "err": "generic.python2_syntax", "wendy": None}


def test_a_misconception_lists_its_students_by_name_and_shows_no_students_particulars():
    reports = {s: make_report(s, score=50.0, hints=[("generic.shape_mismatch", f"expected (3,), got {w}")])
               for s, w in (("Bea", "(3, 1)"), ("al", "(1, 3)"), ("cy", "(3, 1)"))}
    (row,) = data_of(reports).misconceptions
    assert [s.student for s in row.students] == ["al", "Bea", "cy"]
    assert [s.href for s in row.students] == ["al.html", "Bea.html", "cy.html"]
    assert not row.varies and row.message.startswith("The result of the function has the wrong shape: expected …, got …")
    same = {s: make_report(s, score=50.0, hints=[("sq.missing_factor_2", "The factor 2 is missing.")]) for s in ("al", "bo")}
    (row,) = data_of(same).misconceptions
    assert not row.varies and row.message == "The factor 2 is missing."  # words all got alike are shown as they are


def test_a_generic_hint_whose_words_name_different_functions_gets_its_catalogue_words_for_any_function():
    reports = {s: make_report(s, hints=[("generic.missing_function", f"{f} is not defined in the submission. It must "
                                         "be a top-level function with exactly this name (check the spelling, and "
                                         "that the cell defining it runs).")])
               for s, f in (("al", "softmax"), ("bea", "softmax_backward"), ("cy", "softmax_backward"))}
    (row,) = data_of(reports).misconceptions
    assert not row.varies and row.message.startswith("The function is not defined in the submission.")
    # one whose words carry a student's particulars (the error raised, a line of their code) gets none of them
    reports = {s: make_report(s, hints=[("generic.exception", f"softmax raised {e} (hw.py, line 3: `x = {e}`).")])
               for s, e in (("al", "ValueError"), ("bea", "TypeError"), ("cy", "TypeError"))}
    (row,) = data_of(reports).misconceptions
    assert not row.varies and row.message == "The function raised an exception."
    alone = {"al": make_report("al", hints=[("generic.exception", "softmax raised KeyError: 'hunter2' (hw.py, line 3).")])}
    (row,) = data_of(alone).misconceptions  # one student alone, or all with the same words: theirs are not shown either
    assert row.message == "The function raised an exception."


def test_a_time_limit_the_whole_class_was_graded_under_is_said_on_the_class_page_not_left_blank():
    def timed_out(student: str, function: str, call_s: float):
        report = make_report(student, hints=[("generic.timeout", f"{function} ran past its time limit ({call_s:g} s per "
                                              "call). Look for a loop whose condition never becomes false.")])
        report.grader.limits = {"call_s": call_s, "load_s": 10.0}
        return report

    (row,) = data_of({"al": timed_out("al", "softmax", 5), "bea": timed_out("bea", "softmax_jacobian", 5)}).misconceptions
    assert row.message.startswith("The function ran past its time limit (5 s per call).")
    (row,) = data_of({"al": timed_out("al", "softmax", 5), "bea": timed_out("bea", "softmax", 2)}).misconceptions
    assert "(… s per call)" in row.message  # graded under two limits: none is the class's
    broken = {s: make_report(s, status="error", hints=[("generic.python2_syntax", f"Python 2 code ({why})")])
              for s, why in (("al", "xrange"), ("bea", "except E, e"))}
    (row,) = data_of(broken).misconceptions
    assert "Python 2 code;" in row.message and "…" not in row.message and "()" not in row.message
