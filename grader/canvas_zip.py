"""Canvas's "Download Submissions" archive: read it safely, and tell each file's student from its name.

Canvas names each entry ``{sortablename}[_LATE]_{userid}_{attachmentid}_{original name}``:
the name lower-cased with non-word characters removed, ``anon_{id}`` in place of the user id
under anonymous grading, and ``-1``, ``-2`` before the extension of repeated file names. An entry in a
folder (the archive unzipped and zipped again) is read by its name alone; one whose path leaves the archive is not.
Only ``.py`` and ``.ipynb`` entries are extracted, each under its original name in a folder of our own
inside a temporary folder, with caps on the number and the sizes of the entries (no zip-slip, no zip bomb);
a student's entry that cannot be graded (too large, not Python) is kept as a *rejected* entry, with why.
"""

from __future__ import annotations

import re
import stat
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

from grader.errors import GraderError
from grader.source.reader import MAX_BYTES

SUFFIXES = (".py", ".ipynb")
MAX_ENTRIES = 20_000
MAX_TOTAL = 2 * 1024**3
NAME = re.compile(  # the name's letters may be any script's (müllerjürgen), and hold an underscore
    r"^(?:(?P<name>\w+?)(?P<late>_late)?_(?P<user>\d+|anon_[a-z0-9]+)"
    r"|(?P<anon>anon_[a-z0-9]+)(?P<alate>_late)?)_(?P<attachment>\d+)_(?P<original>.+)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class CanvasEntry:
    """One submitted file of the archive, extracted."""

    student: str  # the sortable name (or the anonymous id)
    user_id: str
    late: bool
    original: str  # the file name the student uploaded (Canvas's -1, -2 suffix kept)
    entry: str  # the entry's name in the archive
    path: Path  # where it was extracted (where it would have been, when rejected)
    attachment: int  # Canvas's id of the upload: the later, the larger
    problem: str = ""  # why it cannot be graded (then it was not extracted)


def parse_name(entry: str) -> dict | None:
    """The parts of a Canvas entry name, or None when it does not follow Canvas's pattern."""
    match = NAME.match(entry)
    if not match:
        return None
    parts = match.groupdict()
    user = parts["user"] or parts["anon"]
    return {
        "student": parts["name"] or user,
        "user_id": user,
        "late": bool(parts["late"] or parts["alate"]),
        "attachment": parts["attachment"],
        "original": parts["original"],
    }


def extract(archive: Path, into: Path) -> tuple[list[CanvasEntry], list[CanvasEntry], list[str]]:
    """Extract the archive's submissions into ``into``: those extracted, those of a student rejected (with
    why), and notes on the entries skipped that belong to no student."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise GraderError(f"{archive} is not a readable zip archive ({exc})") from None
    entries, rejected, notes, total = [], [], [], 0
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ENTRIES:
            raise GraderError(f"{archive} has {len(infos)} entries, more than the {MAX_ENTRIES} allowed")
        for n, info in enumerate(infos):
            name = info.filename
            if info.is_dir():
                continue
            folders, _, base = name.replace("\\", "/").rpartition("/")
            hidden = [part for part in folders.split("/") if part.startswith(".") and part != ".." or part == "__MACOSX"]
            if hidden or base.startswith("."):  # an archiver's or an editor's (.ipynb_checkpoints), not Canvas's
                notes.append(f"{name}: skipped (a hidden file or macOS's metadata, not a submitted file)")
                continue
            if stat.S_ISLNK(info.external_attr >> 16) or name.startswith(("/", "\\")) or ".." in folders.split("/"):
                notes.append(f"{name}: skipped (a link, or a path out of the archive: not a submitted file)")
                continue
            parts = parse_name(base)  # in a folder: Canvas's own zip is flat, but one unzipped and zipped again is not
            if parts is None:
                if name.lower().endswith(SUFFIXES):
                    notes.append(f"{name}: skipped (not named as Canvas names submissions)")
                continue
            suffix = ".ipynb" if name.lower().endswith(".ipynb") else ".py"
            path = into / f"{n:05d}" / (_safe(parts["original"], suffix))
            entry = CanvasEntry(parts["student"], parts["user_id"], parts["late"], parts["original"], name, path,
                                int(parts["attachment"]))
            if not name.lower().endswith(SUFFIXES):
                rejected.append(replace(entry, problem=f"{parts['original']} is not a .py or .ipynb file"))
                continue
            limit = MAX_BYTES[suffix[1:]]
            data = _read_capped(zf, info, limit)
            if data is None:
                rejected.append(replace(entry, problem=f"{parts['original']} is larger than the {limit // 2**20} MB "
                                                       "allowed once unpacked"))
                continue
            total += len(data)
            if total > MAX_TOTAL:
                raise GraderError(f"{archive} unpacks to more than {MAX_TOTAL // 2**30} GB")
            try:
                path.parent.mkdir()
                path.write_bytes(data)
            except OSError as exc:  # the grader's own disk, most likely: this entry cannot be graded, the rest can
                rejected.append(replace(entry, problem=f"{parts['original']} could not be unpacked "
                                                       f"({exc.strerror or exc.__class__.__name__})"))
                continue
            entries.append(entry)
    return entries, rejected, notes


def _safe(original: str, suffix: str) -> str:
    """A file name for an entry, as the student named it (what the grader's messages call it)."""
    stem = re.sub(r"[^\w.-]+", "_", original[: -len(suffix)] if original.lower().endswith(suffix) else original)
    stem = stem.strip("._").encode()[:120].decode(errors="ignore")  # a name holds 255 bytes, not characters
    return (stem or "submission") + suffix


def _read_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes | None:
    """The entry's bytes, or None past ``limit`` (the declared size is not trusted)."""
    if info.file_size > limit:
        return None
    with zf.open(info) as f:
        data = f.read(limit + 1)
    return None if len(data) > limit else data
