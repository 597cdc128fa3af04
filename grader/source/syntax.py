"""Parse student code without running it: syntax errors in the student's terms, and what it defines."""

from __future__ import annotations

import ast
import dis
import functools
import inspect
import marshal
import re
import sys
import types
import warnings

PY2_PATTERNS = (
    (re.compile(r"^\s*print\s+[^\s(=]"), "print without parentheses (print x)"),
    (re.compile(r"\bxrange\s*\("), "xrange"),
    (re.compile(r"^\s*except\s+[\w.]+\s*,\s*\w+\s*:"), "except E, e"),
    (re.compile(r"^\s*exec\s+['\"]"), "exec as a statement"),
    (re.compile(r"\bur['\"]"), "ur'' strings"),
)


class StudentSyntaxError(Exception):
    """The code does not parse; ``message`` says why in the student's terms."""

    def __init__(self, message: str, line: int, python2: str) -> None:
        super().__init__(message)
        self.message, self.line, self.python2 = message, line, python2  # python2: what gives it away, or 


def compile_chunk(code: str, name: str) -> types.CodeType:
    """Compile ``code`` (as the sandbox would run it) or raise StudentSyntaxError.

    The code object is what the sandbox runs, sent marshalled: it is compiled once, here.
    Its warnings (``x is 1``, say) are the student's business, not the grader's terminal's.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return compile(code, name, "exec", dont_inherit=True, optimize=0)
    except SyntaxError as exc:
        line = exc.lineno or 0
        python2 = _python2_reason(code)
        where = f"{name}, line {line}"
        lines = code.splitlines()
        text = (exc.text or (lines[line - 1] if 0 < line <= len(lines) else "")).strip()[:120]  # the compiler's own errors give none
        if python2:
            message = f"{where}: this is Python 2 code ({python2}); the grader runs Python 3"
        else:
            message = f"{where}: syntax error: {exc.msg}" + (f": {text}" if text else "")
        raise StudentSyntaxError(message, line, python2) from None
    except (ValueError, RecursionError, MemoryError, OverflowError) as exc:
        raise StudentSyntaxError(f"{name}: the code cannot be parsed ({exc.__class__.__name__})", 0, "") from None


def _python2_reason(code: str) -> str:
    for line in code.splitlines():
        for pattern, reason in PY2_PATTERNS:
            if pattern.search(line):
                return reason
    return ""


_OP = {name: dis.opmap[name] for name in ("STORE_NAME", "LOAD_GLOBAL", "LOAD_NAME", "EXTENDED_ARG")}
_GLOBAL_SHIFT = 1 if sys.version_info >= (3, 11) else 0  # LOAD_GLOBAL's low bit says whether NULL is pushed too


def _instructions(code: types.CodeType):
    """(opcode, argument) of each instruction of one code object, read off its bytes, far faster than ``dis``:
    two bytes an instruction (inline caches being instructions of their own), an argument over 255 prefixed
    by EXTENDED_ARG."""
    raw, extended = code.co_code, 0
    for i in range(0, len(raw), 2):
        op, arg = raw[i], raw[i + 1] | extended
        extended = arg << 8 if op == _OP["EXTENDED_ARG"] else 0
        yield op, arg


def defined_names(code: types.CodeType) -> set[str]:
    """Names the module's top-level code binds: functions, classes, assignments and imports (``np``, ``scipy``)."""
    return {code.co_names[arg] for op, arg in _instructions(code) if op == _OP["STORE_NAME"]}


@functools.lru_cache(maxsize=8)  # a submission's hints parse its chunks again and again
def _parsed(code: str) -> ast.Module | None:
    """The syntax tree of ``code``, or None when it does not parse (here, whatever the sandbox made of it)."""
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def statements_before(code: str, line: int) -> tuple[str, int] | None:
    """The text of the top-level statements of ``code`` before the one that holds line ``line``, and the line
    where that one starts (its first decorator's); None when no top-level statement holds that line."""
    tree = _parsed(code)
    for statement in tree.body if tree is not None else ():
        start = min([statement.lineno] + [d.lineno for d in getattr(statement, "decorator_list", [])])
        if start <= line <= (statement.end_lineno or statement.lineno):
            return "".join(code.splitlines(keepends=True)[: start - 1]), start
    return None


