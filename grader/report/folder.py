"""Reading reports back (a batch's ``OUTDIR/<student>.json``, or one report file): the rest skipped, each named.

Used by the class page and by the LMS exports."""

from __future__ import annotations

import json
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
    stale: list[str] = field(default_factory=list)  # reports read, of no submission of the folder's last batch
    superseded: list[tuple[str, str]] = field(default_factory=list)  # (a report left out, the newer report of the
    # same LMS student and assignment that is used instead)

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
    if stems is None and folder.is_dir():
        loaded.stale = _not_in_last_batch(folder, paths)
    written: dict[str, float] = {}
    for path in paths:
        try:
            report = Report.model_validate_json(path.read_bytes())
            written[path.stem] = path.stat().st_mtime
        except OSError as exc:
            loaded.skipped.append((path.name, f"cannot be read ({exc.strerror or exc})"))
        except ValidationError as exc:
            loaded.skipped.append((path.name, _why(exc)))
        else:
            loaded.entries.append(Entry(path.stem, report))
    _newest_of_each_lms_student(loaded, written)
    return loaded


def _newest_of_each_lms_student(loaded: Loaded, written: dict[str, float]) -> None:
    """Of several reports of one LMS student (the same LMS and id) for one assignment, only the one written last
    is kept: the others are of earlier downloads (a blind-marked one, where the student was named Participant),
    listed in ``loaded.superseded``."""
    def key(entry: Entry) -> tuple:
        return entry.report.assignment, entry.report.submission.lms, entry.report.submission.lms_id or ""

    keys = {entry.stem: key(entry) for entry in loaded.entries}
    newest: dict[tuple, Entry] = {}
    for entry in loaded.entries:
        k = keys[entry.stem]
        if k[2] and (k not in newest or written[entry.stem] >= written[newest[k].stem]):
            newest[k] = entry
    kept = []
    for entry in loaded.entries:
        k = keys[entry.stem]
        if k[2] and newest[k] is not entry:
            loaded.superseded.append((f"{entry.stem}.json", f"{newest[k].stem}.json"))
        else:
            kept.append(entry)
    loaded.entries = kept
    left_out = {old for old, _ in loaded.superseded}
    loaded.stale = [name for name in loaded.stale if name not in left_out]  # said once, as superseded


def superseded_warning(pairs: list[tuple[str, str]], where: str = "here") -> str:
    """What to say of the reports left out for a newer one of the same LMS student (``Loaded.superseded``)."""
    shown = "; ".join(f"{old} (by {new})" for old, new in pairs[:5]) + ("; ..." if len(pairs) > 5 else "")
    one = len(pairs) == 1
    return (f"{len(pairs)} report{'' if one else 's'} {where} {'is' if one else 'are'} of an LMS student (the same LMS "
            f"id and assignment) that a report graded later, under another name, is of too: left out of the class "
            f"page and the exports, the one graded last used: {shown}; remove the older {'one' if one else 'ones'} "
            "(or, if the older report is of the newer upload, grade that download again)")


def stale_warning(names: list[str]) -> str:
    """What to say of the reports of students gone from a folder's last batch (``Loaded.stale``)."""
    shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
    one = len(names) == 1
    return (f"{len(names)} report{'' if one else 's'} here {'is' if one else 'are'} of no submission of the batch "
            f"that last wrote this folder (its summary.json): {shown}; {'it is' if one else 'they are'} included, "
            f"but remove {'it' if one else 'them'} if {'that student' if one else 'those students'} left, or grade "
            "the whole class again so that one batch holds them all")


def _not_in_last_batch(folder: Path, paths: list[Path]) -> list[str]:
    """The reports of students gone from the folder's last batch (a student's file removed; or a batch of
    some students only, a late one, graded into the class's folder): said, not left out.

    ``grader grade`` lists its reports in summary.json; a report it does not list, and older than that
    summary, was there when that batch ran and is of no submission of it (one written since, by a run
    stopped before its summary, is not). A folder with no such list (reports gathered by hand) has none.
    """
    summary = folder / "summary.json"
    try:
        listed = json.loads(summary.read_bytes()).get("reports")
        written = summary.stat().st_mtime
    except (OSError, ValueError, AttributeError):
        return []
    if not isinstance(listed, list):
        return []
    listed = {name for name in listed if isinstance(name, str)}
    stale = []
    for path in paths:
        try:
            if path.name not in listed and path.stat().st_mtime <= written:
                stale.append(path.name)
        except OSError:
            pass
    return stale


def _why(exc: ValidationError) -> str:
    first = exc.errors()[0]
    if first["type"] == "json_invalid":
        return "not valid JSON"
    where = ".".join(str(p) for p in first["loc"]) or "the top level"
    return f"not a grader report ({where}: {first['msg']})"
