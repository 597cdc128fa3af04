"""An LMS's download of a class's submissions, read safely: each student's files as entries, with caps.

The naming of the entries is the LMS's (:mod:`grader.downloads.canvas`, :mod:`grader.downloads.moodle`):
a :class:`Naming` tells an entry's student from its path in the download. Only ``.py`` and ``.ipynb``
entries are extracted, each under its original name in a folder of our own inside a temporary folder,
with caps on the number and the sizes of the entries (no zip-slip, no zip bomb); a student's entry that
cannot be graded (too large, not Python) is kept as a *rejected* entry, with why. A student's upload
that is itself a zip is opened in memory, one level deep and under the same caps: its ``.py`` and
``.ipynb`` files are that student's entries, named ``{entry}/{path in the zip}``. The same download
unzipped (as a browser may do by itself) is read by :func:`read_folder` as :func:`read_archive` reads
the archive, the students' files used where they lie. Each upload has caps of its own (files, bytes):
one student's upload that passes them is that student's problem, not the batch's.
"""

from __future__ import annotations

import io
import re
import stat
import time
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from grader.errors import GraderError
from grader.source.reader import MAX_BYTES, peek
from grader.wording import some

SUFFIXES = (".py", ".ipynb")
MAX_ENTRIES = 20_000
MAX_TOTAL = 2 * 1024**3
MAX_INNER_ZIP = 64 * 1024**2  # bytes of a student's own zip, read into memory to be opened
MAX_UPLOAD_FILES = 1000  # files in a student's own zip (or folder)
MAX_UPLOAD_BYTES = 64 * 1024**2  # bytes of .py and .ipynb files unpacked from one student's zip


@dataclass(frozen=True)
class Entry:
    """One submitted file of a download, extracted (or where it lies, in a folder)."""

    student: str  # as the LMS names them: Canvas's sortable name (or anonymous id), Moodle's full name
    user_id: str  # the LMS's id of the student: one student's entries share it
    late: bool | None  # whether the LMS flagged it late (None: its names do not say)
    original: str  # the file name the student uploaded (Canvas's -1, -2 suffix kept)
    entry: str  # the entry's name in the archive
    path: Path  # where it was extracted (where it would have been, when rejected)
    attachment: int = 0  # Canvas's id of the upload: the later, the larger (0 where the LMS has none)
    problem: str = ""  # why it cannot be graded (then it was not extracted)
    modified: tuple = ()  # in a zip, the file's date there (the later of two, the newer)
    inside: str = ""  # the file's path in the student's own zip or folder ("" at its top)
    origin: Path = Path()  # the download it came from: the archive, or the folder
    lms: str = ""  # whose download: "canvas", "moodle"

    @property
    def shown(self) -> str:
        """What the report calls it: ``archive.zip:entry``, or ``folder/entry``."""
        joint = ":" if self.origin.suffix.lower() == ".zip" else "/"
        return f"{self.origin.name}{joint}{self.entry}"


@dataclass(frozen=True)
class Naming:
    """How an LMS names the entries of its download."""

    lms: str  # "Canvas", "Moodle"
    parse: Callable[[str], "dict | None"]  # an entry's path in the download (a folder's ends with "/") -> the
    # fields of its Entry that the name tells (student, user_id, late, original, and attachment, inside if any),
    # or None for an entry of no student

    not_python: Callable[["Entry"], str] = lambda entry: f"{entry.original} is not a .py or .ipynb file"  # why an
    # entry of a student that is not Python cannot be graded, in their terms

    def named(self, path: str) -> bool:
        return self.parse(path) is not None