def _last_definition(chunks: list[tuple[str, str]], function: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The last top-level ``def function`` of the chunks, in their order (None when there is none)."""
    found = None
    for tree in filter(None, (_parsed(code) for _, code in chunks)):
        found = next((s for s in reversed(tree.body) if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))
                      and s.name == function), found)
    return found


IN_PLACE_METHODS = {"sort", "fill", "resize", "put", "partition", "itemset", "setflags"}


def writes_into(chunks: list[tuple[str, str]], function: str) -> set[str]:
    """The parameters that the top-level ``function`` writes into itself, in its own statements (``z -= m``,
    ``z[i] = v``, ``z.sort()``, ``out=z``, ``np.copyto(z, ...)``), not counting what the functions it calls do."""
    found = _last_definition(chunks, function)
    if found is None:
        return set()
    params = {a.arg for a in [*found.args.posonlyargs, *found.args.args, *found.args.kwonlyargs]}
    written: set[str] = set()
    for node in _own_nodes(found.body):
        targets = []
        if isinstance(node, ast.AugAssign):
            targets = [node.target]
        elif isinstance(node, ast.Assign):
            targets = [t for t in node.targets if isinstance(t, (ast.Subscript, ast.Attribute))]
        elif isinstance(node, ast.Call):
            targets = [k.value for k in node.keywords if k.arg == "out"]
            if isinstance(node.func, ast.Attribute) and node.func.attr in IN_PLACE_METHODS:
                targets.append(node.func.value)
            if isinstance(node.func, ast.Attribute) and node.func.attr == "copyto" and node.args:
                targets.append(node.args[0])
        for target in targets:
            while isinstance(target, (ast.Subscript, ast.Attribute)):
                target = target.value
            if isinstance(target, ast.Name) and target.id in params:
                written.add(target.id)
    return written


def reads_after_calling(chunks: list[tuple[str, str]], function: str, callee: str, names: set[str]) -> bool:
    """Whether the top-level ``function`` reads one of ``names`` on a line after its first call of ``callee``
    (a backward pass that hands h0 to its forward pass, then reads h0 again)."""
    found = _last_definition(chunks, function)
    if found is None:
        return False
    loads = [(n.lineno, n.id) for n in _own_nodes(found.body) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)]
    called = min((line for line, name in loads if name == callee), default=None)
    return called is not None and any(line > called and name in names for line, name in loads)


def _own_nodes(body: list[ast.stmt]):
    """Every node of ``body``, not going into the functions, lambdas and classes it defines."""
    todo = list(body)
    while todo:
        node = todo.pop()
        yield node
        todo.extend(child for child in ast.iter_child_nodes(node) if not isinstance(child, _DEFINITIONS))


_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)  # code of their own, not the body's


def how_it_returns(chunks: list[tuple[str, str]], function: str) -> str:
    """How the top-level function ``function`` (its last definition) returns, read from its text:
    ``"stub"`` (its body only passes or raises NotImplementedError, as a template's stub), ``"no return"``
    (written, but no ``return`` of a value anywhere in it), ``"falls off"`` (it returns a value, but some
    path through it can reach its end), ``"returns"``, or ``""`` when it is not found."""
    found = _last_definition(chunks, function)
    if found is None:
        return ""
    body = found.body[1:] if _is_docstring(found.body[0]) else found.body
    if _is_stub(found):
        return "stub"
    if not any(isinstance(node, ast.Return) and not _is_none(node.value) for node in _own_nodes(body)):
        return "no return"
    return "falls off" if _falls_off(body) else "returns"


def _falls_off(body: list[ast.stmt]) -> bool:
    """Whether running ``body`` can reach its end (without a return or a raise): told from its last
    statement, branch by branch; a loop or a ``try`` may always end."""
    if not body:
        return True
    last = body[-1]
    if isinstance(last, (ast.Return, ast.Raise)):
        return False
    if isinstance(last, ast.If):
        return _falls_off(last.body) or _falls_off(last.orelse)
    if isinstance(last, (ast.With, ast.AsyncWith)):
        return _falls_off(last.body)
    if isinstance(last, ast.While) and isinstance(last.test, ast.Constant) and last.test.value is True:
        return any(isinstance(node, ast.Break) for node in ast.walk(last))
    return True


def _is_stub(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether a function's body (but for its docstring) only passes or raises NotImplementedError, as a stub."""
    body = function.body[1:] if _is_docstring(function.body[0]) else function.body
    return all(_is_placeholder(statement) for statement in body)


def _is_docstring(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant) \
        and isinstance(statement.value.value, str)


def _is_placeholder(statement: ast.stmt) -> bool:
    """``pass``, ``...``, ``return`` or ``return None``, or ``raise NotImplementedError(...)``."""
    if isinstance(statement, ast.Pass) or isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
        return True
    if isinstance(statement, ast.Return):
        return _is_none(statement.value)
    if isinstance(statement, ast.Raise) and statement.exc is not None:
        raised = statement.exc.func if isinstance(statement.exc, ast.Call) else statement.exc
        return isinstance(raised, ast.Name) and raised.id == "NotImplementedError"
    return False


def _is_none(value: ast.expr | None) -> bool:
    """What a bare ``return`` or a ``return None`` returns."""
    return value is None or isinstance(value, ast.Constant) and value.value is None


def names_used_by(compiled: list[bytes], function: str) -> set[str]:
    """The global names that the top-level function ``function`` reads (in what it nests too): the
    functions it calls among them, not attributes (``special.softmax``) nor the names it imports.

    Its last definition counts, as when the code runs. Read from the chunks' code objects, which the
    grader compiled itself (never from the student's process).
    """
    return set(_global_names(tuple(compiled), function))


def first_read(compiled: list[bytes], function: str, name: str) -> int | None:
    """The first line on which the top-level ``function`` reads the global ``name`` (None when it never does)."""
    code = _top_level_functions(tuple(compiled)).get(function)
    return min((line for read, line in _global_reads(code) if read == name and line), default=None) if code else None


@functools.lru_cache(maxsize=128)  # a submission's hints ask again and again, of the same few functions
def _global_names(compiled: tuple[bytes, ...], function: str) -> frozenset[str]:
    last = _top_level_functions(compiled).get(function)
    return frozenset() if last is None else globals_read_by(last)


def globals_read_by(code: types.CodeType) -> frozenset[str]:
    """The global names a code object reads, in it and in the code it nests (not attributes: ``sp.softmax``)."""
    return frozenset(name for inner in (code, *_nested(code)) for name in _globals_in(inner))


def _globals_in(code: types.CodeType):
    """The global names one code object reads (what :func:`_global_reads` finds, without lines)."""
    for op, arg in _instructions(code):
        if op == _OP["LOAD_GLOBAL"]:
            yield code.co_names[arg >> _GLOBAL_SHIFT]
        elif op == _OP["LOAD_NAME"]:
            yield code.co_names[arg]


@functools.lru_cache(maxsize=4)
def _top_level_functions(compiled: tuple[bytes, ...]) -> dict[str, types.CodeType]:
    """The code of each function defined at the top level of the chunks, by name (the last definition)."""
    found: dict[str, types.CodeType] = {}
    for chunk in compiled:
        for const in marshal.loads(chunk).co_consts:
            if isinstance(const, types.CodeType):
                found[const.co_name] = const
    return found


def function_at(compiled: bytes, line: int) -> str | None:
    """The top-level function (a ``def``, not a class or a lambda) of a chunk whose code holds ``line`` (None when
    the line is top-level code)."""
    return _owners(compiled).get(line)


@functools.lru_cache(maxsize=4)
def _owners(compiled: bytes) -> dict[int, str]:
    """Each line of a chunk's top-level functions, and the function it lies in (read once per chunk)."""
    owners: dict[int, str] = {}
    for const in marshal.loads(compiled).co_consts:
        if isinstance(const, types.CodeType) and const.co_flags & inspect.CO_NEWLOCALS and not const.co_name.startswith("<"):
            for inner in (const, *_nested(const)):
                owners.update((at, const.co_name) for _, _, at in inner.co_lines() if at is not None)
    return owners


SINGLE_PRECISION = {"float32", "single", "float16", "half", "complex64", "csingle", "f4", "<f4", "f2", "<f2"}
NOT_A_DTYPE_USE = {"finfo", "iinfo"}  # np.finfo(np.float32).eps names float32 to read a constant, not to compute in it


def uses_single_precision(chunks: list[tuple[str, str]], compiled: list[bytes], function: str) -> bool:
    """Whether ``function``, or a function of the student's that it calls (however deep), computes in a single-
    or half-precision type: ``np.float32``, ``dtype="float32"``, ``astype("f4")``; not ``np.finfo(np.float32)``
    nor a comparison (``x.dtype == np.float32``). The types are read from the functions' syntax, the functions
    called from their code's global reads (not ``Helpers.softmax``, an attribute of the same name)."""
    if not any(word in code for _, code in chunks for word in SINGLE_PRECISION):  # most code: no need to parse it
        return False
    todo, seen = [function], set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        found = _last_definition(chunks, name)
        if found is None:
            continue
        if _names_single_precision(found):
            return True
        todo += list(_global_names(tuple(compiled), name))
    return False


def _names_single_precision(node: ast.AST) -> bool:
    if isinstance(node, ast.Compare) or isinstance(node, ast.Call) and _called_name(node) in NOT_A_DTYPE_USE:
        return False
    if (isinstance(node, ast.Attribute) and node.attr in SINGLE_PRECISION or isinstance(node, ast.Name)
            and node.id in SINGLE_PRECISION or isinstance(node, ast.Constant) and node.value in SINGLE_PRECISION):
        return True
    return any(_names_single_precision(child) for child in ast.iter_child_nodes(node))


def _called_name(call: ast.Call) -> str | None:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None


def globals_read_at(compiled: bytes, line: int) -> set[str]:
    """The global names that the code on line ``line`` of a chunk reads (the functions it calls among them),
    from the chunk's code object: not a name in a string, a comment or an attribute (``special.softmax``)."""
    return set(_reads_by_line(compiled).get(line, ()))


@functools.lru_cache(maxsize=4)
def _reads_by_line(compiled: bytes) -> dict[int, set[str]]:
    """The global names read on each line of a chunk (read once per chunk, not once per test that asks)."""
    lines: dict[int, set[str]] = {}
    for name, at in _global_reads(marshal.loads(compiled)):
        lines.setdefault(at, set()).add(name)
    return lines


def forget() -> None:
    """Drop what was read of a submission's code (the caches above hold its code objects): called once it is
    graded, so that a grading process holds no earlier submission's code."""
    for cached in (_parsed, _top_level_functions, _global_names, _owners, _reads_by_line):
        cached.cache_clear()


_GLOBAL_READS = {"LOAD_GLOBAL", "LOAD_NAME"}


def _global_reads(code: types.CodeType):
    """(name, line) of each global name that ``code`` reads, in it and in the code it nests."""
    for inner in (code, *_nested(code)):
        for ins in dis.get_instructions(inner):
            if ins.opname in _GLOBAL_READS:
                yield ins.argval, ins.positions.lineno if ins.positions is not None else None


def _nested(code: types.CodeType):
    """The code objects defined inside ``code`` (functions, lambdas, comprehensions), depth first."""
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield const
            yield from _nested(const)


IMPORT_LINE = re.compile(r"^[ \t]*(?:from[ \t]+([A-Za-z_]\w*)[\w.]*[ \t]+import\b|import[ \t]+([A-Za-z_][\w.]*(?:[ \t]*,[ \t]*[A-Za-z_][\w.]*)*))", re.M)


def imported_modules(code: str) -> set[str]:
    """The top-level packages the code imports, anywhere in it (``scipy`` for ``from scipy.special import x``).

    Read from the text, not the tree (walking every node of a long file costs milliseconds):
    an import inside a string may count too, which only loads a module the code does not use.
    """
    found: set[str] = set()
    for match in IMPORT_LINE.finditer(code):
        if match.group(1):
            found.add(match.group(1))
        else:
            found.update(name.strip().split(".")[0] for name in match.group(2).split(","))
    return found


def written_functions(texts: list[str]) -> set[str]:
    """The top-level functions that ``texts`` (a file, or a notebook's cells) define with a body of their own, not
    a stub (see ``how_it_returns``). A text that does not parse defines none."""
    return {node.name for tree in filter(None, map(_parsed, texts)) for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not _is_stub(node)}


def rebound(chunks: list[tuple[str, str]], name: str, stopped: dict[str, int] | None = None) -> tuple[str, int] | None:
    """Where the top-level code, run in order (a file, or a notebook's cells), gives ``name`` to something other
    than the function it defined before (``softmax = softmax(z)`` in a scratch cell, ``del softmax``), last: the
    chunk and line; None when no statement does so after a definition, or the last to bind it defines it.
    ``stopped``: the line where a chunk raised, for a notebook's cells that did (what comes at or after it
    never ran)."""
    last, defined = None, False
    for chunk, text in chunks:
        tree = _parsed(text)
        end = (stopped or {}).get(chunk)
        for statement in _top_level(tree.body if tree is not None else []):
            if end is not None and statement.lineno >= end:
                continue
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                if statement.name == name:
                    last, defined = None, True
            elif defined and name in _bound_by(statement):
                last = (chunk, statement.lineno)
    return last


def _top_level(body: list[ast.stmt]):
    """The statements of a module's body, and of the blocks in it (if, for, while, with, try), not of its functions."""
    for statement in body:
        yield statement
        if not isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for field in ("body", "orelse", "finalbody"):
                yield from _top_level(getattr(statement, field, None) or [])
            for handler in getattr(statement, "handlers", None) or []:
                yield from _top_level(handler.body)


def _bound_by(statement: ast.stmt) -> set[str]:
    """The names a (non-definition) statement binds or deletes, itself (not in its blocks)."""
    if isinstance(statement, ast.Assign):
        targets = statement.targets
    elif isinstance(statement, (ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor)):
        targets = [statement.target]
    elif isinstance(statement, ast.Delete):
        targets = statement.targets
    elif isinstance(statement, (ast.With, ast.AsyncWith)):
        targets = [item.optional_vars for item in statement.items if item.optional_vars is not None]
    elif isinstance(statement, (ast.Import, ast.ImportFrom)):
        return {(alias.asname or alias.name).split(".")[0] for alias in statement.names}
    else:
        return set()
    return {name for target in targets for name in _names_of(target)}


def _names_of(target: ast.expr) -> set[str]:
    """The names a target binds: a name, or those of a tuple or list of targets (not ``f.x = ...``, ``d[f] = ...``)."""
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, ast.Starred):
        return _names_of(target.value)
    if isinstance(target, (ast.Tuple, ast.List)):
        return {name for element in target.elts for name in _names_of(element)}
    return set()
