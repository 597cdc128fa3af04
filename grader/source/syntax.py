"""Parse student code without running it: syntax errors in the student's terms, and what it defines."""

from __future__ import annotations

import ast
import re

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


def parse(code: str, name: str) -> ast.Module:
    """Parse ``code`` or raise StudentSyntaxError."""
    try:
        return ast.parse(code, filename=name)
    except SyntaxError as exc:
        line = exc.lineno or 0
        python2 = _python2_reason(code)
        where = f"{name}, line {line}"
        text = (exc.text or "").strip()[:120]
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


def defined_names(tree: ast.Module) -> set[str]:
    """Names bound at the top level: functions, classes, assignments and imports."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


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
