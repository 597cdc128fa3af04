"""Find the submissions in what an instructor passes: files, folders of files, folders of per-student folders."""

from __future__ import annotations

import errno
import os
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from grader.downloads import read_download, recognise
from grader.downloads.unpacking import has_zip, read_student_folder
from grader.errors import GraderError
from grader.exercises import READ_BYTES, defined_in, guess_file, most_of
from grader.source import read_submission
from grader.source.modules import add_beside
from grader.source.reader import peek
from grader.source.syntax import written_functions
from grader.wording import some

SUFFIXES = {".py", ".ipynb"}
SKIPPED_DIRS = {".ipynb_checkpoints", "__pycache__", ".git", "__MACOSX"}


@dataclass
class Submission:
    """One student's file to grade, and what else was found for them."""

    student: str
    path: Path
    ignored: list[str] = field(default_factory=list)  # names of the student's other files
    display: str = ""  # what the report calls the file (an archive entry, say); its path when empty
    lms_id: str | None = None  # the LMS's id of the student (Canvas's user id, Moodle's participant id)
    late: bool | None = None
    lms: str | None = None  # whose download it came from: "canvas", "moodle" (None: the instructor's file or folder)
    problem: str = ""  # why nothing of the student's can be graded (then ``path`` is no file to read)
    label: str = ""  # what the note calls the file graded, when not its name (its place in the student's folder)
    beside: dict[str, tuple[str, Path]] = field(default_factory=dict)  # the student's other .py files beside it,
    # each a module the file may import: module name -> (what ``ignored`` calls the file, its path)

    def describe(self, info) -> None:
        """Say in a report's ``submission`` block what the LMS said of the file (its id, late flag, which LMS)."""
        info.lms_id, info.late, info.lms = self.lms_id, self.late, self.lms

    @property
    def name(self) -> str:
        return self.label or (self.display.rsplit(":", 1)[-1] if self.display else self.path.name)

    def note(self, used: list[str] = ()) -> str:
        """What the report says about the choice, when there was one; ``used``: the files of ``ignored`` run as
        modules the graded file imports (not ignored, then)."""
        ignored = [name for name in self.ignored if name not in used]
        if not ignored:
            return ""
        if self.problem:
            return (f"{len(ignored) + 1} files were found for this student, none of which could be graded: "
                    f"{', '.join([self.name, *ignored])}")
        graded = f"graded {self.name}" + (f" with {', '.join(used)}" if used else "")
        return f"{len(self.ignored) + 1} files were found for this student; {graded}, ignored {', '.join(ignored)}"


