"""The class page in headless Chromium: its tables against the reports, sorting, links, offline, no injection."""

from __future__ import annotations

import json
import statistics
import struct

import pytest

from tests.html.conftest import HOSTILE_FILE_ID, HOSTILE_ID, load_json_reports


def rows(page, selector: str) -> list[list[str]]:
    """The text of every cell of the visible rows of a table body."""
    return page.eval_on_selector_all(
        f"{selector} tbody tr", "trs => trs.filter(tr => !tr.hidden).map(tr => [...tr.cells].map(td => td.innerText.trim()))")


def show_all_students(page) -> None:
    page.select_option("#student-page-size", "0")


def mistakes_by_student(reports) -> dict[str, set[str]]:
    """Each student's mistake codes, as the reports say (warnings are not mistakes)."""
    out = {}
    for report in reports.values():
        if report.status == "error":
            out[report.student] = {h.code for h in report.hints}
        else:
            out[report.student] = {h.code for t in report.tests for h in t.hints if not h.warning}
    return out


def test_the_numbers_are_those_of_the_reports(softmax_class, open_page):
    reports = load_json_reports(softmax_class)
    page, _ = open_page(softmax_class / "index.html")
    scores = [r.score for r in reports.values()]
    assert page.inner_text("#n-students") == str(len(reports))
    assert page.inner_text("#n-graded") == str(sum(r.status == "graded" for r in reports.values()))
    assert page.inner_text("#n-errors") == str(sum(r.status == "error" for r in reports.values())) == "1"
    assert float(page.inner_text("#mean-score")) == pytest.approx(statistics.fmean(scores), abs=0.005)
    assert float(page.inner_text("#median-score")) == statistics.median(scores)
    summary = json.loads((softmax_class / "summary.json").read_text())
    assert float(page.inner_text("#median-score")) == summary["score"]["median"]


def test_the_histogram_and_pass_rate_plots_are_inline_svg(softmax_class, open_page):
    page, _ = open_page(softmax_class / "index.html")
    assert page.eval_on_selector("#histogram svg", "svg => svg.getBBox().width") > 100
    labels = page.eval_on_selector_all("#pass-rate-plot svg text", "ts => ts.map(t => t.textContent.trim())")
    assert "softmax_jacobian" in labels and "cross_entropy_grad_batch" in labels


def test_pass_rates_are_per_key_for_rnn_bptt(rnn_class, open_page):
    reports = load_json_reports(rnn_class)
    expected: dict[str, int] = {}
    for report in reports.values():
        passing: dict[str, bool] = {}
        for test in report.tests:
            part = test.id.split("/")[0]  # rnn_backward[W]/hidden-random -> rnn_backward[W]
            passing[part] = passing.get(part, True) and test.status == "passed"
        for part, ok in passing.items():
            expected[part] = expected.get(part, 0) + ok
    page, _ = open_page(rnn_class / "index.html")
    shown = {part: passing for part, passing, _ in rows(page, "#pass-rates")}
    assert shown == {part: f"{n} / {len(reports)}" for part, n in expected.items()}
    assert "rnn_backward[W]" in shown and "rnn_forward[yhat]" in shown
    assert shown["rnn_backward[V]"] != shown["rnn_backward[W]"]  # the keys are really told apart


def test_the_misconceptions_table_says_who_got_each_hint(softmax_class, open_page):
    reports = load_json_reports(softmax_class)
    holders: dict[str, set[str]] = {}
    for student, codes in mistakes_by_student(reports).items():
        for code in codes:
            holders.setdefault(code, set()).add(student)
    page, _ = open_page(softmax_class / "index.html")
    table = {r[0]: r for r in rows(page, "#misconceptions")}
    assert set(table) == set(holders)
    for code, students in holders.items():
        _, function, message, count, who = table[code]
        assert int(count) == len(students)
        assert set(who.split(", ")) == students
        assert message
    assert table["jacobian.diagonal_only"][1] == "softmax_jacobian"
    assert {"chloe", HOSTILE_FILE_ID} <= set(table["jacobian.diagonal_only"][4].split(", "))


def test_the_students_table_and_the_ungraded_ones(softmax_class, open_page):
    reports = load_json_reports(softmax_class)
    page, _ = open_page(softmax_class / "index.html")
    show_all_students(page)
    table = {r[0]: r for r in rows(page, "#students")}
    assert set(table) == {r.student for r in reports.values()}
    for report in reports.values():
        _, status, score, top = table[report.student]
        assert status == report.status
        assert score == f"{report.score:g} / {report.max_score:g}"
        mistakes = mistakes_by_student(reports)[report.student]
        assert top == next((h.code for h in report.hints if h.code in mistakes), "")
    errors = [r for r in reports.values() if r.status == "error"]
    assert rows(page, "#ungraded") == [[r.student, r.message] for r in errors]
    assert "syntax error" in errors[0].message


