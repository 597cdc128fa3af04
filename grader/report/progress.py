"""Progress of a batch on the terminal: a rich bar with the running count of errors, or plain lines."""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from grader.report.model import Report

PLAIN_EVERY = 100  # without a terminal, one line per this many submissions,
PLAIN_EVERY_S = 10.0  # or this many seconds, whichever comes first


class BatchProgress:
    """Follows ``api.grade`` through its ``on_start`` and ``on_report`` callbacks."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.done = self.errors = self.reused = self.total = 0
        self.bar: Progress | None = None
        self.task = None
        self.said = time.monotonic()  # the last plain line

    def __enter__(self) -> "BatchProgress":
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def start(self, total: int) -> None:
        self.total = total
        if self.console.is_terminal:
            self.bar = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("{task.fields[errors]} could not be graded, {task.fields[reused]} up to date"),
                                TimeRemainingColumn(), console=self.console, transient=True)
            self.task = self.bar.add_task("grading", total=total, errors=0, reused=0)
            self.bar.start()
        else:
            self.console.print(f"grading {total} submission{'' if total == 1 else 's'}")
            self.said = time.monotonic()

    def advance(self, report: Report, reused: bool) -> None:
        self.done += 1
        self.errors += report.status == "error"
        self.reused += reused
        if self.bar is not None:
            self.bar.update(self.task, advance=1, errors=self.errors, reused=self.reused)
        elif (self.done % PLAIN_EVERY == 0 or self.done == self.total
              or time.monotonic() - self.said >= PLAIN_EVERY_S):
            self.said = time.monotonic()
            self.console.print(f"{self.done}/{self.total} done: {self.errors} could not be graded, "
                               f"{self.reused} up to date from an earlier run")
