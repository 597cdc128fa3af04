"""The student's own modules: a ``helpers.py`` (or a folder ``utils/``, a package) handed in beside the graded
file, which that file imports.

Python run in the student's folder imports a module from a file or folder beside the script, so the grader does
too: each module the code imports (and those they import in turn) whose file the student handed in beside the
graded one is read and compiled here like the graded file, and sent into the sandbox with it, where it is
importable under its name and runs when first imported. A file named like a module of the standard library,
or like one the sandbox has already imported (NumPy, say), is not used, and a note says to rename it: ``import``
gives the other module there, as it often does on the student's machine too.
"""

from __future__ import annotations

import itertools
import marshal
import os
import re
import sys
from pathlib import Path

from grader.errors import GraderError
from grader.evaluation.reference import find_solutions
from grader.sandbox.pool import SANDBOX_OWN, installed
from grader.source.model import Module, Source
from grader.source.reader import read_submission

MAX_MODULES = 50  # of one submission: a folder of a student's is not a package to install
MAX_DEPTH = 8  # of a package's subfolders
MAX_ENTRIES = 10_000  # of a folder looked through for them (a student's Downloads, say)


def add_modules(source: Source, beside: dict[str, tuple[str, Path]]) -> list[str]:
    """Add to ``source`` the modules it imports among ``beside`` (module name -> (what the batch calls the file,
    its path; a folder: a package, called with a / at the end)); what the batch calls those added. Each is named in the sandbox, in errors and quotes, by its
    file's name.

    A module that cannot be read or compiled raises an ImportError that says which file, and why, where it is
    imported, as Python raises its SyntaxError there (not where an import never runs: under the ``__main__`` guard).
    """
    if source.error:
        return []
    graded = Path(source.path).name
    own = source.module_name = module_name(Path(source.path))
    if not beside:
        return []
    order: list[Module] = []
    notes: list[str] = []
    seen: set[str] = set()
    used: list[str] = []
    importable: list[str] = []  # the files of those modules that can be run (not one whose import raises, saying why)

    def visit(imports: set[str], importer: str) -> None:
        for name in sorted(imports):
            if name in seen or name not in beside:
                continue
            seen.add(name)
            called, path = beside[name]
            if _last_resort(path) and (installed(name) or _taken(name)):  # Python imports the installed one
                continue
            if name == own:  # a .py is importable by its own name in the sandbox too (Job.of); a notebook is not
                if source.kind != "py":
                    notes.append(f"{importer} imports {name}, the graded notebook itself, which Python cannot import: "
                                 f"move what {importer} needs from it into {importer}")
                continue
            if (taken := _taken(name)):
                notes.append(f"{path.name} was not used: {name} is also the name of {taken}, which `import {name}` "
                             f"gives when graded; if the code means your file, rename it and the import")
                continue
            if len(order) >= MAX_MODULES:
                notes.append(f"{path.name} was not used: only {MAX_MODULES} modules of your own are run with the "
                             "submission")
                continue
            files = _package(path, name, called) if path.is_dir() else [(name, path.name, called, path)]
            if not files:
                continue
            if len(files) > MAX_MODULES - len(order):
                notes.append(f"{called} holds more modules than the {MAX_MODULES} of your own run with the submission: "
                             f"only the first {MAX_MODULES - len(order)} were taken")
            for dotted, label, shown, file in files[:MAX_MODULES - len(order)]:
                if file is None:  # a folder without __init__.py: a package with nothing of its own
                    order.append(Module(dotted, label, "", marshal.dumps(compile("", label, "exec")), ""))
                    continue
                module = read_submission(file, module=True, name=label)
                used.append(shown)
                if module.error:  # its hash recorded all the same: the report is not reused once it is mended
                    why = module.error if module.error.startswith(label) else f"{label}: {module.error}"
                    order.append(_unloadable(dotted, label, why, module.sha256))
                    continue
                (_, code), = module.chunks
                order.append(Module(dotted, label, code, module.compiled[0], module.sha256))
                importable.append(label)
                source.lines[label] = code.splitlines()
                source.imports |= module.imports
                visit(module.imports, label)

    visit(set(source.imports), graded)
    source.modules = order
    if importable:
        one = len(importable) == 1
        notes.insert(0, f"{graded} imports {', '.join(importable)}, {'a module' if one else 'modules'} "
                        f"handed in beside it, which it can import when graded, as in Python")
    source.notes[:0] = notes
    return used


