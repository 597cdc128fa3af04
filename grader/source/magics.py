"""IPython magics out of notebook cells: an nbconvert preprocessor, imported only when a notebook is read.

(Importing nbconvert costs about a second; ``grader check`` on a ``.py`` file need not pay it.)
"""

from __future__ import annotations

from nbconvert.preprocessors import Preprocessor

from grader.source.exported import HELP_LINE, MAGIC_LINE, PYTHON_CELL_MAGICS
from grader.source.notebook import cell_name


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
        name = cell_name(index, cell)
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
