"""The terminal rendering of reports: the student's table with hints, the instructor's batch summary."""

from __future__ import annotations

import io

from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table

from grader.report import check_words as words
from grader.report.model import Report

STATUS_STYLE = {"passed": "green", "failed": "red", "error": "red", "timeout": "yellow"}


def render_check(report: Report, console: Console) -> None:
    """A student's check: one line per test, and under each failing test its hints, indented."""
    console.print(f"[bold]{escape(report.assignment)}[/bold]  {escape(report.submission.path)}")
    for note in report.notes:
        console.print(Padding(f"[dim]note: {escape(note)}[/dim]", (0, 0, 0, 2)))
    if report.status == "error":
        console.print(f"[red]{words.UNGRADABLE}[/red] {escape(report.message or '')}")
        for hint in report.hints:
            console.print(Padding(f"[yellow]hint[/yellow] [bold]{escape(hint.code)}[/bold]: {escape(hint.message)}", (0, 0, 0, 2)))
        return
    table = Table(box=None, show_header=True, pad_edge=False, expand=False)
    table.add_column("")
    table.add_column("test", no_wrap=True)
    table.add_column("score", justify="right", no_wrap=True)
    table.add_column("message")
    for test in report.tests:
        style = STATUS_STYLE.get(test.status, "")
        table.add_row(f"[{style}]{words.mark(test)}[/{style}]", escape(test.id), f"{test.score:g}/{test.max_score:g}", escape(test.message))
    console.print(table)
    stubs = words.stub_tests(report)
    if stubs:
        console.print(f"\n[bold]{words.STUBS}[/bold] {words.STUBS_WHY}: {escape(words.stub_names(stubs))}")
    for test, hints, also in words.hinted(report, stubs):
        console.print(f"\n[bold]{escape(test.id)}[/bold] [{STATUS_STYLE.get(test.status, '')}]{test.status}[/]"
                      f"{escape(words.same_for(also))}")
        for label, hint in hints:
            console.print(Padding(f"[yellow]{label}[/yellow] [bold]{escape(hint.code)}[/bold]{escape(words.evidence(hint))}", (0, 0, 0, 2)))
            console.print(Padding(escape(hint.message), (0, 0, 0, 4)))
    console.print(f"\n[bold]{words.score(report)}[/bold]: {escape(words.tally(report))}")


def check_text(report: Report, width: int = 100) -> str:
    """The text of :func:`render_check`, without colours (the notebook's check shows it outside Jupyter)."""
    buffer = io.StringIO()
    render_check(report, Console(file=buffer, width=width, highlight=False, color_system=None,
                                 force_terminal=False, force_jupyter=False, soft_wrap=False))
    return buffer.getvalue()


def render_batch(stats: dict, out_dir: str, console: Console) -> None:
    """The instructor's closing lines: counts, mean score, the commonest hint codes."""
    score = stats["score"]
    mean = "n/a" if score["mean"] is None else f"{score['mean']:.1f}"
    top = ", ".join(f"{code} ({n})" for code, n in list(stats["hint_counts"].items())[:3]) or "none"
    console.print(
        f"{stats['students']} submission{'' if stats['students'] == 1 else 's'} of {stats['assignment']}: "
        f"{stats['graded']} graded, {stats['errors']} could not be graded"
        f"{' (scored 0)' if stats['errors'] else ''}; mean score {mean} / {stats['max_score']:g} over all "
        f"{stats['students']}; "
        f"commonest hints: {escape(top)}"
    )
    console.print(f"reports in {escape(out_dir)} (summary.csv, summary.json, index.html)")