def _package(folder: Path, name: str, called: str, depth: int = 0) -> list[tuple[str, str, str, Path | None]]:
    """The modules of a folder of the student's own that the code imports as a package (utils/ for ``from
    utils.helpers import f``), its subfolders' too (down to MAX_DEPTH): (dotted name, label, what the batch calls
    the file, its path; None for the __init__.py of a folder that has none), the package before its modules."""
    if depth > MAX_DEPTH or _is_solutions(folder):
        return []
    try:
        with os.scandir(folder) as scan:
            entries = sorted(itertools.islice(scan, MAX_ENTRIES), key=lambda e: e.name)
    except OSError:
        return []
    init = next((e for e in entries if e.name == "__init__.py" and e.is_file(follow_symlinks=False)), None)
    found = [(name, f"{folder.name}/__init__.py", f"{called}__init__.py", Path(init.path) if init else None)]
    for entry in entries:
        stem, dot, suffix = entry.name.rpartition(".")
        if entry.name == "__init__.py" or not entry.is_file(follow_symlinks=False):
            if entry.is_dir(follow_symlinks=False) and entry.name.isidentifier() and entry.name != "__pycache__":
                inner = _package(Path(entry.path), f"{name}.{entry.name}", f"{called}{entry.name}/", depth + 1)
                found += [(dotted, f"{folder.name}/{label}", shown, path) for dotted, label, shown, path in inner]
        elif dot and suffix.lower() == "py" and stem.isidentifier():
            found.append((f"{name}.{stem}", f"{folder.name}/{entry.name}", f"{called}{entry.name}", Path(entry.path)))
    return found if len(found) > 1 or init else []


def _is_solutions(folder: Path) -> bool:
    """Whether ``folder`` is where the grader finds the reference solutions, never to be sent into the sandbox."""
    try:
        return any(os.path.samefile(folder, place) for place in (find_solutions(),) if place is not None)
    except (OSError, GraderError):
        return False


def rank(path: Path) -> int:
    """Which of a student's files and folders of one name ``import`` takes, as Python does (the lowest): a folder
    with __init__.py, a .py file, a folder without (Python's last resort), a notebook (which it never imports:
    taken only to say so)."""
    if path.is_dir():
        return 0 if (path / "__init__.py").is_file() else 2
    return 1 if path.suffix.lower() == ".py" else 3


def _last_resort(path: Path) -> bool:
    """A folder without __init__.py or a notebook: what an installed package of the name comes before."""
    return rank(path) >= 2


def add_beside(found: dict[str, tuple[str, Path]], name: str, called: str, path: Path) -> None:
    """Put ``path`` in ``found`` under ``name``, when that is a name ``import`` can take, unless what is there is
    that path or ranks before it (:func:`rank`)."""
    there = found.get(name)
    if name.isidentifier() and (there is None or there[1] != path and rank(path) < rank(there[1])):
        found[name] = (called, path)


def _unloadable(name: str, label: str, why: str, sha256: str) -> Module:
    """A module that cannot be run (a syntax error, a notebook): one whose import raises an ImportError saying why,
    from code of the grader's (the student's line that imports it is where the error is said to be)."""
    code = f"raise ImportError({why!r})"
    return Module(name, label, code, marshal.dumps(compile(code, f"<{label}, not run>", "exec")), sha256)


def module_name(path: Path) -> str:
    """The name a file is imported by: its stem, without the -1 an LMS (Canvas) adds to a name uploaded again."""
    stem = path.stem
    return stem if stem.isidentifier() else re.sub(r"-\d+$", "", stem)


def _taken(name: str) -> str:
    """What a module of this name is when the student's code runs in the sandbox, if not the student's file."""
    if name in sys.stdlib_module_names:
        return "a module of Python's standard library"
    if name in SANDBOX_OWN:
        return "a module the grader runs with"
    return ""


def read_with_modules(path: Path) -> Source:
    """A student's file, read with the modules of their own beside it that it imports (``grader check``, an LMS's
    autograder: one student's folder)."""
    source = read_submission(path)
    add_modules(source, files_beside(path))
    return source


def files_beside(path: Path) -> dict[str, tuple[str, Path]]:
    """The other .py files and the folders in the folder of ``path`` (a student's own folder), by module name:
    what :func:`add_modules` may take from; a notebook too, where no .py file has its name (which Python cannot
    import: its import says so)."""
    found: dict[str, tuple[str, Path]] = {}
    try:
        with os.scandir(path.parent) as entries:
            for number, entry in enumerate(entries):
                if number >= MAX_ENTRIES:
                    break
                stem, dot, suffix = entry.name.rpartition(".")
                if dot and suffix.lower() in ("py", "ipynb") and entry.name != path.name \
                        and entry.is_file(follow_symlinks=False):
                    add_beside(found, stem, entry.name, Path(entry.path))  # a notebook: importing it raises, saying why
                elif entry.is_dir(follow_symlinks=False):
                    add_beside(found, entry.name, f"{entry.name}/", Path(entry.path))
    except OSError:
        pass
    return found
