"""Reading reports back (a batch's ``OUTDIR/<student>.json``, or one report file): the rest skipped, each named.

Used by the class page and by the LMS exports."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from grader.report.model import Report

NOT_REPORTS = {"summary.json"}  # written beside the reports by `grader grade`


@dataclass(frozen=True)
class Entry:
    """One report and the stem of its file (the name its student page takes)."""

    stem: str
    report: Report


@dataclass
class Loaded:
    """The reports of a folder, in order of file name, and the files that could not be read as reports."""

    entries: list[Entry] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file name, why)

    @property
    def reports(self) -> list[tuple[str, Report]]:
        """(stem, report) of each report read."""
        return [(e.stem, e.report) for e in self.entries]


def load_reports(folder: Path, stems: list[str] | None = None) -> Loaded:
    """The reports in ``folder`` (only those named ``<stem>.json`` for ``stems``, when given), or the one report
    file ``folder``."""
    folder = Path(folder)
    if folder.is_file():
        paths = [folder]
    elif stems is None:
        paths = sorted(p for p in folder.glob("*.json")
                       if p.name not in NOT_REPORTS and not p.name.startswith(".") and p.is_file())
    else:
        paths = sorted(folder / f"{stem}.json" for stem in stems)
    loaded = Loaded()
    for path in paths:
        try:
            report = Report.model_validate_json(path.read_bytes())
        except OSError as exc:
            loaded.skipped.append((path.name, f"cannot be read ({exc.strerror or exc})"))
        except ValidationError as exc:
            loaded.skipped.append((path.name, _why(exc)))
        else:
            loaded.entries.append(Entry(path.stem, report))
    return loaded


def _why(exc: ValidationError) -> str:
    first = exc.errors()[0]
    if first["type"] == "json_invalid":
        return "not valid JSON"
    where = ".".join(str(p) for p in first["loc"]) or "the top level"
    return f"not a grader report ({where}: {first['msg']})"