def read_archive(archive: Path, into: Path, naming: Naming) -> tuple[list[Entry], list[Entry], list[str]]:
    """Extract the archive's submissions into ``into``: those extracted, those of a student rejected (with
    why), and notes on the entries skipped that belong to no student."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:  # ValueError: names said UTF-8 that are not
        raise GraderError(f"{archive} is not a readable zip archive ({exc})") from None
    unpacking = _Unpacking(archive, into, naming)
    hidden: list[str] = []
    unaccounted: dict[str, Entry] = {}  # by student: a folder of theirs, or a file not unpacked, with why
    with zf:
        infos = zf.infolist()
        unpacking.count(len(infos))
        for info in infos:
            name = utf8_name(info)
            path = name.replace("\\", "/")
            skipped = _not_submitted(info)
            if info.is_dir() or skipped:  # no file to grade, but a student's all the same (Moodle's folders)
                owner = None if path.startswith("__MACOSX/") else unpacking.entry(path, quiet=True)
                if owner is not None and not (info.is_dir() and skipped):
                    why = (f"{owner.original} was not unpacked ({skipped})" if skipped else
                           f"{owner.original.rstrip('/')} holds no .py or .ipynb file (it is empty)")
                    unaccounted.setdefault(owner.user_id, replace(owner, problem=why))
                if skipped == HIDDEN:  # said in one line: a zip made on a Mac holds one for every file
                    hidden += [] if info.is_dir() else [name]
                elif skipped:
                    unpacking.notes.append(f"{name}: skipped ({skipped})")
                continue
            entry = unpacking.entry(path)
            if entry is None:
                continue
            entry = replace(entry, modified=info.date_time)
            if name.lower().endswith(".zip"):
                unpacking.open_inner(lambda limit, info=info: _read_capped(zf, info, limit), entry)
            else:
                unpacking.add(lambda limit, info=info: _read_capped(zf, info, limit), entry)
    found = {entry.user_id for entry in unpacking.entries + unpacking.rejected}
    unpacking.rejected += [entry for user, entry in unaccounted.items() if user not in found]  # none dropped
    if hidden:
        more = f", and {len(hidden) - 1} more like it" if len(hidden) > 1 else ""
        unpacking.notes.append(f"{hidden[0]}: skipped ({HIDDEN}){more}")
    return unpacking.entries, unpacking.rejected, unpacking.notes


def named_at_top(folder: Path, naming: Naming) -> tuple[int, int]:
    """How many of the files (and folders) at the top of ``folder`` carry the LMS's names, and how many files do
    not: a download unzipped when the first are more (its other folders, an OUTDIR say, do not count)."""
    named = others = 0
    for path in top(folder):
        folder_of_files = _is_folder(path)
        if naming.named(path.name + ("/" if folder_of_files else "")):
            named += 1
        elif not folder_of_files:
            others += 1
    return named, others


def read_folder(folder: Path, into: Path, naming: Naming) -> tuple[list[Entry], list[Entry], list[str]]:
    """A download unzipped: its students' entries (the files themselves, where they lie), those rejected, and
    notes on the files that belong to no student. A student's own zip is opened as in ``read_archive``; a
    folder with the LMS's name (a student's folder, or their zip unzipped too) is read as theirs."""
    unpacking = _Unpacking(folder, into, naming)
    for path in top(folder):
        unpacking.count(1)
        if _is_folder(path):
            entry = unpacking.entry(path.name + "/")
            if entry is not None:
                unpacking.open_folder(path, entry)
            elif _holds_python(path):  # a folder of no student's (an OUTDIR holds none): said, as in a zip
                unpacking.notes.append(f"{path.name}/: skipped (not named as {naming.lms} names submissions)")
            continue
        entry = unpacking.entry(path.name)
        if entry is None:
            continue
        if path.is_symlink() or not path.is_file():  # the student's all the same: in the gradebook, saying why
            why = "a link, not a file" if path.is_symlink() else "not a regular file"
            unpacking.rejected.append(replace(entry, problem=f"{entry.original} is {why}"))
        elif path.name.lower().endswith(".zip"):
            unpacking.open_inner(lambda limit, path=path: _read_file(path, limit), entry)
        elif path.name.lower().endswith(SUFFIXES):
            unpacking.entries.append(replace(entry, path=path, modified=_date(path)))  # read where it lies
        else:
            unpacking.rejected.append(replace(entry, problem=naming.not_python(entry)))
    return unpacking.entries, unpacking.rejected, unpacking.notes


def read_student_folder(folder: Path, into: Path, student: str, user: str) -> list[Entry]:
    """A student's own folder (not an LMS's download) whose Python is in a zip: the files of the zips in it,
    extracted into ``into``, as that student's entries (``user``: who they are, for this batch alone), those
    rejected included."""
    naming = Naming("", lambda path: {"student": student, "user_id": user, "late": None,
                                      "original": path.rstrip("/").rpartition("/")[2]})
    unpacking = _Unpacking(folder.parent, into, naming)
    unpacking.open_folder(folder, unpacking.entry(folder.name + "/"))
    return unpacking.entries + unpacking.rejected


def has_zip(folder: Path, look: int = MAX_UPLOAD_FILES) -> bool:
    """Whether a .zip lies in ``folder`` (among the first ``look`` things in it)."""
    return _holds(folder, (".zip",), look)


def _holds_python(folder: Path, look: int = MAX_UPLOAD_FILES) -> bool:
    """Whether a .py or .ipynb file lies in ``folder`` (among the first ``look`` things in it)."""
    return _holds(folder, SUFFIXES, look)


def _holds(folder: Path, suffixes: tuple[str, ...], look: int) -> bool:
    """Whether a file ending with one of ``suffixes`` lies in ``folder`` (among its first ``look`` things)."""
    for number, path in enumerate(folder.rglob("*")):
        if number >= look:
            return False
        if path.name.lower().endswith(suffixes) and not any(_hidden(part) for part in path.relative_to(folder).parts):
            return True
    return False


def top(folder: Path) -> list[Path]:
    """What lies at the top of ``folder``, but for hidden files and macOS's metadata; sorted."""
    try:
        return sorted(p for p in folder.iterdir() if not _hidden(p.name))
    except OSError:
        return []


