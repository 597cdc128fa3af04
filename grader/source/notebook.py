"""Notebooks to code cells: nbformat reads, an nbconvert preprocessor drops IPython magics with a note."""

from __future__ import annotations

import re

import nbformat
from nbconvert.preprocessors import Preprocessor

MAGIC_LINE = re.compile(r"^(\s*)(%|!|\w+\s*=\s*[!%])")
HELP_LINE = re.compile(r"^\s*[\w.]+\?{1,2}\s*$")
MAX_CELLS = 2000  # converting is done in the grader's process: bound its cost
PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun"}  # the body of these cells is Python


class NotebookError(Exception):
    """The file is not a notebook that can be read."""


class DropMagics(Preprocessor):
    """Replace IPython magics and shell escapes with ``pass``, keeping the lines where they are.

    What is left of each code cell is then Python as it stands: nbconvert's PythonExporter
    would only join the cells (with markdown, prompts and outputs excluded, and no IPython
    to transform magics), at the cost of a template rendering per notebook, so the cells are
    taken as they are.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.notes: list[str] = []

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        lines = cell.source.splitlines()
        name = f"cell {index + 1}"
        if lines and lines[0].lstrip().startswith("%%"):
            magic = lines[0].strip().split()[0]
            if magic[2:] not in PYTHON_CELL_MAGICS:
                self.notes.append(f"{name}: the cell magic {magic} is not Python; the cell was skipped")
                lines = []
            else:
                self.notes.append(f"{name}: the cell magic {magic} was dropped; its body was run as Python")
                lines[0] = "pass"
        for i, line in enumerate(lines):
            match = MAGIC_LINE.match(line)
            if match or HELP_LINE.match(line):
                indent = match.group(1) if match else ""
                self.notes.append(f"{name}, line {i + 1}: IPython magic or shell command dropped: {line.strip()[:60]}")
                lines[i] = f"{indent}pass"
        cell.source = "\n".join(lines)
        return cell, resources


def read_cells(text: str) -> tuple[list[tuple[str, str]], list[str]]:
    """Code cells of a notebook as (name, code) chunks, plus notes on what was dropped."""
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as exc:  # nbformat raises many kinds for bad input
        raise NotebookError(_why_unreadable(exc)) from None
    if len(nb.cells) > MAX_CELLS:
        raise NotebookError(f"it has {len(nb.cells)} cells, more than the {MAX_CELLS} a submission may have")
    notes: list[str] = []
    original = nb.metadata.get("orig_nbformat")
    if original and original < 4:
        notes.append(f"an old nbformat v{original} notebook: it was converted to v4 before grading")
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError:
        notes.append("the notebook does not follow the nbformat schema; its code cells were read anyway")
    dropper = DropMagics()
    try:
        nb, _ = dropper.preprocess(nb, {})
        chunks = [(f"cell {index + 1}", cell.source.rstrip() + "\n")
                  for index, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    except Exception as exc:  # noqa: BLE001 - a malformed cell must not crash the grader
        raise NotebookError(f"its cells could not be converted to code ({exc.__class__.__name__})") from None
    return chunks, notes + dropper.notes


def _why_unreadable(exc: Exception) -> str:
    name = exc.__class__.__name__
    if "JSON" in name or isinstance(exc, ValueError):
        return "it is not valid notebook JSON (the file may be truncated or edited by hand)"
    return f"it could not be read as a Jupyter notebook ({name})"
