"""Writing output files atomically: a temporary file in the same folder, then a rename."""

from __future__ import annotations

import os
import re
import tempfile
import time
from pathlib import Path


def _mode_of_new_files() -> int:
    """What ``open`` gives a new file under this process's umask (mkstemp's own 0600 would hide the reports
    and the class page from a web server or the course's staff group)."""
    umask = os.umask(0o077)
    os.umask(umask)
    return 0o666 & ~umask


MODE = _mode_of_new_files()  # read once, at import: os.umask cannot be read without being set


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a reader sees the old file or the whole new one, never half.

    The file gets the mode any new file gets here (0644 under the usual umask 022)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        try:
            os.fchmod(fd, MODE)
        except (OSError, AttributeError):  # a file system without modes, or no fchmod here: mkstemp's is kept
            pass
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


LEFTOVER = re.compile(r"\.[^/]+\.(?:json|html|csv)\.[a-z0-9_]{8}\.tmp")  # as write_atomic names them
LEFTOVER_AGE_S = 60.0  # older than any write that is still going on (another run's, in the same folder)


def remove_leftovers(folder: Path) -> list[str]:
    """Remove the temporary files of writes that never finished (a process killed by SIGKILL mid-write)."""
    removed = []
    now = time.time()
    for path in Path(folder).glob(".*.tmp"):
        try:
            if (LEFTOVER.fullmatch(path.name) and path.is_file() and not path.is_symlink()
                    and now - path.stat().st_mtime > LEFTOVER_AGE_S):
                path.unlink()
                removed.append(path.name)
        except OSError:
            pass
    return removed