def test_sorting_by_score_and_by_name(softmax_class, open_page):
    reports = list(load_json_reports(softmax_class).values())
    page, _ = open_page(softmax_class / "index.html")
    names = lambda: [r[0] for r in rows(page, "#students")]  # noqa: E731
    by_name = [r.student for r in sorted(reports, key=lambda r: (r.student.lower(), r.student))]
    by_score = [r.student for r in sorted(reports, key=lambda r: (r.score, r.student.lower()))]
    assert names() == by_name
    page.click("#students th[data-sort=score] button")
    assert names() == by_score
    assert page.get_attribute("#students th[data-sort=score]", "aria-sort") == "ascending"
    page.click("#students th[data-sort=score] button")
    assert names() == by_score[::-1]
    assert page.get_attribute("#students th[data-sort=score]", "aria-sort") == "descending"
    page.click("#students th[data-sort=name] button")
    assert names() == by_name
    page.click("#students th[data-sort=name] button")
    assert names() == by_name[::-1]


def test_a_name_in_the_misconceptions_table_leads_to_the_student_page(softmax_class, open_page):
    page, guard = open_page(softmax_class / "index.html")
    link = page.locator("#misconceptions tr[data-code='jacobian.diagonal_only'] a", has_text="chloe")
    with page.expect_navigation():
        link.click()
    assert page.url == (softmax_class / "chloe.html").resolve().as_uri()
    assert page.inner_text("h1#student") == "chloe"
    assert "jacobian.diagonal_only" in page.inner_text("body")
    with page.expect_navigation():
        page.click("#class-link")
    assert page.url == (softmax_class / "index.html").resolve().as_uri()
    assert guard.refused == []


def test_a_student_id_carrying_markup_shows_as_text_and_runs_nothing(softmax_class, hostile_class, open_page):
    for folder, student in ((softmax_class, HOSTILE_FILE_ID), (hostile_class, HOSTILE_ID)):
        page, guard = open_page(folder / "index.html")
        assert page.evaluate("typeof window.pwned") == "undefined"
        show_all_students(page)
        assert student in [r[0] for r in rows(page, "#students")]
        assert page.evaluate("document.scripts.length") == 1  # the page's own
        assert page.evaluate("document.querySelectorAll('img').length") == 0
        assert page.evaluate("window.__csp") == [] and guard.refused == []
    assert HOSTILE_ID in page.inner_text("#misconceptions")


def test_the_page_asks_for_nothing_but_its_own_file(softmax_class, open_page):
    page, guard = open_page(softmax_class / "index.html")
    page.click("#students th[data-sort=score] button")
    assert guard.served == [(softmax_class / "index.html").resolve().as_uri()]
    assert guard.refused == []
    assert page.evaluate("window.__csp") == []
    external = page.eval_on_selector_all("[src], link[href]", "els => els.map(e => e.outerHTML)")
    assert external == []


def test_the_network_guard_sees_a_page_that_reaches_out(tmp_path, open_page):
    """The guard of the offline test can fail: a page with a remote image and script is caught."""
    page_file = tmp_path / "online.html"
    page_file.write_text('<img src="http://example.invalid/a.png"><script src="https://cdn.invalid/x.js"></script>')
    _, guard = open_page(page_file)
    assert sorted(guard.refused) == ["http://example.invalid/a.png", "https://cdn.invalid/x.js"]


def test_a_class_of_2000_is_paginated_and_stays_usable(tmp_path, open_page):
    from benchmarks.class_page import synthesise, write_reports
    from grader.report.html import build_site

    reports = synthesise(2000)
    write_reports(tmp_path, reports)
    build_site(tmp_path)
    page, guard = open_page(tmp_path / "index.html")
    names = lambda: [r[0] for r in rows(page, "#students")]  # noqa: E731
    ordered = sorted(r.student for r in reports)
    assert names() == ordered[:50]
    assert page.inner_text("#student-page-info") == "students 1\u201350 of 2000 (page 1 of 40)"
    page.click("#student-next")
    assert names() == ordered[50:100]
    page.click("#students th[data-sort=score] button")
    lowest = sorted(reports, key=lambda r: (r.score, r.student))[:50]
    assert names() == [r.student for r in lowest]
    page.fill("#student-filter", "s01234")
    assert names() == ["s01234"]
    page.fill("#student-filter", "")
    show_all_students(page)
    assert len(names()) == 2000
    assert guard.refused == []


def test_a_screenshot_of_the_class_page(softmax_class, open_page, screenshot_path):
    page, _ = open_page(softmax_class / "index.html")
    path = screenshot_path("class-page.png")
    page.screenshot(path=str(path), full_page=True)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width == 1200 and height > 1500  # the whole page, not only the first screen
