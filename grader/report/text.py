"""The terminal rendering of reports: the student's table with hints, the instructor's batch summary."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table

from grader.report.model import Report

STATUS_STYLE = {"passed": "green", "failed": "red", "error": "red", "timeout": "yellow"}


def render_check(report: Report, console: Console) -> None:
    """A student's check: one line per test, and under each failing test its hints, indented."""
    console.print(f"[bold]{escape(report.assignment)}[/bold]  {escape(report.submission.path)}")
    for note in report.notes:
        console.print(Padding(f"[dim]note: {escape(note)}[/dim]", (0, 0, 0, 2)))
    if report.status == "error":
        console.print(f"[red]could not be graded:[/red] {escape(report.message or '')}")
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
        mark = {"passed": "ok", "timeout": "TIME"}.get(test.status, "FAIL" if test.status == "failed" else "ERR")
        table.add_row(f"[{style}]{mark}[/{style}]", escape(test.id), f"{test.score:g}/{test.max_score:g}", escape(test.message))
    console.print(table)
    stubs = [t for t in report.tests if [h.code for h in t.hints] == ["generic.not_implemented"]]
    if stubs:
        names = ", ".join(dict.fromkeys(t.function for t in stubs))
        console.print(f"\n[bold]not implemented yet[/bold] (still the template's stub): {escape(names)}")
    for test in report.tests:
        if not test.hints or test in stubs:
            continue
        console.print(f"\n[bold]{escape(test.id)}[/bold] [{STATUS_STYLE.get(test.status, '')}]{test.status}[/]")
        for i, hint in enumerate(test.hints):
            label = "warning" if hint.warning else ("hint" if i == 0 else "also possible")
            evidence = ""
            if hint.evidence and not hint.warning:
                evidence = f" (your output matches it on {hint.evidence.matched_cases} of {hint.evidence.of} cases)"
            console.print(Padding(f"[yellow]{label}[/yellow] [bold]{escape(hint.code)}[/bold]{evidence}", (0, 0, 0, 2)))
            console.print(Padding(escape(hint.message), (0, 0, 0, 4)))
    passed = sum(t.status == "passed" for t in report.tests)
    console.print(
        f"\n[bold]score {report.score:g} / {report.max_score:g}[/bold]: {passed} of {len(report.tests)} public tests "
        f"pass (sandbox: {escape(report.grader.sandbox)})"
    )


def render_batch(stats: dict, out_dir: str, console: Console) -> None:
    """The instructor's closing lines: counts, mean score, the commonest hint codes."""
    score = stats["score"]
    mean = "n/a" if score["mean"] is None else f"{score['mean']:.1f}"
    top = ", ".join(f"{code} ({n})" for code, n in list(stats["hint_counts"].items())[:3]) or "none"
    console.print(
        f"{stats['students']} submissions: {stats['graded']} graded, {stats['errors']} could not be graded"
        f"{' (scored 0)' if stats['errors'] else ''}; mean score {mean} / {stats['max_score']:g} over all "
        f"{stats['students']}; "
        f"commonest hints: {escape(top)}"
    )
    console.print(f"reports in {escape(out_dir)} (summary.csv, summary.json, index.html)")
