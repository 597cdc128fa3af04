"""The commands' own words on stderr: warnings, and errors that end the command with the usage status (2)."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.markup import escape

from grader.errors import ExitCode


def console(stderr: bool = False, laid_out: bool = False) -> Console:
    """Where the commands write: wrapped to the terminal's width on a terminal; else (a log, a pipe) lines are
    never broken, so that each one can be searched whole. ``laid_out``: for tables and indented blocks, which
    are always wrapped (80 columns when not on a terminal), never cut."""
    out = Console(stderr=stderr, highlight=False)
    out.soft_wrap = not out.is_terminal and not laid_out
    return out


def _stderr() -> Console:
    return console(stderr=True)


def warn(message: str) -> None:
    """'warning: ...' on stderr (the message is shown as it is, never read as markup)."""
    _stderr().print(f"[yellow]warning:[/yellow] {escape(message)}")


def fail(message: str) -> None:
    """'error: ...' on stderr, then exit 2."""
    _stderr().print(f"[red]error:[/red] {escape(message)}")
    sys.exit(ExitCode.USAGE_ERROR)