def collect(paths: list[Path], assignment: str | None, scratch: Path | None = None,
            warn: Callable[[str], None] = lambda message: None) -> list[Submission]:
    """Every submission under ``paths``, one per student, in a stable order.

    A file is a submission (its stem is the student id); a folder holds submission
    files and/or per-student folders (the folder's name is the student id; its files
    are searched at any depth, or only in its ``<assignment>/`` folder when it has one).
    A folder named ``submitted`` is read as nbgrader's ``submitted/<student>/<assignment>/``:
    only that assignment's folder counts (without ``assignment``, the one assignment there is);
    a folder holding ``submitted/`` and nothing else but nbgrader's own folders (its course
    root) is read as that ``submitted/``. Folders whose name starts with a dot are not students.
    Each PATH is its own namespace: the same id under two PATHs is two students.
    When a student has several files, ``choose`` says which is graded; the others are listed
    in the report, named as they lie in the student's folder.
    A student's folder with nothing to grade is a submission too, whose ``problem`` says why:
    no student drops out of the gradebook unnoticed.
    A ``.zip`` is read as an LMS's download of the class's submissions (Canvas's or Moodle's, told
    by its entries' names: see ``grader.downloads``), extracted into ``scratch``, and so is a folder
    most of whose top carries an LMS's names (the download unzipped); ``warn`` is told of the entries
    that belong to no student. A student's folder whose only Python is in a zip is graded from it.
    """
    found: dict[tuple[str, int], list[Path]] = {}  # (student, which PATH): each PATH its own namespace
    empty: dict[tuple[str, int], tuple[Path, str]] = {}  # a student's folder with nothing to grade: why
    in_folders: dict[tuple[str, int], Path] = {}  # the students found as folders (not as files): their folders
    downloaded: list = []  # the entries of the LMS downloads among the PATHs: a user's, across them, are one student's
    for number, path in enumerate(_once_each(paths, warn)):
        zipped = path.suffix.lower() == ".zip" and path.is_file()
        naming, named, others = recognise(path) if zipped or _is_folder(path) else (None, 0, 0)
        if zipped or named > others:  # a download, zipped or not
            if scratch is None:
                raise ValueError("a folder to extract archives into is needed")
            downloaded += _download_entries(path, naming, scratch / f"archive-{number}", warn)
        elif _is_folder(path):
            if named > 1:
                warn(f"{path} holds {named} files named as {naming.lms} names submissions, but {others} that are "
                     f"not: it was read as a folder of files, each a student; if it is a {naming.lms} download, take "
                     "the others out")
            path = _nbgrader_submitted(path)
            nbgrader = path.name == "submitted"
            try:
                entries = sorted(path.iterdir())
            except OSError as exc:
                raise GraderError(f"cannot read the folder {path} ({exc.strerror or exc})") from None
            wanted = assignment or (_nbgrader_assignment(path, entries) if nbgrader else None)
            if not nbgrader and _is_folder(path / "submitted"):  # a course root with other things in it, most likely
                warn(f"{path} holds submitted/ beside other folders, so its folders were read as students "
                     f"(submitted/ among them); if it is an nbgrader course, grade {path / 'submitted'} instead")
            for entry in entries:
                if _is_folder(entry):
                    if entry.name not in SKIPPED_DIRS and not entry.name.startswith("."):
                        files, why = _student_files(entry, wanted, nbgrader)
                        if not files and not nbgrader and scratch is not None and has_zip(entry):  # their zip, opened
                            into = scratch / f"folder-{number}-{len(downloaded)}"
                            into.mkdir(parents=True)
                            downloaded += read_student_folder(entry, into, entry.name, f"{number}/{entry.name}")
                            continue
                        found.setdefault((entry.name, number), []).extend(files)
                        in_folders[(entry.name, number)] = entry
                        if why:
                            empty[(entry.name, number)] = (entry, why)
                elif entry.suffix.lower() in SUFFIXES:
                    found.setdefault((entry.stem, number), []).append(entry)
        else:
            found.setdefault((path.stem, number), []).append(path)
    archived = _from_downloads(downloaded, assignment)
    sources: dict[str, list[Path]] = {}  # the PATHs each student was found in
    for student, number in found:
        sources.setdefault(student, []).append(Path(paths[number]))
    for submission, origin in archived:
        sources.setdefault(submission.student, []).append(origin)
    for student, where in sorted(sources.items()):
        if len(where) > 1:
            warn(f"{student} is in {len(where)} of the PATHs ({', '.join(str(p) for p in where)}): graded as "
                 f"{len(where)} students")
    out = []
    for student, number in sorted(found):
        files = found[(student, number)]
        if not files:
            folder, why = empty[(student, number)]
            out.append(Submission(student, folder, display=f"{folder}/", problem=why))
            continue
        within = _common_folder(files) if (student, number) in in_folders else None  # in a student's folder, each file
        chosen = choose(files, assignment, in_folders.get((student, number)))
        shown = {f: _relative(f, within) for f in files}  # is named as it lies there: two may share a name
        beside = _beside(chosen, files, within) if (student, number) in in_folders else {}
        out.append(Submission(student, chosen, [shown[f] for f in files if f != chosen],
                              label=shown[chosen] if len(files) > 1 else "", beside=beside))
    return out + [submission for submission, _ in archived]


def _beside(chosen: Path, files: list[Path], within: Path | None) -> dict[str, tuple[str, Path]]:
    """The modules the graded file of a student's folder may import, by name: the other .py files beside it, and
    the folders beside it that hold .py files (packages); each with what the notes call it, and its path."""
    beside: dict[str, tuple[str, Path]] = {}
    for f in files:
        if f == chosen:
            continue
        try:
            parts = f.relative_to(chosen.parent).parts
        except ValueError:
            continue
        if len(parts) == 1:  # a notebook too, which Python cannot import: its import says so
            add_beside(beside, f.stem, _relative(f, within), f)
        elif f.suffix.lower() == ".py":
            folder = chosen.parent / parts[0]
            add_beside(beside, parts[0], _relative(folder, within) + "/", folder)
    return beside


