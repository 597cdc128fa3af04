"""Writing the pages: the class page (``index.html``) and a page beside each JSON report."""

from __future__ import annotations

import gc
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from grader.report.html.classdata import ClassBuilder
from grader.report.folder import load_reports
from grader.report.html.studentdata import page_view
from grader.report.model import Report
from grader.report.write import write_atomic


@dataclass(frozen=True)
class Site:
    """What was written, and the files of the folder that were not read as reports."""

    class_page: Path | None  # None when the folder holds no report (nothing is written then)
    student_pages: int
    skipped: list[tuple[str, str]]
    stale: tuple[str, ...] = ()  # reports read, of no submission of the folder's last batch
    superseded: tuple[tuple[str, str], ...] = ()  # reports left out for a newer one of the same LMS student


def build_site(report_dir: str | Path, *, out_file: str | Path | None = None,
               stems: list[str] | None = None, unchanged: set[str] = frozenset()) -> Site:
    """Read the reports in ``report_dir`` (only ``<stem>.json`` for ``stems``, when given) and write the pages.

    The page of a stem in ``unchanged`` (a report reused by a rerun) is left as it is when it exists.

    Each student page is ``<stem>.html`` beside ``<stem>.json``; the class page is ``out_file``
    (``report_dir/index.html`` by default), its links relative so that the folder can be moved or zipped.
    Nothing is written when there is no report.
    """
    with _collector_paused():
        loaded = load_reports(Path(report_dir), stems)
        if not loaded.entries:
            return Site(None, 0, loaded.skipped, tuple(loaded.stale), tuple(loaded.superseded))
        pages = Pages(report_dir, out_file)
        for entry in loaded.entries:
            pages.student(entry.stem, entry.report, keep=entry.stem in unchanged)
            pages.add(entry.stem, entry.report)
        pages.write_class_page(loaded.skipped)
    return Site(pages.out_file, len(loaded.entries), loaded.skipped, tuple(loaded.stale), tuple(loaded.superseded))


class Pages:
    """The pages of one folder of reports: each student's, written one at a time, and the class page,
    from every report added (which need not be kept)."""

    def __init__(self, report_dir: str | Path, out_file: str | Path | None = None) -> None:
        from grader.report.html.render import shared_renderer  # Jinja2 and pygal only when pages are built

        self.report_dir = Path(report_dir)
        self.out_file = Path(out_file) if out_file is not None else self.report_dir / "index.html"
        self.renderer = shared_renderer()
        self.back = _link(self.out_file, self.report_dir)
        self.classes = ClassBuilder(lambda stem: _link(self.report_dir / self.page_name(stem), self.out_file.parent))

    def page_name(self, stem: str) -> str:
        """``<stem>.html``, unless that is the class page's own file."""
        return page_names([stem], self.out_file, self.report_dir)[stem]

    def student(self, stem: str, report: Report, keep: bool = False) -> None:
        """Write the page of ``<stem>.json``; when ``keep``, leave the one there (if any) as it is."""
        page = self.report_dir / self.page_name(stem)
        if keep and page.exists():
            return
        write_atomic(page, self.renderer.student_page(page_view(report), self.back))

    def add(self, stem: str, report: Report) -> None:
        """Count a report in the class page."""
        self.classes.add(stem, report)

    def write_class_page(self, skipped: list[tuple[str, str]] = ()) -> None:
        self.out_file.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.out_file, self.renderer.class_page(self.classes.finish(), list(skipped)))


def warm_up() -> None:
    """Load what the pages need (Jinja2 and the templates, compiled; pygal): about a tenth of a second,
    which a batch spends on a thread of its own while its sandbox workers start. Quiet: a failure
    here is met again, and reported, where the pages are built."""
    try:
        from grader.report.html import plots
        from grader.report.html.render import shared_renderer

        shared_renderer()
        plots.load()
    except Exception:  # noqa: BLE001
        pass


@contextmanager
def _collector_paused():
    """No cyclic garbage collection while the build runs: with thousands of reports in memory each
    collection walks them all, which took a third of the time; nothing built here needs it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def page_names(stems: list[str], out_file: Path, report_dir: Path) -> dict[str, str]:
    """``<stem>.html`` for each report, unless that is the class page's own file."""
    taken = os.path.normcase(os.path.abspath(out_file))
    names = {}
    for stem in stems:
        name = f"{stem}.html"
        if os.path.normcase(os.path.abspath(report_dir / name)) == taken:
            name = f"{stem}.student.html"
        names[stem] = name
    return names


def _link(target: Path, from_dir: Path) -> str:
    """A relative URL from a page in ``from_dir`` to ``target``."""
    relative = os.path.relpath(os.path.abspath(target), os.path.abspath(from_dir))
    return quote(Path(relative).as_posix())
