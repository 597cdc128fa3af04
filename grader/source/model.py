"""A submission as code: named chunks (the file, or one per notebook cell) and what was noticed."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

Kind = Literal["py", "ipynb", "unknown"]


@dataclass(frozen=True)
class Module:
    """A module of the student's own that the code imports (a helpers.py handed in beside it), importable in the
    sandbox under its name, and run there when first imported."""

    name: str  # what the code imports: helpers
    label: str  # the file, as the report names it: helpers.py (its chunk's name, in errors and quotes)
    code: str
    compiled: bytes  # its code object, marshalled
    sha256: str


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
    stopped: dict[str, int] = field(default_factory=dict)  # a cell that raised as it ran -> the line it raised at
    skipped: dict[str, str] = field(default_factory=dict)  # a notebook cell left out for its syntax error -> its code
    modules: list[Module] = field(default_factory=list)  # the student's own modules it imports, handed in beside it
    module_name: str = ""  # the name its own file is imported by, beside those modules (softmax_gradients)

    def module_hashes(self) -> dict[str, str] | None:
        """The student's own modules run with the code, as the report names them: file -> sha256 (None: none)."""
        return {m.label: m.sha256 for m in self.modules if m.sha256} or None  # (not a package's missing __init__)

    def with_chunk(self, name: str, code: str | None, compiled: bytes | None) -> "Source":
        """The same code with the chunk ``name`` replaced by ``code``, compiled to ``compiled`` (a notebook cell
        cut short), or left out when ``code`` is None."""
        aligned = len(self.compiled) == len(self.chunks)  # else the sandbox compiles every chunk from its text
        chunks, codes = [], []
        for i, (chunk, text) in enumerate(self.chunks):
            if chunk != name:
                chunks.append((chunk, text))
                codes.append(self.compiled[i] if aligned else b"")
            elif code is not None:
                chunks.append((chunk, code))
                codes.append(compiled or b"")
        return replace(self, chunks=chunks, compiled=codes if aligned and all(codes) else [], notes=list(self.notes))

    def quote(self, chunk: str, line: int) -> str:
        """The student's line ``line`` of ``chunk``, stripped, or '' when unknown."""
        lines = self.lines.get(chunk, [])
        return lines[line - 1].strip()[:160] if 0 < line <= len(lines) else ""

    def compiled_chunks(self, chunk: str) -> list[bytes]:
        """The marshalled code objects of the chunks named ``chunk`` (a kernel's cell may give several: one per
        function it defines; a module of the student's own, its file's), none when there are none, or chunks and
        code disagree."""
        own = [m.compiled for m in self.modules if m.label == chunk and m.compiled]
        if own or len(self.compiled) != len(self.chunks):
            return own
        return [code for (name, _), code in zip(self.chunks, self.compiled) if name == chunk and code]
