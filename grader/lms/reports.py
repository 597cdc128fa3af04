"""Read back the reports of a batch (``OUTDIR/<student>.json``), skipping what is not a report."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from grader.errors import GraderError
from grader.report.model import Report

NOT_REPORTS = {"summary.json"}  # written beside the reports by ``grader grade``


@dataclass
class Loaded:
    """The reports found, each with the stem of its file, and a warning for each file skipped."""

    reports: list[tuple[str, Report]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def load_reports(path: Path) -> Loaded:
    """The reports in folder ``path`` (or the one report file ``path``), in the order of their file names.

    A file that cannot be read as a report is skipped with a warning naming it; no report at all is an error.
    """
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.glob("*.json") if p.name not in NOT_REPORTS and not p.name.startswith("."))
    elif path.is_file():
        files = [path]
    else:
        raise GraderError(f"{path} does not exist")
    loaded = Loaded()
    for file in files:
        try:
            report = Report.model_validate_json(file.read_bytes())
        except (OSError, ValidationError, ValueError) as exc:
            loaded.skipped.append(f"{file}: skipped, not a readable report ({_reason(exc)})")
            continue
        loaded.reports.append((file.stem, report))
    if not loaded.reports:
        raise GraderError(f"no readable reports in {path} (expected the <student>.json files written by grader grade)")
    return loaded


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return f"{exc.error_count()} problem(s), first: {where or 'file'}: {first.get('msg', 'invalid')}"
    return str(exc)[:200]
