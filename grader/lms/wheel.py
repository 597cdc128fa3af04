"""Pack the installed grader as a wheel (PEP 427), so that an autograder image installs it without building.

The wheel holds the package's ``.py`` files and its data (``exercises/data/*.json``, the HTML pages' templates), never
caches, and the metadata of the installed distribution (its dependencies, its console script).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import zipfile
from pathlib import Path

import grader
from grader.errors import GraderError

PACKAGE_SUFFIXES = {".py", ".json", ".html", ".css", ".js"}  # the code, the public answers, the pages' templates
WHEEL_FILE = "Wheel-Version: 1.0\nGenerator: grader\nRoot-Is-Purelib: true\nTag: py3-none-any\n"


def package_files() -> list[tuple[str, Path]]:
    """(name in the wheel, file) of every file of the grader package, in a stable order."""
    root = Path(grader.__file__).resolve().parent
    files = []
    for path in sorted(root.rglob("*")):
        parts = path.relative_to(root).parts
        if path.is_file() and path.suffix in PACKAGE_SUFFIXES and not any(p == "__pycache__" or p.startswith(".") for p in parts):
            files.append(("grader/" + "/".join(parts), path))
    return files


def wheel_name() -> str:
    """'grader-0.1.0-py3-none-any.whl' for the installed version."""
    return f"grader-{grader.__version__}-py3-none-any.whl"


def write_wheel(folder: Path) -> Path:
    """Write the wheel of the installed grader into ``folder``; return its path."""
    try:
        dist = importlib.metadata.distribution("grader")
    except importlib.metadata.PackageNotFoundError:
        raise GraderError("the grader is not installed (pip install it first): its metadata is needed") from None
    if dist.version != grader.__version__:
        raise GraderError(f"the grader's installed metadata says version {dist.version}, its code {grader.__version__}: "
                          "reinstall it (pip install -e .)")
    metadata = dist.read_text("METADATA") or dist.read_text("PKG-INFO")
    if not metadata:
        raise GraderError("the installed grader has no metadata to put in the wheel")
    info = f"grader-{grader.__version__}.dist-info"
    members: list[tuple[str, bytes]] = [(name, path.read_bytes()) for name, path in package_files()]
    members += [(f"{info}/METADATA", metadata.encode("utf-8")), (f"{info}/WHEEL", WHEEL_FILE.encode()),
                (f"{info}/entry_points.txt", (dist.read_text("entry_points.txt") or "").encode("utf-8")),
                (f"{info}/top_level.txt", b"grader\n")]
    record = "".join(f"{name},sha256={_digest(data)},{len(data)}\n" for name, data in members) + f"{info}/RECORD,,\n"
    members.append((f"{info}/RECORD", record.encode()))
    path = Path(folder) / wheel_name()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(zip_entry(name, 0o644), data)
    return path


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def zip_entry(name: str, mode: int) -> zipfile.ZipInfo:
    """A zip entry for a regular file with Unix permissions ``mode`` and a fixed date (reproducible zips)."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.create_system = 3  # Unix: unzip and Gradescope read the permission bits
    info.external_attr = (0o100000 | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info
