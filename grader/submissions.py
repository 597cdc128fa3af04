"""Find the submissions in what an instructor passes: files, folders of files, folders of per-student folders."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

SUFFIXES = {".py", ".ipynb"}
SKIPPED_DIRS = {".ipynb_checkpoints", "__pycache__", ".git"}


@dataclass
class Submission:
    """One student's file to grade, and what else was found for them."""

    student: str
    path: Path
    ignored: list[str] = field(default_factory=list)  # names of the student's other files
    display: str = ""  # what the report calls the file (an archive entry, say); its path when empty
    lms_id: str | None = None  # the LMS's id of the student (Canvas's user id, from the archive)
    late: bool | None = None
    problem: str = ""  # why nothing of the student's can be graded (then ``path`` is no file to read)

    @property
    def name(self) -> str:
        return self.display.rsplit(":", 1)[-1] if self.display else self.path.name

    @property
    def note(self) -> str:
        """What the report says about the choice, when there was one."""
        if not self.ignored:
            return ""
        return f"{len(self.ignored) + 1} files were found for this student; graded {self.name}, ignored {', '.join(self.ignored)}"


def collect(paths: list[Path], assignment: str | None, scratch: Path | None = None,
            warn: Callable[[str], None] = lambda message: None) -> list[Submission]:
    """Every submission under ``paths``, one per student, in a stable order.

    A file is a submission (its stem is the student id); a folder holds submission
    files and/or per-student folders (the folder's name is the student id; its files
    are searched at any depth, or only in its ``<assignment>/`` folder when it has one).
    A folder named ``submitted`` is read as nbgrader's ``submitted/<student>/<assignment>/``:
    only that assignment's folder counts; a folder holding ``submitted/`` (nbgrader's course
    root) is read as that ``submitted/``.
    Each PATH is its own namespace: the same id under two PATHs is two students.
    When a student has several files, the one named after the assignment wins, then
    the newest notebook, then the newest ``.py``; the others are listed in the report.
    A student's folder with nothing to grade is a submission too, whose ``problem`` says why:
    no student drops out of the gradebook unnoticed.
    A ``.zip`` is read as Canvas's "Download Submissions" archive (see ``canvas_zip``),
    extracted into ``scratch``; ``warn`` is told of the entries that belong to no student.
    """
    found: dict[tuple[str, int], list[Path]] = {}  # (student, which PATH): each PATH its own namespace
    empty: dict[tuple[str, int], tuple[Path, str]] = {}  # a student's folder with nothing to grade: why
    archived: list[Submission] = []
    for number, path in enumerate(paths):
        path = Path(path)
        if path.suffix.lower() == ".zip" and path.is_file():
            if scratch is None:
                raise ValueError("a folder to extract archives into is needed")
            folder = scratch / f"archive-{number}"
            folder.mkdir(parents=True)
            archived += _from_canvas(path, folder, assignment, warn)
        elif path.is_dir() and not path.is_symlink():
            if path.name != "submitted" and _is_folder(path / "submitted"):  # nbgrader's course root
                path = path / "submitted"
            for entry in sorted(path.iterdir()):
                if _is_folder(entry):
                    if entry.name not in SKIPPED_DIRS:
                        files, why = _student_files(entry, assignment, nbgrader=path.name == "submitted")
                        found.setdefault((entry.name, number), []).extend(files)
                        if why:
                            empty[(entry.name, number)] = (entry, why)
                elif entry.suffix.lower() in SUFFIXES:
                    found.setdefault((entry.stem, number), []).append(entry)
        else:
            found.setdefault((path.stem, number), []).append(path)
    out = []
    for student, number in sorted(found):
        files = found[(student, number)]
        if not files:
            folder, why = empty[(student, number)]
            out.append(Submission(student, folder, display=f"{folder}/", problem=why))
            continue
        chosen = choose(files, assignment)
        out.append(Submission(student, chosen, [f.name for f in files if f != chosen]))
    return out + archived


def _is_folder(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def _student_files(folder: Path, assignment: str | None, nbgrader: bool) -> tuple[list[Path], str]:
    """The files to choose from in a student's folder, and why there are none (when there are none)."""
    if assignment and _is_folder(folder / assignment):
        folder = folder / assignment
    elif nbgrader and assignment:
        others = sorted(p.name + "/" for p in folder.iterdir() if _is_folder(p))
        return [], (f"nothing submitted for {assignment}: {folder.name}/ has no {assignment}/ folder"
                    + (f" (only {', '.join(others[:5])})" if others else ""))
    files = _files_under(folder)
    if files:
        return files, ""
    others = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() or p.is_symlink())
    if not others:
        return [], f"nothing to grade: the folder {folder.name}/ is empty"
    return [], (f"nothing to grade: no .py or .ipynb file in {folder.name}/ (found {', '.join(others[:5])}"
                + (f" and {len(others) - 5} more" if len(others) > 5 else "") + ")")


def _from_canvas(archive: Path, folder: Path, assignment: str | None, warn: Callable[[str], None]) -> list[Submission]:
    """One submission per Canvas user in the archive (the rule of ``choose`` applied to original names).

    A user none of whose entries can be graded (too large, not Python) gets a submission whose ``problem`` says so.
    """
    from grader.canvas_zip import extract

    entries, rejected, notes = extract(archive, folder)
    for note in notes:
        warn(f"{archive.name}: {note}")
    by_user: dict[str, list] = {}
    for entry in entries + rejected:
        by_user.setdefault(entry.user_id, []).append(entry)
    names = [e[0].student for e in by_user.values()]
    out = []
    for user, group in sorted(by_user.items()):
        gradable = [e for e in group if not e.problem]
        chosen = _choose_entry(gradable, assignment) if gradable else max(group, key=lambda e: e.attachment)
        student = group[0].student if names.count(group[0].student) == 1 else f"{group[0].student}_{user}"
        out.append(Submission(student, chosen.path, [e.entry for e in group if e is not chosen],
                              display=f"{archive.name}:{chosen.entry}", lms_id=user, late=chosen.late,
                              problem=chosen.problem))
    return out


def _choose_entry(group: list, assignment: str | None):
    """Named after the assignment first, then notebooks, then the latest upload (largest attachment id)."""
    def stem(entry) -> str:
        return re.sub(r"-\d+$", "", Path(entry.original).stem)

    def key(entry):
        return (stem(entry) == assignment, entry.path.suffix == ".ipynb", entry.attachment)

    return max(group, key=key)


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
