"""The terminal rendering of reports: the student's table with hints, the instructor's batch summary."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from grader.report.model import Report

STATUS_STYLE = {"passed": "green", "failed": "red", "error": "red", "timeout": "yellow"}


def render_check(report: Report, console: Console) -> None:
    """A student's check: one row per test, the hints under the failing ones."""
    console.print(f"[bold]{escape(report.assignment)}[/bold]: {escape(report.submission.path)}")
    for note in report.notes:
        console.print(f"  [dim]note: {escape(note)}[/dim]")
    if report.status == "error":
        console.print(f"[red]could not be graded:[/red] {escape(report.message or '')}")
        for hint in report.hints:
            console.print(f"  [yellow]hint[/yellow] [{escape(hint.code)}] {escape(hint.message)}")
        return
    table = Table(show_lines=False, expand=False)
    table.add_column("test")
    table.add_column("status")
    table.add_column("score", justify="right")
    table.add_column("message")
    for test in report.tests:
        style = STATUS_STYLE.get(test.status, "")
        lines = [escape(test.message)]
        for i, hint in enumerate(test.hints):
            label = "warning" if hint.warning else ("hint" if i == 0 else "also")
            evidence = f" (matched {hint.evidence.matched_cases}/{hint.evidence.of} cases)" if hint.evidence and not hint.warning else ""
            lines.append(f"[yellow]{label}[/yellow] [bold]{escape(hint.code)}[/bold]{evidence}: {escape(hint.message)}")
        table.add_row(escape(test.id), f"[{style}]{test.status}[/{style}]", f"{test.score:g}/{test.max_score:g}", "\n".join(lines))
    console.print(table)
    console.print(f"[bold]score {report.score:g} / {report.max_score:g}[/bold]  (sandbox: {escape(report.grader.sandbox)})")


def render_batch(stats: dict, out_dir: str, console: Console) -> None:
    """The instructor's closing lines: counts, mean score, the commonest hint codes."""
    score = stats["score"]
    mean = "n/a" if score["mean"] is None else f"{score['mean']:.1f}"
    top = ", ".join(f"{code} ({n})" for code, n in list(stats["hint_counts"].items())[:3]) or "none"
    console.print(
        f"graded {stats['graded']} of {stats['students']} submissions, {stats['errors']} could not be graded; "
        f"mean score {mean} / {stats['max_score']:g}; commonest hints: {escape(top)}"
    )
    console.print(f"reports in {escape(out_dir)} (summary.csv, summary.json)")
