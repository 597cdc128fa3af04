"""What ``grader.check()`` returns: the report, shown as rich HTML in Jupyter and as the text of ``grader check`` elsewhere."""

from __future__ import annotations

import html
import shutil

from grader.report.check_html import render_check_html
from grader.report.model import Report
from grader.report.text import check_text


class CheckOutcome:
    """The public tests' report on the kernel's functions (``report``), or why there is none (``problem``)."""

    def __init__(self, report: Report | None = None, problem: str = "") -> None:
        self.report = report
        self.problem = problem

    @property
    def passed(self) -> bool:
        """Every public test that was run passes."""
        r = self.report
        return r is not None and r.status == "graded" and bool(r.tests) and all(t.status == "passed" for t in r.tests)

    def text(self, width: int | None = None) -> str:
        """The words of ``grader check`` (without colours)."""
        if self.report is None:
            return f"grader.check: {self.problem}\n"
        return check_text(self.report, width or shutil.get_terminal_size((100, 24)).columns)

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return self.text().rstrip("\n")

    def _repr_html_(self) -> str:
        if self.report is None:
            return f'<div class="grader-check"><p><b>grader.check:</b> {html.escape(self.problem)}</p></div>'
        return render_check_html(self.report)