def _hidden(name: str) -> bool:
    """A hidden file or folder (an editor's .ipynb_checkpoints, macOS's .DS_Store), or macOS's metadata folder."""
    return name.startswith(".") or name == "__MACOSX"


def _is_folder(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def _read_file(path: Path, limit: int) -> bytes | None:
    """A file's bytes (no link followed, no FIFO waited on), None past ``limit``."""
    data = peek(path, limit + 1)
    return None if len(data) > limit else data


def _date(path: Path) -> tuple:
    """A file's date as a zip gives its entries' (year, month, day, hour, minute, second); () if it has none."""
    try:
        return time.localtime(path.lstat().st_mtime)[:6]
    except OSError:
        return ()


def utf8_name(info: zipfile.ZipInfo) -> str:
    """The entry's name; a name zipped in UTF-8 without saying so (read as cp437 by zipfile) read as UTF-8."""
    name = info.filename
    if info.flag_bits & 0x800:
        return name
    try:
        return name.encode("cp437").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return name


HIDDEN = "a hidden file or macOS's metadata, not a submitted file"


def _not_submitted(info: zipfile.ZipInfo) -> str:
    """Why a file of an archive is no submitted file (a hidden file, a link, a path out of the archive), or ""."""
    name = info.filename
    folders, _, base = name.replace("\\", "/").rstrip("/").rpartition("/")
    hidden = [part for part in folders.split("/") if _hidden(part) and part != ".."]
    if hidden or _hidden(base):  # an archiver's or an editor's (.ipynb_checkpoints), not the LMS's
        return HIDDEN
    if stat.S_ISLNK(info.external_attr >> 16) or name.startswith(("/", "\\")) or ".." in folders.split("/"):
        return "a link, or a path out of the archive: not a submitted file"
    return ""


class _Unpacking:
    """The entries of one archive as they are read, and the caps on what it unpacks to."""

    def __init__(self, archive: Path, into: Path, naming: Naming) -> None:
        self.archive, self.into, self.naming = archive, into, naming  # archive: or the folder of a download unzipped
        self.entries: list[Entry] = []
        self.rejected: list[Entry] = []
        self.notes: list[str] = []
        self.files = self.total = 0

    def count(self, entries: int) -> None:
        self.files += entries
        if self.files > MAX_ENTRIES:
            raise GraderError(f"{self.archive} has {self.files} entries, more than the {MAX_ENTRIES} allowed")

    def entry(self, name: str, quiet: bool = False) -> Entry | None:
        """The entry of a file (or, ending with "/", a folder) called ``name`` here; None, with a note when it is
        Python (unless ``quiet``), when its name is not the LMS's. Names are compared in Unicode's composed form
        (macOS writes é as e and an accent)."""
        name = unicodedata.normalize("NFC", name)
        parts = self.naming.parse(name)
        if parts is None:
            if name.lower().endswith(SUFFIXES) and not quiet:
                self.notes.append(f"{name}: skipped (not named as {self.naming.lms} names submissions)")
            return None
        return Entry(entry=name, path=self.place(parts["original"]), origin=self.archive, lms=self.naming.lms.lower(),
                     **parts)

    def place(self, original: str) -> Path:
        """A new folder's file, named as the student named theirs."""
        suffix = ".ipynb" if original.lower().endswith(".ipynb") else ".py"
        return self.into / f"{len(self.entries) + len(self.rejected):05d}" / _safe(original, suffix)

    def add(self, read, entry: Entry) -> int:
        """Extract one student's file (``read(limit)``: its bytes, None past ``limit``), or reject it (not Python,
        too large, not writable); the bytes it unpacked to."""
        if not entry.original.lower().endswith(SUFFIXES):
            self.rejected.append(replace(entry, problem=self.naming.not_python(entry)))
            return 0
        limit = MAX_BYTES[entry.path.suffix[1:]]
        try:
            data = read(limit)
        except _Unreadable as why:
            self.rejected.append(replace(entry, problem=f"{entry.original} could not be unpacked: {why}"))
            return 0
        if data is None:
            self.rejected.append(replace(entry, problem=f"{entry.original} is larger than the {limit // 2**20} MB "
                                                        "allowed once unpacked"))
            return limit
        self.total += len(data)
        if self.total > MAX_TOTAL:
            raise GraderError(f"{self.archive} unpacks to more than {MAX_TOTAL // 2**30} GB")
        try:
            entry.path.parent.mkdir()
            entry.path.write_bytes(data)
        except OSError as exc:  # the grader's own disk, most likely: this entry cannot be graded, the rest can
            self.rejected.append(replace(entry, problem=f"{entry.original} could not be unpacked "
                                                        f"({exc.strerror or exc.__class__.__name__})"))
            return len(data)
        self.entries.append(entry)
        return len(data)

    def open_inner(self, read, upload: Entry) -> None:
        """A student's own zip (``read(limit)``: its bytes): its .py and .ipynb files are that student's entries
        (a zip in it is not opened)."""
        try:
            data = read(MAX_INNER_ZIP)
        except _Unreadable as why:
            self.rejected.append(replace(upload, problem=f"{upload.original} could not be unpacked: {why}"))
            return
        if data is None:
            self.rejected.append(replace(upload, problem=f"{upload.original} is larger than the "
                                                         f"{MAX_INNER_ZIP // 2**20} MB allowed for a zip"))
            return
        try:
            inner = zipfile.ZipFile(io.BytesIO(data))
            infos = inner.infolist()
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            self.rejected.append(replace(upload, problem=f"{upload.original} is not a readable zip archive ({exc})"))
            return
        with inner:
            members = [(utf8_name(m).replace("\\", "/"), m) for m in infos if not m.is_dir() and not _not_submitted(m)]
            self.add_upload(upload, [(path, m.date_time, lambda limit, m=m: _read_capped(inner, m, limit))
                                     for path, m in members])

    def open_folder(self, folder: Path, upload: Entry) -> None:
        """A student's folder (or their zip unzipped, a folder with Canvas's name): its .py and .ipynb files, where
        they lie, and those of a zip in it."""
        files, hidden = [], []
        for path in folder.rglob("*"):  # walked lazily: a folder of a million files costs a thousand
            relative = path.relative_to(folder)
            if _is_folder(path):
                continue
            if any(_hidden(part) for part in relative.parts):
                hidden.append(relative.as_posix())
                continue
            files.append((relative.as_posix(), path))
            if len(files) > MAX_UPLOAD_FILES:
                break
        if not files and hidden:  # as its zip says it: not "empty"
            self.rejected.append(replace(upload, problem=f"{upload.original.rstrip('/')} holds only hidden files "
                                                         f"({some(sorted(hidden))}), which are not graded"))
            return
        self.add_upload(upload, [(name, _date(path), path) for name, path in sorted(files)])

    def add_upload(self, upload: Entry, members: list[tuple[str, tuple, object]]) -> None:
        """The files of one student's upload (a zip, or a folder): (path in it, date, ``read(limit)`` or the file
        itself). Its .py and .ipynb files are that student's entries, within the upload's own caps."""
        if len(members) > MAX_UPLOAD_FILES:
            self.rejected.append(replace(upload, problem=f"{upload.original} holds more than {MAX_UPLOAD_FILES} "
                                                         "files, more than a submission may"))
            return
        found, others, budget = 0, [], MAX_UPLOAD_BYTES
        for path, date, source in members:
            original = path.rpartition("/")[2]
            entry = replace(upload, original=original, entry=f"{upload.entry.rstrip('/')}/{path}",
                            path=self.place(original), modified=date, inside=path)
            if isinstance(source, Path) and path.lower().endswith(".zip"):  # a zip in a student's folder: opened
                found += 1  # (one in a zip is not: one level deep)
                self.open_inner(lambda limit, source=source: _read_file(source, limit), entry)
                continue
            if not path.lower().endswith(SUFFIXES):
                others.append(path)
                continue
            found += 1
            if isinstance(source, Path):  # in a folder: read where it lies, with the reader's own caps
                if source.is_symlink():
                    self.rejected.append(replace(entry, problem=f"{original} is a link, not a file"))
                else:
                    self.entries.append(replace(entry, path=source))
                continue
            if budget <= 0:
                self.rejected.append(replace(entry, problem=f"{original} was not unpacked: {upload.original} unpacks "
                                                            f"to more than the {MAX_UPLOAD_BYTES // 2**20} MB a "
                                                            "submission may"))
                continue
            budget -= self.add(source, entry)
        if not found:
            self.rejected.append(replace(upload, problem=f"{upload.original.rstrip('/')} holds no .py or .ipynb file"
                                                         + (f" (only {some(others)})" if others else " (it is empty)")))


def _safe(original: str, suffix: str) -> str:
    """A file name for an entry, as the student named it (what the grader's messages call it)."""
    stem = re.sub(r"[^\w.-]+", "_", original[: -len(suffix)] if original.lower().endswith(suffix) else original)
    stem = stem.strip("._").encode()[:120].decode(errors="ignore")  # a name holds 255 bytes, not characters
    return (stem or "submission") + suffix


class _Unreadable(Exception):
    """An entry whose bytes cannot be read: the words for the student's report."""


def _read_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes | None:
    """The entry's bytes, or None past ``limit`` (the declared size is not trusted); _Unreadable when the entry
    is damaged, encrypted, or compressed in a way this Python cannot undo."""
    if info.file_size > limit:
        return None
    try:
        with zf.open(info) as f:
            data = f.read(limit + 1)
    except RuntimeError as exc:  # zipfile's word for a password-protected entry
        raise _Unreadable("it is protected by a password" if "encrypted" in str(exc) else f"({exc})") from None
    except NotImplementedError:
        raise _Unreadable(f"it is compressed in a way that cannot be read here (method {info.compress_type})") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        raise _Unreadable(f"it is damaged ({exc.__class__.__name__}: {str(exc)[:100]})") from None
    return None if len(data) > limit else data
