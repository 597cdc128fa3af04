"""Read one submission file, whatever it holds, into a Source: never raises for bad student input."""

from __future__ import annotations

import codecs
import hashlib
import json
import io
import marshal
import os
import stat
import tokenize
from pathlib import Path

from grader.source.exported import drop_ipython_calls
from grader.source.model import Source
from grader.source.notebook import NotebookError, read_cells
from grader.source.syntax import StudentSyntaxError, compile_chunk, defined_names, imported_modules

MAX_BYTES = {"py": 2 * 1024 * 1024, "ipynb": 32 * 1024 * 1024}
# a submission's file is opened without following a link, waiting on a FIFO or taking a terminal
OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NOCTTY | getattr(os, "O_NONBLOCK", 0)


def read_submission(path: str | Path, *, module: bool = False, name: str | None = None) -> Source:
    """Read a ``.py`` or ``.ipynb`` file; problems become ``Source.error`` in the student's terms.

    ``module``: the file is a module the submission imports (a helpers.py beside it), which may be empty, as
    Python allows, and must be Python code, not a notebook. ``name``: what its code is called (in errors, quotes
    and tracebacks) when not the file's name (``utils/helpers.py``, a module of a package).
    """
    path = Path(path)
    kind = "ipynb" if path.suffix.lower() == ".ipynb" else "py" if path.suffix.lower() == ".py" else "unknown"
    source = Source(path=str(path), kind=kind, sha256="")
    data = _read_bytes(path, source)
    if data is None:
        return source
    source.sha256 = hashlib.sha256(data).hexdigest()
    text = "" if module and not data.strip() else _decode(data, source)
    if text is None:
        return source
    if module and (kind == "ipynb" or _is_notebook_json(text)):
        _fail(source, f"{path.name} holds a Jupyter notebook, not Python code: a module that is imported must be a .py "
                      "file of Python code (in Jupyter: File > Download as > Python (.py))")
    elif kind == "ipynb":
        _load_notebook(text, source)
    elif _is_notebook_json(text):  # a notebook saved (or renamed) as .py: graded as the notebook it is
        source.notes.append(f"{path.name} holds a Jupyter notebook (JSON), not Python code: it was read as a "
                            "notebook; name it .ipynb")
        source.kind = "ipynb"
        _load_notebook(text, source)
    else:
        _load_module(text, name or path.name, source)
    return source


def _is_notebook_json(text: str) -> bool:
    """Whether a file's text is a notebook's JSON (an object with "nbformat", and "cells" or v3's "worksheets")."""
    if not text.lstrip().startswith("{") or '"nbformat"' not in text:
        return False
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return False
    return isinstance(data, dict) and "nbformat" in data and ("cells" in data or "worksheets" in data)


def _fail(source: Source, message: str, code: str | None = None, detail: str = "") -> None:
    source.error, source.error_code, source.error_detail = message, code, detail


def _read_bytes(path: Path, source: Source) -> bytes | None:
    """The file's bytes, refusing links, non-regular files and oversized files."""
    limit = MAX_BYTES["ipynb" if source.kind == "ipynb" else "py"]
    try:
        fd = os.open(path, OPEN_FLAGS)
    except OSError as exc:
        if path.is_symlink():
            _fail(source, "the submission is a symbolic link, not a file; it was not followed")
        else:
            _fail(source, f"the file could not be opened ({exc.strerror or exc.__class__.__name__})")
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            _fail(source, "the submission is not a regular file")
            return None
        if info.st_size > limit:
            _fail(source, f"the file is {info.st_size / 1e6:.1f} MB, larger than the {limit // (1024 * 1024)} MB allowed")
            return None
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(info.st_size + 1)  # a buffer of the file's size, not of the limit
            if len(data) > info.st_size:  # it grew since fstat (or /proc-like sizes): the rest, up to the limit
                data += f.read(limit + 1 - len(data))
        if len(data) > limit:
            _fail(source, "the file is larger than allowed")
            return None
        return data
    finally:
        os.close(fd)


