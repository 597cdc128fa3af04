"""A student's check as HTML, for the notebook (``grader.check()`` in Jupyter): the words of ``grader check``."""

from __future__ import annotations

from html import escape

from grader.report import check_words as words
from grader.report.model import Report

COLOURS = {"passed": "#1a7f37", "failed": "#cf222e", "error": "#cf222e", "timeout": "#9a6700"}
HINT_COLOUR = "#9a6700"


def _status(status: str, text: str) -> str:
    return f'<span class="grader-{escape(status)}" style="color:{COLOURS.get(status, "inherit")};font-weight:bold">{escape(text)}</span>'


def render_check_html(report: Report) -> str:
    """The check's table, hints and score as one HTML fragment; every text from the report is escaped."""
    out = ['<div class="grader-check">',
           f"<p><b>{escape(report.assignment)}</b>&nbsp;&nbsp;{escape(report.submission.path)}</p>"]
    out += [f'<p style="opacity:0.7;margin-left:1em">note: {escape(note)}</p>' for note in report.notes]
    if report.status == "error":
        out.append(f'<p>{_status("error", words.UNGRADABLE)} {escape(report.message or "")}</p>')
        out += [f'<p style="margin-left:1em"><span style="color:{HINT_COLOUR}">hint</span> '
                f"<b>{escape(h.code)}</b>: {escape(h.message)}</p>" for h in report.hints]
        out.append("</div>")
        return "\n".join(out)
    out.append('<table class="grader-tests"><thead><tr><th></th><th style="text-align:left">test</th>'
               '<th style="text-align:right">score</th><th style="text-align:left">message</th></tr></thead><tbody>')
    for test in report.tests:
        out.append(f"<tr><td>{_status(test.status, words.mark(test))}</td><td><code>{escape(test.id)}</code></td>"
                   f'<td style="text-align:right">{test.score:g}/{test.max_score:g}</td>'
                   f'<td style="text-align:left">{escape(test.message)}</td></tr>')
    out.append("</tbody></table>")
    stubs = words.stub_tests(report)
    if stubs:
        out.append(f"<p><b>{words.STUBS}</b> {escape(words.STUBS_WHY)}: {escape(words.stub_names(stubs))}</p>")
    for test, hints, also in words.hinted(report, stubs):
        out.append(f'<div class="grader-hints"><p><b><code>{escape(test.id)}</code></b> {_status(test.status, test.status)}'
                   f'{escape(words.same_for(also))}</p>')
        for label, hint in hints:
            out.append(f'<p style="margin-left:1em"><span style="color:{HINT_COLOUR}">{escape(label)}</span> '
                       f'<b class="grader-hint-code">{escape(hint.code)}</b>{escape(words.evidence(hint))}<br>'
                       f'<span style="margin-left:1em;display:inline-block">{escape(hint.message)}</span></p>')
        out.append("</div>")
    out.append(f"<p><b>{escape(words.score(report))}</b>: {escape(words.tally(report))}</p>")
    out.append("</div>")
    return "\n".join(out)
