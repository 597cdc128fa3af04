"""A notebook exported to ``.py`` (Jupyter's "Download as Python"): the IPython calls it leaves in the code.

The export writes each ``%magic`` and ``!command`` as a line such as
``get_ipython().run_line_magic('matplotlib', 'inline')``, which fails outside IPython
(``get_ipython`` is not defined) and would stop the whole file. Such a line is replaced
with ``pass``, as a notebook's magics are (``magics``); a ``%%time`` cell, whose body is
Python, runs its body instead. Line numbers stay as they were.
"""

from __future__ import annotations

import ast
import re

CALL_LINE = re.compile(r"^(\s*)((?:[\w.]+\s*,\s*)*[\w.]+\s*=\s*)?get_ipython\(\)\.(\w+)\(.*\)\s*$")
MAGIC_LINE = re.compile(r"^(\s*)(%|!|\w+\s*=\s*[!%])")  # IPython's own lines: %magic, !command, x = !command
HELP_LINE = re.compile(r"^\s*[\w.]+\?{1,2}\s*$")  # np.exp?
PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun"}  # the body of these cells is Python


def drop_ipython_calls(text: str, name: str) -> tuple[str, list[str]]:
    """``text`` with its lines of IPython calls replaced, and a note on each (none when it has none)."""
    if "get_ipython()" not in text:
        return text, []
    lines = text.split("\n")
    notes = []
    for i, line in enumerate(lines):
        match = CALL_LINE.match(line)
        if match is None:
            continue
        indent, target, method = match.groups()
        body = _cell_body(line) if method == "run_cell_magic" and not target else None
        if body is not None:  # run as written in the cell: its functions are defined (their lines are not quoted)
            lines[i] = f"{indent}exec({_python_lines(body)!r})"
            notes.append(f"{name}, line {i + 1}: the IPython cell magic of Jupyter's export was dropped; "
                         "its body was run as Python")
        else:  # an assignment of the command's output gets None: the name exists, as it would have
            names = target.rstrip().rstrip("=").split(",") if target else []
            lines[i] = f"{indent}{', '.join(n.strip() for n in names)} = {', '.join(['None'] * len(names))}" \
                if names else f"{indent}pass"
            notes.append(f"{name}, line {i + 1}: IPython command dropped (a notebook's magic or shell command, "
                         f"as Jupyter's export writes it): {line.strip()[:60]}")
    return "\n".join(lines), notes


def _python_lines(body: str) -> str:
    """A cell's body with its own magics, shell commands and help requests (``%matplotlib``, ``!pip``,
    ``files = !ls``, ``np.exp?``) made ``pass``."""
    lines = body.split("\n")
    for i, line in enumerate(lines):
        match = MAGIC_LINE.match(line)
        if match or HELP_LINE.match(line):
            lines[i] = (match.group(1) if match else "") + "pass"
    return "\n".join(lines)


def _cell_body(line: str) -> str | None:
    """The Python body of ``get_ipython().run_cell_magic('time', '', '...')``; None for another magic's."""
    try:
        call = ast.parse(line.strip(), mode="eval").body
        magic, _, body = (ast.literal_eval(arg) for arg in call.args)
    except (SyntaxError, ValueError, TypeError, AttributeError):
        return None
    return body if magic in PYTHON_CELL_MAGICS and isinstance(body, str) else None
