"""Notebooks to code cells: nbformat reads, an nbconvert preprocessor (``magics``) drops IPython magics with a note."""

from __future__ import annotations

import warnings

MAX_CELLS = 2000  # converting is done in the grader's process: bound its cost


class NotebookError(Exception):
    """The file is not a notebook that can be read."""


def read_cells(text: str) -> tuple[list[tuple[str, str]], list[str]]:
    """Code cells of a notebook as (name, code) chunks, plus notes on what was dropped."""
    import nbformat  # once a notebook is read (about 80 ms): `grader check` of a .py file does without

    with warnings.catch_warnings():  # nbformat's (cells without ids, say) are no business of the grader's terminal
        warnings.simplefilter("ignore")
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
    from grader.source.magics import DropMagics  # nbconvert, only once a notebook is read

    dropper = DropMagics()
    try:
        nb, _ = dropper.preprocess(nb, {})
        chunks = [(cell_name(index, cell), cell.source.rstrip() + "\n")
                  for index, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    except Exception as exc:  # noqa: BLE001 - a malformed cell must not crash the grader
        raise NotebookError(f"its cells could not be converted to code ({exc.__class__.__name__})") from None
    return chunks, notes + dropper.notes


def cell_name(index: int, cell) -> str:
    """'cell 7' for the notebook's 7th cell (markdown counted), with 'In [5]' when it was run (Jupyter shows that
    beside the cell, and no number of its place): 'cell 7 (In [5])'."""
    count = cell.get("execution_count")
    shown = f" (In [{count}])" if isinstance(count, int) and not isinstance(count, bool) and 0 < count < 10**6 else ""
    return f"cell {index + 1}{shown}"


def _why_unreadable(exc: Exception) -> str:
    name = exc.__class__.__name__
    if "JSON" in name or isinstance(exc, ValueError):
        return "it is not valid notebook JSON (the file may be truncated or edited by hand)"
    return f"it could not be read as a Jupyter notebook ({name})"
