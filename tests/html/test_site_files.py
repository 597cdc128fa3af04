"""The files written: beside each report, relative links, deterministic, offline, escaped; in check's words."""

from __future__ import annotations

import html
import re
import subprocess
import sys

from rich.console import Console

from grader.report.html import build_site, plots
from grader.report.text import render_check
from tests.conftest import FIXTURES, ROOT
from tests.html.conftest import HOSTILE_HINT, HOSTILE_ID, load_json_reports, make_report, write_reports


def text_of(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", fragment)).split())


def test_grade_writes_the_class_page_and_a_page_beside_each_report(softmax_class):
    stems = set(load_json_reports(softmax_class))
    assert {p.stem for p in softmax_class.glob("*.html")} == stems | {"index"}
    assert "img_src_x_onerror_window.pwned_1" in stems  # the file-safe name of the markup id
    page = (softmax_class / "index.html").read_text()
    assert all(f'href="{stem}.html"' in page for stem in stems)


def test_no_page_refers_to_anything_outside_itself(softmax_class, hostile_class):
    for path in [*softmax_class.glob("*.html"), *hostile_class.glob("*.html")]:
        page = path.read_text()
        tags = [re.sub(r'"[^"]*"', '""', t) for t in re.findall(r"<[A-Za-z][^>]*>", page)]  # text has no '<'
        assert not [t for t in tags if re.search(r"""\s(src|srcset|action|formaction|poster)\s*=|^<link\b""", t)], path
        assert not re.search(r"@import|url\((?!#)", page), path
        hrefs = re.findall(r'href="([^"]*)"', page)
        assert all(h.startswith("#") or re.fullmatch(r"[\w.%-]+\.html", h) for h in hrefs), (path, hrefs)
        assert "default-src 'none'" in html.unescape(page)


def test_pages_are_the_same_on_every_build(tmp_path, softmax_class):
    reports = load_json_reports(softmax_class)
    write_reports(tmp_path, list(reports.values()))
    build_site(tmp_path)
    first = {p.name: p.read_bytes() for p in tmp_path.glob("*.html")}
    build_site(tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.glob("*.html")} == first
    assert first["index.html"].count(b"<svg") == 2


def test_markup_in_a_student_id_or_a_hint_is_escaped(hostile_class):
    index = (hostile_class / "index.html").read_text()
    student = (hostile_class / "script_window.pwned_1_script.html").read_text()
    for page in (index, student):
        assert HOSTILE_ID not in page and html.escape(HOSTILE_ID, quote=False) in page
    assert "<img" not in student and "&lt;img src=x onerror=&#34;window.pwned=3&#34;&gt;" in student
    assert HOSTILE_HINT[:20] not in index


def test_the_class_page_goes_where_o_says_with_links_back_and_forth(tmp_path, softmax_class):
    write_reports(tmp_path / "reports", list(load_json_reports(softmax_class).values()))
    site = build_site(tmp_path / "reports", out_file=tmp_path / "www" / "class.html")
    page = site.class_page.read_text()
    assert site.class_page == tmp_path / "www" / "class.html" and site.student_pages == 9
    assert 'href="../reports/chloe.html"' in page
    assert 'href="../www/class.html"' in (tmp_path / "reports" / "chloe.html").read_text()
    assert not (tmp_path / "reports" / "index.html").exists()


def test_a_report_named_index_does_not_overwrite_the_class_page(tmp_path):
    write_atomic_json = (tmp_path / "index.json").write_text
    write_atomic_json(make_report("index").model_dump_json())
    site = build_site(tmp_path)
    assert "the class at a glance" in site.class_page.read_text()
    assert "<h1 id=\"student\">index</h1>" in (tmp_path / "index.student.html").read_text()


def test_the_student_page_says_what_grader_check_says(tmp_path, grade_text, softmax_public_grading):
    base = (FIXTURES / "softmax_gradients" / "right" / "vectorised.py").read_text()
    mistakes = "".join((FIXTURES / "softmax_gradients" / "mistakes" / f"{m}.py").read_text()
                       for m in ("jacobian.diagonal_only", "generic.mutates_input"))
    stub = "\ndef squared_loss_grad(z, y):\n    raise NotImplementedError\n"
    report = grade_text(base + "\n" + mistakes + stub, "me.py", softmax_public_grading)
    console = Console(record=True, width=1000, highlight=False)
    render_check(report, console)
    said = [" ".join(line.split()) for line in console.export_text().splitlines()]
    heads = [line for line in said if line.startswith(("hint ", "also possible ", "warning "))]
    assert any(h.startswith("warning generic.mutates_input") for h in heads)
    assert any(h.startswith("hint jacobian.diagonal_only (this mistake gives your output on") for h in heads)
    write_reports(tmp_path, [report])
    build_site(tmp_path)
    page = (tmp_path / "me.html").read_text()
    assert [text_of(p) for p in re.findall(r'<p class="hint-head">(.*?)</p>', page, re.S)] == heads
    sections = [text_of(h) for h in re.findall(r"<h3>(.*?)</h3>", page, re.S)]
    assert sections == [line for line in said if re.fullmatch(r"\S+/\S+ (passed|failed|error|timeout)", line)]
    assert text_of(re.search(r'<p id="stubs">(.*?)</p>', page, re.S)[1]) in said
    assert text_of(re.search(r'<p id="total">(.*?)</p>', page, re.S)[1]) in said


def test_building_the_cli_does_not_import_pygal():
    code = "import sys, grader.cli, grader.api; print('pygal' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert run.stdout.strip() == "False"


def test_warming_up_loads_the_templates_and_pygal_once_for_every_later_page():
    code = ("import sys\nfrom grader.report.html.site import Pages, warm_up\n"
            "warm_up()\n"
            "first, second = Pages('a'), Pages('b')\n"
            "print('pygal' in sys.modules, first.renderer is second.renderer)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert run.stdout.split() == ["True", "True"]


def test_a_class_where_nothing_could_be_graded_still_gets_its_page(tmp_path):
    write_reports(tmp_path, [make_report("a", status="error", message="syntax error: expected ':'"),
                             make_report("b", status="error", message="the file is empty")])
    page = build_site(tmp_path).class_page.read_text()
    assert page.count("<svg") == 1  # the histogram; no function to draw a pass rate for
    table = re.search(r'<table id="ungraded">(.*?)</table>', page, re.S)[1]
    assert [text_of(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", table, re.S)] == [
        "a", "syntax error: expected ':'", "b", "the file is empty"]


def test_the_plots_hold_the_counts_and_rates_and_no_script():
    scores = [0.0, 0.5, 3.0, 5.0, 5.0, 5.9, 6.0]  # out of 6: tenths 0, 0, 5, 8, 8, 9, 9 (the top is in the last)
    assert plots.bin_counts(scores, 6.0) == [2, 0, 0, 0, 0, 1, 0, 0, 2, 2]
    histogram = plots.score_histogram(scores, 3, 6.0)
    bars = plots.pass_rate_bars(["softmax_jacobian", "mse_grad"], [0.25, 1.0])
    for svg in (histogram, bars):
        assert svg.startswith("<svg") and "<script" not in svg and "<?xml" not in svg
    assert 'id="chart-histogram"' in histogram and 'id="chart-pass-rates"' in bars
    assert "could not be graded (scored 0)" in histogram and "score (out of 6)" in histogram
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", bars)
    assert "softmax_jacobian" in texts and "25%" in texts and "100%" in texts
    assert texts.index("mse_grad") < texts.index("softmax_jacobian")  # drawn from the bottom: the first part on top
    assert plots.score_histogram(scores, 3, 6.0) == histogram  # the same bytes every time


def test_the_histogram_counts_ticks_in_whole_students():
    assert plots.integer_ticks(0) == [0, 1] and plots.integer_ticks(7) == [0, 1, 2, 3, 4, 5, 6, 7]
    assert plots.integer_ticks(9) == [0, 2, 4, 6, 8, 10] and plots.integer_ticks(130) == list(range(0, 141, 20))
    assert plots.integer_ticks(999) == list(range(0, 1001, 200))


def test_a_late_submission_is_marked_late_on_both_pages(tmp_path):
    late, on_time = make_report("ann", score=100.0), make_report("bob", score=100.0)
    late.submission.late = True
    on_time.submission.late = False
    write_reports(tmp_path, [late, on_time])
    site = build_site(tmp_path)
    rows = {text_of(row).split()[0]: text_of(row) for row in re.findall(r"<tr data-name.*?</tr>", site.class_page.read_text(), re.S)}
    assert rows["ann"].startswith("ann graded late") and "late" not in rows["bob"]
    assert "handed in late" in (tmp_path / "ann.html").read_text()
    assert 'id="late"' not in (tmp_path / "bob.html").read_text() and 'id="late"' in (tmp_path / "ann.html").read_text()
