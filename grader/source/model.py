"""A submission as code: named chunks (the file, or one per notebook cell) and what was noticed."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

Kind = Literal["py", "ipynb", "unknown"]


@dataclass
class Source:
    """What the grader runs of a submission, or why it cannot run it."""

    path: str
    kind: Kind
    sha256: str
    chunks: list[tuple[str, str]] = field(default_factory=list)  # (file or cell name, code)
    compiled: list[bytes] = field(default_factory=list)  # each chunk's code object, marshalled (what the sandbox runs)
    mode: Literal["module", "cells"] = "module"
    notes: list[str] = field(default_factory=list)
    defined: set[str] = field(default_factory=set)
    imports: set[str] = field(default_factory=set)  # top-level packages the code imports
    error: str | None = None  # set when the submission cannot be run at all
    error_code: str | None = None  # e.g. "generic.python2_syntax"
    error_detail: str = ""  # what the hint of error_code fills in
    lines: dict[str, list[str]] = field(default_factory=dict)  # chunk name -> its lines, to quote errors

    def without(self, chunk: str) -> "Source":
        """The same code without the chunk named ``chunk`` (a notebook cell left out)."""
        keep = [i for i, (name, _) in enumerate(self.chunks) if name != chunk]
        compiled = [self.compiled[i] for i in keep] if len(self.compiled) == len(self.chunks) else list(self.compiled)
        return replace(self, chunks=[self.chunks[i] for i in keep], compiled=compiled, notes=list(self.notes))

    def quote(self, chunk: str, line: int) -> str:
        """The student's line ``line`` of ``chunk``, stripped, or '' when unknown."""
        lines = self.lines.get(chunk, [])
        return lines[line - 1].strip()[:160] if 0 < line <= len(lines) else ""
