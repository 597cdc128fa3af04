"""A student page in headless Chromium: every test with its status, message and hints; math typeset."""

from __future__ import annotations

from tests.html.conftest import HOSTILE_HINT, HOSTILE_ID, load_json_reports, make_report, write_reports

MARKS = {"passed": "ok", "failed": "FAIL", "error": "ERR", "timeout": "TIME"}


def test_every_test_is_shown_with_its_status_score_and_message(softmax_class, rnn_class, open_page):
    for folder, stem in ((softmax_class, "emma"), (rnn_class, "jon")):
        report = load_json_reports(folder)[stem]
        page, guard = open_page(folder / f"{stem}.html", folder)
        cells = page.eval_on_selector_all("#tests tbody tr", "trs => trs.map(tr => [...tr.cells].map(c => c.innerText.trim()))")
        assert cells == [[MARKS[t.status], t.id, f"{t.score:g}/{t.max_score:g}", t.message] for t in report.tests]
        hinted = page.eval_on_selector_all("section.hinted", "ss => ss.map(s => s.dataset.id)")
        assert hinted == [t.id for t in report.tests if t.hints]
        assert page.inner_text("#score") == f"score {report.score:g} / {report.max_score:g}"
        assert guard.refused == [] and page.evaluate("window.__csp") == []


def test_the_hints_math_is_typeset(tmp_path, softmax_class, open_page):
    page, _ = open_page(softmax_class / "chloe.html")
    message = page.locator("section.hinted .message").first
    assert "p_i" not in message.inner_text()
    assert "<sub>i</sub>" in message.inner_html()
    assert message.evaluate("m => m.querySelectorAll('sub').length") >= 2
    write_reports(tmp_path, [make_report("zoe", score=20.0, hints=[("ce.label_as_vector", "in eq. 10.18, yhat_i - 1_{i=y}, only")])])
    from grader.report.html import build_site

    build_site(tmp_path)
    page, _ = open_page(tmp_path / "zoe.html")
    html = page.locator("section.hinted .message").inner_html()
    assert '<span class="indicator">1</span><sub>i=y</sub>' in html
    assert page.locator("section.hinted .message").inner_text() == "in eq. 10.18, y\u0302i - 1i=y, only"


def test_a_hint_carrying_a_script_shows_as_text_and_runs_nothing(hostile_class, open_page, screenshot_path):
    page, guard = open_page(hostile_class / "script_window.pwned_1_script.html")
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert page.inner_text("h1#student") == HOSTILE_ID
    shown = page.locator("section.hinted .message").inner_text()
    assert shown.startswith("<script>window.pwned=2</script><img src=x onerror=\"window.pwned=3\">")
    assert HOSTILE_HINT.endswith(" p_i") and shown.endswith(" pi")
    assert page.evaluate("document.scripts.length") == 0
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    assert guard.refused == []


def test_a_screenshot_of_a_student_page(softmax_class, open_page, screenshot_path):
    page, _ = open_page(softmax_class / "emma.html")
    path = screenshot_path("student-page.png")
    page.screenshot(path=str(path), full_page=True)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 20_000
