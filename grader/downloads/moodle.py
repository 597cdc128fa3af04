"""Moodle's "Download all submissions" archive: each file's student told from its folder's name (or its own).

Moodle puts each student's files in a folder ``{full name}_{participant id}_assignsubmission_file``
(Moodle 3.x adds a trailing ``_``), the files as the student laid them out; with "download submissions
in folders" off (and before Moodle 3.1), each file is named
``{full name}_{participant id}_assignsubmission_file_{file name}``.
The full name has its underscores made spaces; under blind marking it is ``Participant``; a team's files go under
``{group name}_{group id}`` (``Default group`` without an id). The participant id is the one Moodle's grading
worksheet calls ``Participant {id}``. Other submission plugins (``assignsubmission_onlinetext``) are the
student's too: a file of theirs that is not Python. A Moodle download says nothing of lateness.
"""

from __future__ import annotations

import re

from grader.downloads.unpacking import Naming

NAME = re.compile(r"^(?P<name>.+?)(?:_(?P<id>\d+))?_assignsubmission_(?P<plugin>[a-z0-9]+)(?:_(?P<rest>.*))?$",
                  re.DOTALL)


def parse_name(path: str) -> dict | None:
    """An entry's fields, from the first part of its path that carries Moodle's name: a student's folder (the
    path below it is the file's place there) or, flat, the file itself; None when no part does."""
    parts = path.split("/")
    for depth, part in enumerate(parts):
        match = NAME.match(part)
        if match is None:
            continue
        below = "/".join(parts[depth + 1:])
        flat = depth == len(parts) - 1
        if flat and not match["rest"] or not flat and match["rest"]:  # a file named as a folder is, or the reverse
            return None
        original = match["rest"] if flat else below.rstrip("/").rpartition("/")[2] or part + "/"
        return {"student": match["name"], "user_id": match["id"] or match["name"], "late": None,
                "original": original, "inside": "" if flat else below.rstrip("/")}
    return None


def not_python(entry) -> str:
    """Why a student's entry that is not Python cannot be graded: what they typed in Moodle's online text box
    (``onlinetext.html``) is said to be that."""
    if "_assignsubmission_onlinetext" in entry.entry:
        return f"{entry.original} is the text typed in Moodle's online text box, not an uploaded .py or .ipynb file"
    return f"{entry.original} is not a .py or .ipynb file"


MOODLE = Naming("Moodle", parse_name, not_python)
