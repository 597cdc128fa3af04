"""HTML from the Jinja2 templates of this package, every value escaped (autoescape on)."""

from __future__ import annotations

import base64
import functools
import hashlib
from importlib import resources

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from grader import __version__
from grader.report.html.classdata import ClassData
from grader.report.html.notation import math_html
from grader.report.html.studentdata import StudentView

SHOWN_NAMES = 12  # names listed in a misconception's row before "and N more"


class Renderer:
    """The class page and the student pages; one instance renders any number of them."""

    def __init__(self) -> None:
        self.env = Environment(loader=PackageLoader("grader.report.html", "templates"), autoescape=True,
                               undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                               auto_reload=False)  # the templates are the package's own: no stat of base.html per page
        self.env.filters.update(math=math_html, num=_num, decimals=_decimals, pct=lambda x: f"{100 * x:.0f}%")
        self.env.globals.update(version=__version__, css=Markup(_asset("style.css")))
        self.script = _asset("students.js")
        self.class_template = self.env.get_template("class.html")
        self.student_template = self.env.get_template("student.html")

    def class_page(self, data: ClassData, skipped: list[tuple[str, str]]) -> str:
        """The class at a glance."""
        from grader.report.html import plots

        stats = data.statistics
        histogram = plots.score_histogram([s.score for s in data.students if s.status == "graded"],
                                          len(data.ungraded), stats["max_score"])
        pass_rates = plots.pass_rate_bars([p.part for p in data.parts], [p.rate for p in data.parts])
        return self.class_template.render(
            data=data, skipped=skipped, histogram=Markup(histogram), pass_rates=Markup(pass_rates),
            shown_names=SHOWN_NAMES, script=Markup(self.script), csp=_policy(self.script))

    def student_page(self, view: StudentView, class_href: str) -> str:
        """One student's feedback."""
        return self.student_template.render(view=view, class_href=class_href, script=None, csp=_policy(None))


@functools.cache
def shared_renderer() -> Renderer:
    """This process's one Renderer: its templates compiled once (a batch does it ahead, on a thread it joins)."""
    return Renderer()


def _policy(script: str | None) -> str:
    """The page's Content-Security-Policy: nothing loaded from anywhere, only its own inline script run."""
    scripts = "'none'"
    if script:
        scripts = "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
    return (f"default-src 'none'; script-src {scripts}; style-src 'unsafe-inline'; img-src data:; "
            "base-uri 'none'; form-action 'none'")


def _asset(name: str) -> str:
    return (resources.files("grader.report.html") / "templates" / name).read_text(encoding="utf-8")


def _num(x: float | None) -> str:
    return "n/a" if x is None else f"{x:g}"


def _decimals(x: float | None) -> str:
    """At most two decimals, without trailing zeros (64.875 shows as 64.88, 52.5 as 52.5)."""
    return "n/a" if x is None else f"{x:.2f}".rstrip("0").rstrip(".")