def _common_folder(files: list[Path]) -> Path | None:
    """The deepest folder that holds all of ``files``."""
    try:
        return Path(os.path.commonpath([f.parent for f in files]))
    except ValueError:
        return None


def _relative(path: Path, folder: Path | None) -> str:
    """``path`` as it lies in ``folder`` (its name alone when it lies in none)."""
    try:
        return path.relative_to(folder).as_posix() if folder is not None else path.name
    except ValueError:
        return path.name


NBGRADER_FOLDERS = {"source", "release", "submitted", "autograded", "feedback", "exchange"}


def _nbgrader_submitted(path: Path) -> Path:
    """``path``'s ``submitted/`` when ``path`` is nbgrader's course root (nothing in it but nbgrader's folders and
    files), else ``path``."""
    if path.name == "submitted" or not _is_folder(path / "submitted"):
        return path
    for entry in _listing(path):
        if _is_folder(entry) and entry.name not in NBGRADER_FOLDERS and not entry.name.startswith("."):
            return path
        if entry.suffix.lower() in SUFFIXES and entry.name != "nbgrader_config.py":
            return path
    return path / "submitted"


def _nbgrader_assignment(submitted: Path, entries: list[Path]) -> str:
    """The one assignment of nbgrader's ``submitted/<student>/<assignment>/``, when ``-a`` names none."""
    names = {sub.name for student in entries if _is_folder(student) and not student.name.startswith(".")
             for sub in _listing(student) if _is_folder(sub) and sub.name not in SKIPPED_DIRS}
    if len(names) > 1:
        raise GraderError(f"{submitted} holds the submissions of several assignments ({', '.join(sorted(names)[:5])}): "
                          "name the one to grade with -a")
    return names.pop() if names else ""


def _listing(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir())
    except OSError:
        return []


def _is_folder(path: Path) -> bool:
    """A folder, not a link to one (never raises: a folder that cannot be looked into is none)."""
    return os.path.isdir(path) and not os.path.islink(path)


def _student_files(folder: Path, assignment: str | None, nbgrader: bool) -> tuple[list[Path], str]:
    """The files to choose from in a student's folder, and why there are none (when there are none).

    Its ``<assignment>/`` folder is searched alone when it holds a submission (in nbgrader's layout, always).
    """
    try:
        if not os.access(folder, os.R_OK | os.X_OK):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
        inner = folder / assignment if assignment else None
        files = _files_under(inner) if inner is not None and _is_folder(inner) else None
        if files is not None and (files or nbgrader):
            folder = inner
        elif nbgrader and assignment:
            others = sorted(p.name + "/" for p in folder.iterdir() if _is_folder(p))
            return [], (f"nothing submitted for {assignment}: {folder.name}/ has no {assignment}/ folder"
                        + (f" (only {', '.join(others[:5])})" if others else ""))
        else:
            files = _files_under(folder)
        if files:
            return files, ""
        others = sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                        if not _skipped(p.relative_to(folder)) and (p.is_file() or p.is_symlink()))
    except OSError as exc:
        return [], f"the folder {folder.name}/ could not be read ({exc.strerror or exc.__class__.__name__})"
    if not others:
        return [], f"nothing to grade: the folder {folder.name}/ is empty"
    zips = [name for name in others if name.lower().endswith(".zip")]
    return [], (f"nothing to grade: no .py or .ipynb file in {folder.name}/ (found {some(others)})"
                + (f"; unzip {zips[0]} there to grade what it holds" if zips else ""))


def _once_each(paths: list[Path], warn: Callable[[str], None]) -> list[Path]:
    """The PATHs, each file or folder once (``subs/*.py subs/good.py`` names good.py twice: one student, not two)."""
    seen: dict[str, Path] = {}
    for path in map(Path, paths):
        key = os.path.realpath(path)
        if key in seen:
            warn(f"{path} was given more than once{f' (as {seen[key]})' if str(seen[key]) != str(path) else ''}: "
                 "graded once")
        else:
            seen[key] = path
    return list(seen.values())


