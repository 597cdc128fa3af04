"""The student's own modules: a ``helpers.py`` handed in beside the graded file, which that file imports.

Python run in the student's folder imports a module from a file beside the script, so the grader does too:
each module the code imports (and those they import in turn) whose file the student handed in beside the
graded one is read and compiled here like the graded file, and sent into the sandbox with it, where it is run
first and importable under its name. A module of the standard library's name is not one of them (Python's
own comes first in the sandbox too), nor is the graded file itself.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from grader.source.model import Module, Source
from grader.source.reader import read_submission

MAX_MODULES = 20  # of one submission: a folder of a student's is not a package to install


def add_modules(source: Source, beside: dict[str, tuple[str, Path]]) -> list[str]:
    """Add to ``source`` the modules it imports among ``beside`` (module name -> (what the batch calls the file,
    its path)), in the order they are to run (a module before those that import it); what the batch calls those
    added. Each is named in the sandbox, in errors and quotes, by its file's name.

    A module that cannot be read or compiled makes the whole submission fail to load, as its import would: the
    source's ``error`` says which file, and why.
    """
    if source.error or not beside:
        return []
    own = Path(source.path).stem
    order: list[Module] = []
    seen: set[str] = set()

    def visit(imports: set[str], importer: str) -> bool:
        for name in sorted(imports):
            if name in seen or name not in beside or name == own or name in sys.stdlib_module_names:
                continue
            if len(seen) >= MAX_MODULES:
                return True
            seen.add(name)
            called, path = beside[name]
            module = read_submission(path)
            if module.error:  # recorded all the same (its hash): the report is not reused once it is mended
                source.error = f"{module.error} (in {path.name}, which {importer} imports)"
                source.error_code, source.error_detail = module.error_code, module.error_detail
                order.append(Module(name, path.name, "", b"", module.sha256))
                return False
            if not visit(module.imports, path.name):  # what it imports runs before it
                return False
            (label, code), = module.chunks
            order.append(Module(name, label, code, module.compiled[0], module.sha256))
            used.append(called)
            source.lines[label] = code.splitlines()
            source.imports |= module.imports
        return True

    used: list[str] = []
    visit(set(source.imports), Path(source.path).name)
    source.modules = order
    if source.error:
        return []
    if order:
        source.notes.insert(0, f"{Path(source.path).name} imports {', '.join(m.label for m in order)}, the student's "
                               f"own module{'s' * (len(order) > 1)} beside it: run with it")
    return used


def files_beside(path: Path, limit: int = 1000) -> dict[str, tuple[str, Path]]:
    """The other .py files in the folder of ``path`` (a student's own folder), by module name: what
    :func:`add_modules` may take from."""
    found: dict[str, tuple[str, Path]] = {}
    try:
        with os.scandir(path.parent) as entries:
            for number, entry in enumerate(entries):
                if number >= limit:
                    break
                if entry.name.endswith(".py") and entry.name != path.name and entry.is_file(follow_symlinks=False):
                    found[entry.name[:-3]] = (entry.name, Path(entry.path))
    except OSError:
        pass
    return found
