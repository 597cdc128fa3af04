"""The student's own modules: a ``helpers.py`` handed in beside the graded file, which that file imports.

Python run in the student's folder imports a module from a file beside the script, so the grader does too:
each module the code imports (and those they import in turn) whose file the student handed in beside the
graded one is read and compiled here like the graded file, and sent into the sandbox with it, where it is
importable under its name and runs when first imported. A file named like a module of the standard library,
or like one the sandbox has already imported (NumPy, say), is not used, and a note says to rename it: ``import``
gives the other module there, as it often does on the student's machine too.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from grader.sandbox.pool import SANDBOX_OWN
from grader.source.model import Module, Source
from grader.source.reader import read_submission

MAX_MODULES = 20  # of one submission: a folder of a student's is not a package to install
MAX_ENTRIES = 10_000  # of a folder looked through for them (a student's Downloads, say)


def add_modules(source: Source, beside: dict[str, tuple[str, Path]]) -> list[str]:
    """Add to ``source`` the modules it imports among ``beside`` (module name -> (what the batch calls the file,
    its path)); what the batch calls those added. Each is named in the sandbox, in errors and quotes, by its
    file's name.

    A module that cannot be read or compiled makes the whole submission fail to load, as its import would: the
    source's ``error`` says which file, and why.
    """
    if source.error or not beside:
        return []
    graded = Path(source.path).name
    own = Path(source.path).stem
    order: list[Module] = []
    notes: list[str] = []
    seen: set[str] = set()
    used: list[str] = []

    def visit(imports: set[str], importer: str) -> bool:
        for name in sorted(imports):
            if name in seen or name not in beside:
                continue
            seen.add(name)
            called, path = beside[name]
            if name == own:  # a .py is importable by its own name in the sandbox too (Job.of); a notebook is not
                if source.kind != "py":
                    notes.append(f"{importer} imports {name}, the graded notebook itself, which Python cannot import: "
                                 f"move what {importer} needs from it into {importer}")
                continue
            if (taken := _taken(name)):
                notes.append(f"{path.name} was not used: {name} is also the name of {taken}, which `import {name}` "
                             f"gives when graded; rename {path.name} and the import")
                continue
            if len(order) >= MAX_MODULES:
                notes.append(f"{path.name} was not used: only {MAX_MODULES} modules of your own are run with the "
                             "submission")
                continue
            module = read_submission(path, module=True)
            if module.error:  # recorded all the same (its hash): the report is not reused once it is mended
                source.error = f"{module.error} (in {path.name}, which {importer} imports)"
                source.error_code, source.error_detail = module.error_code, module.error_detail
                order.append(Module(name, path.name, "", b"", module.sha256))
                return False
            (_, code), = module.chunks
            order.append(Module(name, path.name, code, module.compiled[0], module.sha256))
            used.append(called)
            source.lines[path.name] = code.splitlines()
            source.imports |= module.imports
            if not visit(module.imports, path.name):
                return False
        return True

    visit(set(source.imports), graded)
    source.modules = order
    if source.error:
        return []
    if order:
        one = len(order) == 1
        notes.insert(0, f"{graded} imports {', '.join(m.label for m in order)}, {'a module' if one else 'modules'} "
                        f"handed in beside it, which {'was' if one else 'were'} run with it")
    source.notes[:0] = notes
    return used


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
    """The other .py files in the folder of ``path`` (a student's own folder), by module name: what
    :func:`add_modules` may take from."""
    found: dict[str, tuple[str, Path]] = {}
    try:
        with os.scandir(path.parent) as entries:
            for number, entry in enumerate(entries):
                if number >= MAX_ENTRIES:
                    break
                stem, dot, suffix = entry.name.rpartition(".")
                if (dot and suffix.lower() == "py" and entry.name != path.name and stem.isidentifier()
                        and entry.is_file(follow_symlinks=False)):
                    found[stem] = (entry.name, Path(entry.path))
    except OSError:
        pass
    return found
