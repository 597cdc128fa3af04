"""The student's own modules: a ``helpers.py`` handed in beside the graded file, which that file imports.

Python run in the student's folder imports a module from a file beside the script, so the grader does too:
each module the code imports (and those they import in turn) whose file the student handed in beside the
graded one is read and compiled here like the graded file, and sent into the sandbox with it, where it is
importable under its name and runs when first imported. A file named like a module of the standard library,
or like one the sandbox has already imported (NumPy, say), is not used, and a note says to rename it: ``import``
gives the other module there, as it often does on the student's machine too.
"""

from __future__ import annotations

import marshal
import os
import re
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

    def visit(imports: set[str], importer: str) -> None:
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
                             f"gives when graded; if the code means your file, rename it and the import")
                continue
            if len(order) >= MAX_MODULES:
                notes.append(f"{path.name} was not used: only {MAX_MODULES} modules of your own are run with the "
                             "submission")
                continue
            module = read_submission(path, module=True)
            used.append(called)
            if module.error:  # its hash recorded all the same: the report is not reused once it is mended
                why = module.error if module.error.startswith(path.name) else f"{path.name}: {module.error}"
                order.append(_unloadable(name, path.name, why, module.sha256))
                continue
            (_, code), = module.chunks
            order.append(Module(name, path.name, code, module.compiled[0], module.sha256))
            source.lines[path.name] = code.splitlines()
            source.imports |= module.imports
            visit(module.imports, path.name)

    visit(set(source.imports), graded)
    source.modules = order
    if order:
        one = len(order) == 1
        notes.insert(0, f"{graded} imports {', '.join(m.label for m in order)}, {'a module' if one else 'modules'} "
                        f"handed in beside it, which {'was' if one else 'were'} run with it")
    source.notes[:0] = notes
    return used


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
