"""Canvas's "Download Submissions" archive: each file's student told from its name.

Canvas names each entry ``{sortablename}[_LATE]_{userid}_{attachmentid}_{original name}``:
the name lower-cased with non-word characters removed, ``anon_{id}`` in place of the user id
under anonymous grading, and ``-1``, ``-2`` before the extension of repeated file names. An entry in a
folder (the archive unzipped and zipped again) is read by its name alone; one whose path leaves the archive
is not. A folder with Canvas's name in the download unzipped is a student's zip that the browser unzipped too.
"""

from __future__ import annotations

import re

from grader.downloads.unpacking import Naming

NAME = re.compile(  # the name's letters may be any script's (müllerjürgen), and hold an underscore
    r"^(?:(?P<name>\w+?)(?P<late>_late)?_(?P<user>\d+|anon_[a-z0-9]+)"
    r"|(?P<anon>anon_[a-z0-9]+)(?P<alate>_late)?)_(?P<attachment>\d+)_(?P<original>.+)$",
    re.IGNORECASE,
)


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


def _entry_fields(path: str) -> dict | None:
    """An entry's fields, from the name of the file (or folder) itself, whatever folders hold it."""
    parts = parse_name(path.rstrip("/").rpartition("/")[2])
    return None if parts is None else {**parts, "attachment": int(parts["attachment"])}


CANVAS = Naming("Canvas", _entry_fields)
