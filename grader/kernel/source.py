"""A kernel's namespace seen as a submission: its name, what it defines, and the lines of its cells."""

from __future__ import annotations

import inspect
import linecache
import marshal
import os
import sys
import textwrap
import types
import warnings

from grader.source.model import Kind, Source


def ipython():
    """The running IPython shell, if this process has one (IPython is never imported here)."""
    module = sys.modules.get("IPython")
    return module.get_ipython() if module is not None and hasattr(module, "get_ipython") else None


def student_files(namespace: dict, graded: set[str]) -> dict[str, str]:
    """The files (notebook cells) of the code written in this kernel, each with the name to show for it.

    That is the code of the namespace's own functions, and of the graded ones wherever they come from;
    only frames in these files are quoted when a call raises, as in the sandbox.
    """
    module = namespace.get("__name__")
    files = set()
    for name, value in list(namespace.items()):
        if isinstance(value, types.FunctionType) and (value.__module__ == module or name in graded):
            files.add(value.__code__.co_filename)
    return {f: display_name(f) for f in sorted(files)}


def display_name(filename: str) -> str:
    """'cell In[5]' for the code of a notebook cell (IPython's own name for it), else the file's name."""
    shell = ipython()
    formatter = getattr(getattr(shell, "compile", None), "format_code_name", None)
    named = formatter(filename) if callable(formatter) else None
    if named:
        return f"cell {named[1]}"
    return os.path.basename(filename) or filename


def notebook_name(namespace: dict) -> tuple[str, Kind]:
    """What to call the code being checked: the notebook's file when the front end says it, else the script's."""
    for value in (namespace.get("__vsc_ipynb_file__"), os.environ.get("JPY_SESSION_NAME")):
        if isinstance(value, str) and value:
            return os.path.basename(value), "ipynb"
    file = namespace.get("__file__")
    if isinstance(file, str) and file:
        return os.path.basename(file), "py" if file.endswith(".py") else "unknown"
    shell = ipython()
    if shell is not None and type(shell).__name__ == "ZMQInteractiveShell":
        return "this notebook", "ipynb"
    return "this session", "unknown"


def kernel_source(namespace: dict, files: dict[str, str]) -> Source:
    """The Source of a kernel: no code to run (it has run), but what it defines, the lines to quote, and, as its
    chunks, the text of each function it defines now (one chunk each: whichever cell defined it last)."""
    path, kind = notebook_name(namespace)
    defined = {k for k, v in list(namespace.items()) if callable(v) and not k.startswith("_")}
    lines = {shown: [line.rstrip("\n") for line in linecache.getlines(raw)] for raw, shown in files.items()}
    texts = _function_texts(namespace, files)
    return Source(path=path, kind=kind, sha256="", mode="cells", defined=defined, lines=lines,
                  chunks=[(where, text) for where, text, _ in texts], compiled=[code for _, _, code in texts])


def _function_texts(namespace: dict, files: dict[str, str]) -> list[tuple[str, str, bytes]]:
    """(where, text, code) of each function of the namespace whose code is in ``files``: its text dedented, as
    written, and that text compiled again at its own lines of the cell (what the diagnosis reads of what a
    function calls and where a line lies; never run). A text that does not compile again is left out."""
    texts = []
    for value in list(namespace.values()):
        if isinstance(value, types.FunctionType) and value.__code__.co_filename in files:
            where = files[value.__code__.co_filename]
            try:
                text = textwrap.dedent(inspect.getsource(value))
                with warnings.catch_warnings():  # said once already, when the cell ran
                    warnings.simplefilter("ignore")
                    code = compile("\n" * (value.__code__.co_firstlineno - 1) + text, where, "exec", dont_inherit=True)
            except (OSError, TypeError, SyntaxError, ValueError):  # its text is gone (a cell's cache cleared)
                continue
            texts.append((where, text, marshal.dumps(code)))
    return texts
