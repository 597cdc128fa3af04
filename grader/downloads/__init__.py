"""What an LMS gives an instructor to download: the class's submissions, zipped or unzipped, each file's
student told from its name. Canvas's (:mod:`.canvas`) and Moodle's (:mod:`.moodle`) are read; both through
:mod:`.unpacking`, safely (caps on sizes, nothing written outside a temporary folder)."""

from __future__ import annotations

import zipfile
from pathlib import Path

from grader.downloads.canvas import CANVAS
from grader.downloads.moodle import MOODLE
from grader.downloads.unpacking import Entry, Naming, named_at_top, read_archive, read_folder

NAMINGS = (CANVAS, MOODLE)
MAX_NAMES_READ = 2000  # names of a zip's entries read to tell whose download it is


def recognise(path: Path) -> tuple[Naming, int, int]:
    """The LMS whose names the most of a folder's top (or of a zip's entries) carry, how many carry them, and how
    many files do not. A zip of no LMS's is taken for Canvas's (whose names the notes then say it lacks)."""
    if path.is_dir():
        counts = [(naming, *named_at_top(path, naming)) for naming in NAMINGS]
    else:
        try:
            with zipfile.ZipFile(path) as zf:
                names = [info.filename.replace("\\", "/") for info in zf.infolist()[:MAX_NAMES_READ]]
        except (zipfile.BadZipFile, OSError, ValueError):  # said when it is read
            names = []
        counts = [(naming, sum(naming.named(name) for name in names), 0) for naming in NAMINGS]
    return max(counts, key=lambda count: count[1])  # the first of equals: Canvas


def read_download(path: Path, into: Path, naming: Naming) -> tuple[list[Entry], list[Entry], list[str]]:
    """The entries of a download (a zip, extracted into ``into``, or a folder: the zip unzipped), those extracted
    or found, those rejected, and notes on the files that belong to no student."""
    return (read_archive if path.is_file() else read_folder)(path, into, naming)


__all__ = ["Entry", "Naming", "NAMINGS", "read_download", "recognise"]