def _skipped(relative: Path) -> bool:
    return any(part in SKIPPED_DIRS for part in relative.parts)


def _download_entries(download: Path, naming, scratch: Path, warn: Callable[[str], None]) -> list:
    """The entries of an LMS download (a zip, extracted into ``scratch``, or a folder: the zip unzipped), those
    that cannot be graded included; ``warn`` is told of the files that belong to no student."""
    scratch.mkdir(parents=True)
    entries, rejected, notes = read_download(download, scratch, naming)
    for note in notes:
        warn(f"{download.name}: {note}")
    return entries + rejected


def _from_downloads(entries: list, assignment: str | None) -> list[tuple[Submission, Path]]:
    """One submission per LMS user, whichever downloads their entries came from: of the download that holds
    their latest upload (a download holds a student's latest attempt), the file ``_choose_entry`` chooses; each
    with the download of the file graded.

    A user none of whose entries can be graded (too large, not Python) gets a submission whose ``problem`` says so.
    """
    by_user: dict[tuple[str, str], list] = {}  # by LMS and id: Canvas's user 42 is not Moodle's participant 42
    for entry in entries:
        by_user.setdefault((entry.lms, entry.user_id), []).append(entry)
    if assignment is None and any(len({e.origin for e in group}) > 1 for group in by_user.values()):
        assignment = _likeliest_assignment(entries)  # what a download of another assignment is told apart from
    picked = {}  # each user's file to grade, the files of its download, and those of them that can be graded
    for user, group in by_user.items():
        by_origin: dict[Path, list] = {}
        for entry in group:
            by_origin.setdefault(entry.origin, []).append(entry)
        options = []
        for candidates in by_origin.values():
            gradable = [e for e in candidates if not e.problem]
            options.append((_choose_entry(gradable or candidates, assignment), candidates, gradable))
        if len(options) > 1:  # of several downloads, the latest's; but one of another assignment (its file writes
            # none of this one's functions) comes after one of this assignment, however late the upload
            picked[user] = max(options, key=lambda o: (
                bool(o[2]) and _written(o[0].path, assignment) > 0, max((e.attachment, e.modified) for e in o[1])))
        else:
            picked[user] = options[0]
    names = Counter(chosen.student for chosen, _, _ in picked.values())  # as the download graded names them
    out = []
    for (lms, user), group in sorted(by_user.items()):
        chosen, candidates, gradable = picked[(lms, user)]
        problem = "" if gradable else "; ".join(e.problem for e in sorted(candidates, key=lambda e: e.attachment))
        student = chosen.student if names[chosen.student] == 1 or not lms else f"{chosen.student} ({user})"
        several = len({e.origin for e in group}) > 1  # then each file is named with its download
        named = (lambda e: e.shown) if several else (lambda e: e.entry)
        ignored = [named(e) + (_why_not(e) if gradable else "") for e in group if e is not chosen]
        beside = {}  # the user's other .py files of that download, in the same folder of their zip: the latest of a name
        for e in sorted(gradable, key=lambda e: (e.attachment, e.modified)):
            stem = _uploaded_stem(e)
            if e is not chosen and e.original.lower().endswith(".py") and e.inside.rpartition("/")[0] \
                    == chosen.inside.rpartition("/")[0]:
                beside[stem] = (named(e), e.path)
        out.append((Submission(student, chosen.path, ignored, display=chosen.shown, lms_id=user if lms else None,
                               late=chosen.late, lms=lms or None, problem=problem, label=named(chosen),
                               beside=beside), chosen.origin))
    return out


def _likeliest_assignment(entries: list) -> str | None:
    """The assignment whose functions most of the gradable entries define (as a batch without -a is graded)."""
    votes = Counter(found.name for e in entries if not e.problem and e.original.lower().endswith(tuple(SUFFIXES))
                    if (found := guess_file(e.path)) is not None)
    return min(votes, key=lambda name: (-votes[name], name)) if votes else None


