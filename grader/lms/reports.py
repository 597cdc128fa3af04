"""The reports an export is made of: those of a folder (or one file), at least one of them."""

from __future__ import annotations

from pathlib import Path

from grader.errors import GraderError
from grader.report.folder import Loaded
from grader.report.folder import load_reports as read_reports


def load_reports(path: Path) -> Loaded:
    """The reports in folder ``path`` (or the one report file ``path``), in the order of their file names.

    A file that cannot be read as a report is skipped (``skipped`` names it and says why); no report at all is an error.
    """
    path = Path(path)
    if not path.exists():
        raise GraderError(f"{path} does not exist")
    loaded = read_reports(path)
    if not loaded.entries:
        raise GraderError(f"no readable reports in {path} (expected the <student>.json files written by grader grade)")
    return loaded
