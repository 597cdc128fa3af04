"""The fingerprint of the grader's own code: a report written by other code (another check, hint or bug fix,
with the same version number) is graded again on a rerun, not reused."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


@lru_cache(maxsize=1)
def code_sha256() -> str:
    """The fingerprint of this grader's package, read once per process (about 1 MB, a few milliseconds)."""
    return folder_sha256(PACKAGE)


def folder_sha256(folder: Path) -> str:
    """SHA-256 of every file under ``folder`` (code, templates, public data), their names included;
    Python's compiled caches left out."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