def _why_not(entry) -> str:
    """' (it is larger than the 2 MB allowed once unpacked)' for an entry that cannot be graded, else ''."""
    if not entry.problem:
        return ""
    why = entry.problem[len(entry.original) + 1:] if entry.problem.startswith(entry.original + " ") else entry.problem
    return f" (it {why})" if why.startswith(("is ", "could ")) else f" ({why})"


def _choose_entry(group: list, assignment: str | None):
    """Python first, then the rule of ``choose`` (within a student's own zip or folder, its folders count as
    theirs), the latest upload (Canvas's largest attachment id) and the newest file in a zip before a notebook."""
    def key(entry):
        python = entry.original.lower().endswith(tuple(SUFFIXES))
        named = _uploaded_stem(entry) == assignment
        return (python, *_handed_in(entry.path, assignment, tuple(entry.inside.split("/")[:-1]), named,
                                    readable=python and not entry.problem),
                entry.attachment, entry.modified, entry.path.suffix == ".ipynb")

    return max(group, key=key)


def _uploaded_stem(entry) -> str:
    """The name of an LMS entry's file as the student named it, without its extension, nor Canvas's -1, -2 of a
    name uploaded again (a Moodle file's helpers-1.py is the student's own name)."""
    stem = Path(entry.original).stem
    return re.sub(r"-\d+$", "", stem) if entry.lms == "canvas" else stem


def _files_under(folder: Path) -> list[Path]:
    files = []
    for p in sorted(folder.rglob("*")):
        if _skipped(p.relative_to(folder)):
            continue
        if p.suffix.lower() in SUFFIXES and (p.is_file() or p.is_symlink()):
            files.append(p)
    return files


OLD_COPY = re.compile(r"(?i)^(backups?|bak|old|older|archived?|archives|previous|prev|versions?|drafts?|copy|copies|"
                      r"trash|deprecated|unused)$")  # a folder whose files are kept aside, not handed in


def choose(files: list[Path], assignment: str | None, within: Path | None = None) -> Path:
    """The file to grade among one student's files (``within``: their folder): the one that has the most of the
    assignment's functions written (not the template's stubs), then one not kept aside in a folder such as
    ``backup/`` or ``old/``, then one named after the assignment, then the one nearest the top of the folder,
    then a notebook, then the newest. Only the last two depend on how the files were saved or copied."""
    if len(files) == 1:
        return files[0]
    return max(files, key=lambda f: _preference(f, assignment, within))


def _preference(path: Path, assignment: str | None, within: Path | None) -> tuple:
    return (*_handed_in(path, assignment, _folders(path, within), path.stem == assignment),
            path.suffix.lower() == ".ipynb", _mtime(path))


def _handed_in(path: Path, assignment: str | None, folders: tuple[str, ...], named: bool,
               readable: bool = True) -> tuple:
    """The first four steps of the rule of ``choose``, which an LMS download's files follow too: the functions written
    (none in a file that is not to be read), not kept aside, named after the assignment, nearest the top."""
    written = _written(path, assignment) if readable else 0
    return (written, not any(OLD_COPY.match(part) for part in folders), named, -len(folders))


def _written(path: Path, assignment: str | None) -> int:
    """How many of the assignment's functions the file has written (not the template's stubs), as the grader
    reads it (its encoding, a notebook's code cells); for a file with a syntax error, those its text defines
    (the student is then told of the error, not graded on another file); 0 when it cannot be read."""
    source = read_submission(path)
    if source.error:  # a file that does not parse (a syntax error): the functions its text defines, stubs or not
        return most_of(defined_in(peek(path, READ_BYTES)), assignment) if source.sha256 else 0
    return most_of(written_functions([text for _, text in source.chunks]), assignment)


def _folders(path: Path, within: Path | None) -> tuple[str, ...]:
    """The folders between ``within`` and ``path``."""
    try:
        return path.parent.relative_to(within).parts if within is not None else ()
    except ValueError:
        return ()


def _mtime(path: Path) -> tuple[float, str]:
    try:
        return (path.lstat().st_mtime, path.name)
    except OSError:
        return (0.0, path.name)
