"""The commands' own words on stderr: warnings, and errors that end the command with the usage status (2)."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.markup import escape

from grader.errors import ExitCode


def _stderr() -> Console:
    return Console(stderr=True, highlight=False)


def warn(message: str) -> None:
    """'warning: ...' on stderr (the message is shown as it is, never read as markup)."""
    _stderr().print(f"[yellow]warning:[/yellow] {escape(message)}")


def fail(message: str) -> None:
    """'error: ...' on stderr, then exit 2."""
    _stderr().print(f"[red]error:[/red] {escape(message)}")
    sys.exit(ExitCode.USAGE_ERROR)
