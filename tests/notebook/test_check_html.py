"""The notebook's HTML of a check: the words of the text, every string of the report escaped."""

from __future__ import annotations

import re

from grader.kernel.check import check
from grader.report.check_html import render_check_html
from tests.conftest import SOLUTIONS

HOSTILE = "<script>alert('x')</script> & <b>"
SOLUTION = (SOLUTIONS / "softmax_gradients.py").read_text()


def _report(code: str):
    namespace = {"__name__": "__main__"}
    exec(code, namespace)
    return check(namespace=namespace).report


def _words(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).replace("&nbsp;", " ").split())


def test_every_string_from_the_report_is_escaped():
    report = _report(SOLUTION + "\ndef softmax_jacobian(z):\n    return np.zeros((len(z), len(z)))\n")
    report.submission.path = report.assignment = HOSTILE
    report.notes.append(HOSTILE)
    failing = next(t for t in report.tests if t.hints)
    failing.message = failing.hints[0].message = failing.hints[0].code = failing.id = HOSTILE
    html = render_check_html(report)
    assert "<script>" not in html and "<b>'" not in html
    escaped = "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &lt;b&gt;"
    assert html.count(escaped) == 8  # assignment, path, note, the id twice, message, hint code and words
    report.status, report.message = "error", HOSTILE
    assert "<script>" not in render_check_html(report)


def test_the_html_says_what_the_text_says():
    report = _report(SOLUTION + "\ndef softmax_jacobian(z):\n    return np.zeros((len(z), len(z)))\n")
    words = _words(render_check_html(report))
    for phrase in ("FAIL softmax_jacobian/public 0/6", "softmax_jacobian/public failed", "hint generic.zeros",
                   "ok softmax/public 4/4 right on all 4 cases", "score 21 / 33 : 6 of 8 public tests pass (sandbox: none)"):
        assert phrase in words, phrase
    assert "hint" not in _words(render_check_html(_report(SOLUTION))).replace("hints", "")
