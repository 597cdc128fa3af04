"""Each student's report file name in an OUTDIR (``<name>.json``, and ``<name>.html`` beside it): readable in any
script, safe in a shell, and stable from run to run: a student keeps the name of their report already there, and
never takes the name of a classmate's (a late download graded alone into the class's OUTDIR replaces no report).

Who a report is of is read from its first bytes: its student, and the LMS and id its download gave them.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from grader.report.folder import NOT_REPORTS

PEEK = 4096  # of a report, read for who it is of: its third field, and its "submission" block
MAX_BYTES = 200  # of a name: with "-99" and ".html", within the 255 bytes a file name may have
RESERVED = {"summary", "index"}


@dataclass(frozen=True)
class Owner:
    """Who a report is of: their name, and the LMS and id their download gave them (when it came from one)."""

    student: str
    lms: str | None = None
    lms_id: str | None = None

    def is_(self, other: "Owner") -> bool:
        """The same student: the same LMS id (of the same LMS; a report written before reports said which LMS
        matches either), else, neither having one, the same name."""
        if self.lms_id or other.lms_id:
            return self.lms_id == other.lms_id and (not self.lms or not other.lms or self.lms == other.lms)
        return self.student == other.student


def report_owners(folder: Path) -> dict[str, Owner]:
    """The reports already in ``folder``: each one's name (its file's stem) and who it is of."""
    owners = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        if path.name in NOT_REPORTS:
            continue
        try:
            with path.open("rb") as f:
                head = f.read(PEEK)
        except OSError:
            continue
        student = _field(head, "student")
        if student is not None:
            owners[path.stem] = Owner(student, _field(head, "lms"), _field(head, "lms_id"))
    return owners


def _field(head: bytes, name: str) -> str | None:
    """A string field of a JSON report, from its first bytes (None if not there)."""
    match = re.search(rb'"' + name.encode() + rb'":\s*"((?:[^"\\]|\\.)*)"', head)
    try:
        return json.loads(b'"' + match.group(1) + b'"') if match else None
    except ValueError:
        return None


def safe_name(student: str, taken: set[str], owners: dict[str, Owner] | None = None, me: Owner | None = None) -> str:
    """A file name for a student's report: letters of any script (with their accents and vowel signs), digits, '.',
    '_' and '-' (none of the last three first or last), at most MAX_BYTES, unique in ``taken`` (lower-cased),
    and never the name of another student's report already in the folder (``owners``: each report's name,
    lower-cased, and who it is of; ``me``: who this one is of)."""
    owners, me = owners or {}, me or Owner(student)
    kept = "".join(c if c.isalnum() or c in "._-" or unicodedata.category(c).startswith("M") else "\0"
                   for c in unicodedata.normalize("NFC", student))
    name = re.sub("\0+", "_", kept).strip("._-")
    name = name.encode()[:MAX_BYTES].decode(errors="ignore").strip("._-") or "student"
    candidate, n = name, 2
    while (candidate.lower() in taken or candidate.lower() in RESERVED
           or not owners.get(candidate.lower(), me).is_(me)):
        candidate, n = f"{name}-{n}", n + 1
    taken.add(candidate.lower())
    return candidate


def report_names(students: list[Owner], reports: dict[str, Owner]) -> list[str]:
    """A report name for each student (see ``safe_name``), given the reports already in the folder (``reports``,
    by name): the name of their own report there when there is one."""
    owners = {name.lower(): owner for name, owner in reports.items()}
    taken: set[str] = set()
    names = []
    for me in students:
        kept = next((name for name, owner in sorted(reports.items())  # theirs, under the name they still have
                     if owner.is_(me) and _plain(owner.student) == _plain(me.student) and name.lower() not in taken),
                    None)
        if kept is not None:
            taken.add(kept.lower())
            names.append(kept)
        else:
            names.append(safe_name(me.student, taken, owners, me))
    return names


def _plain(student: str) -> str:
    """A student's name without the ``(id)`` that tells two students of one name apart in one batch."""
    return re.sub(r" \(\d+\)$", "", student)
