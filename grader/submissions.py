"""Find the submissions in what an instructor passes: files, folders of files, folders of per-student folders."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

SUFFIXES = {".py", ".ipynb"}
SKIPPED_DIRS = {".ipynb_checkpoints", "__pycache__", ".git"}


@dataclass
class Submission:
    """One student's file to grade, and what else was found for them."""

    student: str
    path: Path
    ignored: list[Path] = field(default_factory=list)

    @property
    def note(self) -> str:
        """What the report says about the choice, when there was one."""
        if not self.ignored:
            return ""
        others = ", ".join(p.name for p in self.ignored)
        return f"{len(self.ignored) + 1} files were found for this student; graded {self.path.name}, ignored {others}"


def collect(paths: list[Path], assignment: str | None) -> list[Submission]:
    """Every submission under ``paths``, one per student, in a stable order.

    A file is a submission (its stem is the student id); a folder holds submission
    files and/or per-student folders (the folder's name is the student id; its files
    are searched at any depth, as in nbgrader's ``submitted/<student>/<assignment>/``).
    When a student has several files, the one named after the assignment wins, then
    the newest notebook, then the newest ``.py``; the others are listed in the report.
    """
    found: dict[str, list[Path]] = {}
    for path in paths:
        path = Path(path)
        if path.is_dir() and not path.is_symlink():
            for entry in sorted(path.iterdir()):
                if entry.is_dir() and not entry.is_symlink():
                    if entry.name not in SKIPPED_DIRS:
                        found.setdefault(entry.name, []).extend(_files_under(entry))
                elif entry.suffix.lower() in SUFFIXES:
                    found.setdefault(entry.stem, []).append(entry)
        else:
            found.setdefault(path.stem, []).append(path)
    out = []
    for student in sorted(found):
        files = found[student]
        if not files:
            continue
        chosen = choose(files, assignment)
        out.append(Submission(student, chosen, [f for f in files if f != chosen]))
    return out


def _files_under(folder: Path) -> list[Path]:
    files = []
    for p in sorted(folder.rglob("*")):
        if any(part in SKIPPED_DIRS for part in p.relative_to(folder).parts):
            continue
        if p.suffix.lower() in SUFFIXES and (p.is_file() or p.is_symlink()):
            files.append(p)
    return files


def choose(files: list[Path], assignment: str | None) -> Path:
    """The file to grade among one student's files (see ``collect``)."""
    if len(files) == 1:
        return files[0]
    if assignment:
        named = [f for f in files if f.stem == assignment]
        if named:
            return sorted(named, key=lambda f: f.suffix != ".ipynb")[0]
    for suffix in (".ipynb", ".py"):
        same = [f for f in files if f.suffix.lower() == suffix]
        if same:
            return max(same, key=_mtime)
    return files[0]


def _mtime(path: Path) -> tuple[float, str]:
    try:
        return (path.lstat().st_mtime, path.name)
    except OSError:
        return (0.0, path.name)


def safe_name(student: str, taken: set[str]) -> str:
    """A file name for a student's report: letters, digits, '.', '_' and '-' only, unique in ``taken``."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", student).strip("._") or "student"
    name = name[:100]
    candidate, n = name, 2
    while candidate.lower() in taken or candidate.lower() in {"summary", "index"}:
        candidate, n = f"{name}-{n}", n + 1
    taken.add(candidate.lower())
    return candidate
