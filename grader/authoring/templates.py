"""Student templates from a solution written in the percent format, with solution markers.

A solution file is a Python script whose cells start with ``# %%`` (code) or
``# %% [markdown]`` (text, as comment lines). Inside code, the lines between
``### BEGIN SOLUTION`` and ``### END SOLUTION`` are the answer: the template
replaces them with ``raise NotImplementedError`` at the marker's indentation.
The notebook template ends with the student's own check (``grader.check()``).
"""

from __future__ import annotations

import re

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

BEGIN = re.compile(r"^(\s*)### BEGIN SOLUTION\s*$")
END = re.compile(r"^\s*### END SOLUTION\s*$")
CELL = re.compile(r"^# %%(.*)$")
FUNCTION = re.compile(r"^def ([A-Za-z]\w*)\(", re.MULTILINE)


CHECK_CELLS = """
# %% [markdown]
# ## Check your work
#
# The public tests on the functions above, with a hint under each failing test: the
# same as `grader check` on this notebook. Give a function's name to test it alone,
# e.g. `check("{first}")`.

# %%
from grader import check

check()
"""  # the notebook's last cells; being graded, the sandbox's stand-in makes check() do nothing


class MarkerError(ValueError):
    """The solution's markers do not pair up."""


def strip_solutions(text: str) -> str:
    """The solution's text with every marked answer replaced by a stub."""
    out, inside = [], False
    for number, line in enumerate(text.splitlines(), 1):
        begin = BEGIN.match(line)
        if begin:
            if inside:
                raise MarkerError(f"line {number}: BEGIN SOLUTION inside another")
            inside = True
            out.append(f'{begin.group(1)}raise NotImplementedError("write this function")')
        elif END.match(line):
            if not inside:
                raise MarkerError(f"line {number}: END SOLUTION without BEGIN")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise MarkerError("a BEGIN SOLUTION is never closed")
    return "\n".join(out) + "\n"


def cells(text: str) -> list[tuple[str, str]]:
    """Split a percent-format script into (kind, source) cells; markdown loses its comment marks."""
    result: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        match = CELL.match(line)
        if match:
            result.append(("markdown" if "[markdown]" in match.group(1) else "code", []))
        elif result:
            result[-1][1].append(line)
    out = []
    for kind, lines in result:
        while lines and not lines[-1].strip():
            lines.pop()
        if kind == "markdown":
            lines = [re.sub(r"^# ?", "", ln) for ln in lines]
        out.append((kind, "\n".join(lines)))
    return out


def to_notebook(text: str) -> str:
    """A percent-format script as notebook JSON (nbformat 4)."""
    nb = new_notebook()
    for kind, source in cells(text):
        nb.cells.append(new_markdown_cell(source) if kind == "markdown" else new_code_cell(source))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:02d}"
    return nbformat.writes(nb) + "\n"


def templates(solution_text: str) -> tuple[str, str]:
    """The student's .py and .ipynb built from a marked solution; the notebook ends with its own check."""
    stripped = strip_solutions(solution_text)
    first = FUNCTION.search(stripped)
    return stripped, to_notebook(stripped + CHECK_CELLS.replace("{first}", first.group(1) if first else "NAME"))
