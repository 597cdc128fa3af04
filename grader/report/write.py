"""Writing output files atomically: a temporary file in the same folder, then a rename."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a reader sees the old file or the whole new one, never half."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def remove_leftovers(folder: Path) -> list[str]:
    """Remove the temporary files of writes that never finished (a process killed by SIGKILL mid-write)."""
    removed = []
    for path in Path(folder).glob(".*.tmp"):
        if path.is_file() and not path.is_symlink() and path.name.count(".") >= 3:  # .<name>.<random>.tmp
            try:
                path.unlink()
                removed.append(path.name)
            except OSError:
                pass
    return removed