def peek(path: str | Path, size: int) -> bytes:
    """At most the first ``size`` bytes of a regular file (not through a link, never waiting on a FIFO); b"" else."""
    try:
        fd = os.open(path, OPEN_FLAGS)
    except OSError:
        return b""
    try:
        info = os.fstat(fd)
        return os.read(fd, min(size, info.st_size)) if stat.S_ISREG(info.st_mode) else b""
    except OSError:
        return b""
    finally:
        os.close(fd)


UTF16_32 = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
            (codecs.BOM_UTF16_BE, "utf-16"))  # byte-order marks, UTF-32's first: FF FE 00 00 starts with FF FE


def _decode(data: bytes, source: Source) -> str | None:
    if not data.strip():
        _fail(source, "the file is empty")
        return None
    wide = next((name for bom, name in UTF16_32 if data.startswith(bom)), None)  # Windows's "Unicode" (PowerShell's >)
    if wide is not None:
        try:
            data = data.decode(wide).encode("utf-8")
        except UnicodeDecodeError:
            _fail(source, f"the file is not {wide.upper()} text, as its first bytes say it is; save it as UTF-8")
            return None
        source.notes.append(f"the file is saved as {wide.upper()}, and was read as such; UTF-8 is what every tool reads")
    if b"\x00" in data[:8192]:
        _fail(source, "the file is binary, not Python code or a notebook")
        return None
    encoding = _declared_encoding(data) if source.kind != "ipynb" else "utf-8-sig"  # a notebook is JSON: UTF-8
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        line = data[:getattr(exc, "start", 0)].count(b"\n") + 1
        named = "UTF-8 text" if encoding.startswith("utf-8") else f"{encoding} text, as its coding line says it is"
        _fail(source, f"the file is not {named} (line {line} cannot be read); save it as UTF-8")
        return None


def _declared_encoding(data: bytes) -> str:
    """The encoding a Python file declares in its first two lines (``# -*- coding: latin-1 -*-``, as Python reads
    it), else UTF-8 (with or without a byte-order mark)."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:  # an unknown encoding declared, or a BOM beside another one: read as UTF-8, which says why
        return "utf-8-sig"
    return "utf-8-sig" if encoding in ("utf-8", "utf-8-sig") else encoding


def _load_module(text: str, name: str, source: Source) -> None:
    if source.kind == "unknown":
        source.notes.append(f"{name} has neither a .py nor a .ipynb extension; it was read as Python")
    text, notes = drop_ipython_calls(text, name)
    source.notes.extend(notes)
    try:
        code = compile_chunk(text, name)
    except StudentSyntaxError as exc:
        _fail(source, exc.message, "generic.python2_syntax" if exc.python2 else None, exc.python2)
        return
    source.chunks = [(name, text)]
    source.compiled = [marshal.dumps(code)]
    source.lines[name] = text.splitlines()
    source.defined = defined_names(code)
    source.imports = imported_modules(text)
    source.mode = "module"


def _load_notebook(text: str, source: Source) -> None:
    try:
        cells, notes = read_cells(text)
    except NotebookError as exc:
        _fail(source, f"the notebook cannot be read: {exc}")
        return
    source.notes.extend(notes)
    source.mode = "cells"
    for name, code in cells:
        if not code.strip():
            continue
        try:
            compiled = compile_chunk(code, name)
        except StudentSyntaxError as exc:
            kind = "Python 2 code" if exc.python2 else "a syntax error"
            source.notes.append(f"{exc.message}; {name} has {kind} and was skipped")
            source.skipped[name] = code
            continue
        source.chunks.append((name, code))
        source.compiled.append(marshal.dumps(compiled))
        source.lines[name] = code.splitlines()
        source.defined |= defined_names(compiled)
        source.imports |= imported_modules(code)
    if not source.chunks:
        _fail(source, "the notebook has no code cell that can be run")
