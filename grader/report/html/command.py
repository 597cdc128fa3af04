"""``grader report REPORTDIR [-o FILE]``: the class page (and the student pages) from a folder of reports."""

from __future__ import annotations

from pathlib import Path

import click

from grader.report.folder import stale_warning, superseded_warning
from grader.terminal import fail, warn


@click.command("report")
@click.argument("report_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-o", "--out", "out_file", type=click.Path(dir_okay=True, path_type=Path), default=None,
              help="the class page to write (default: REPORTDIR/index.html)")
def report_cmd(report_dir: Path, out_file: Path | None) -> None:
    """Build the offline HTML class page from REPORTDIR's JSON reports, and a page beside each report."""
    from grader.report.html import build_site

    if out_file is not None and out_file.is_dir():
        out_file = out_file / "index.html"
    try:
        site = build_site(report_dir, out_file=out_file)
    except OSError as exc:
        fail(f"cannot write the pages: {exc}")
    for name, why in site.skipped:
        warn(f"skipped {name}: {why}")
    if site.stale:
        warn(stale_warning(list(site.stale)))
    if site.superseded:
        warn(superseded_warning(list(site.superseded)))
    if not site.student_pages:
        fail(f"no reports found in {report_dir}")
    click.echo(f"wrote {site.class_page} and {site.student_pages} student pages beside the reports")
