"""A test's one-line message: how far off and where, in the student's terms."""

from __future__ import annotations

import difflib
import re

from grader.diagnosis.catalogue import generic_message
from grader.evaluation.check import CaseResult, CheckResult
from grader.sandbox.outcome import HUNG, StudentError
from grader.sandbox.pool import installed
from grader.source.model import Source
from grader.source.syntax import function_at, how_it_returns, rebound


def stuck_at(places: tuple[tuple[str, int], ...], source: Source | None) -> str:
    """' (it was at cell 3, line 5: `...`, called from cell 4, line 2: `...`)' for a run stopped at a time limit, or ''."""
    if source is not None:  # a line the file does not have is no place (the numbers come from the submission)
        places = tuple(p for p in places if source.quote(*p))
    if not places:
        return ""
    inner, *outer = places
    called = f", called from {place(outer[0], source)}" if outer else ""
    return f" (it was at {place(inner, source)}{called})"


def place(at: tuple[str, int] | None, source: Source | None, within: str | None = None) -> str:
    """'cell 3, line 5: `x = 1/0`' for a (file or cell, line) of the student's code, or ''; with ', in f' when
    the line lies in a function f of the student's other than ``within``."""
    if at is None:
        return ""
    chunk, line = at
    text = source.quote(chunk, line) if source else ""
    owner = function_of_line(source, chunk, line) if source and within else None
    where = f", in {owner}" if owner and owner != within else ""
    return f"{chunk}, line {line}{where}" + (f": `{text}`" if text else "")


def given_away(source: Source | None, function: str) -> tuple[str, int] | None:
    """Where the student's top-level code gives a function's name to something else after defining it, if it does."""
    if source is None or function not in source.defined:
        return None
    return rebound(source.chunks, function, source.stopped)


def missing_message(source: Source | None, function: str, others: tuple[str, ...] = ()) -> str:
    """The words of the missing-function hint for this submission: the notebook cell that defines the function
    but was skipped for its syntax error, or stopped by an error before its def; else a defined name close to it (a misspelling; not one of ``others``,
    the assignment's other functions); else the catalogue's."""
    if source is not None:
        defining = re.compile(rf"^[ \t]*(?:async[ \t]+)?def[ \t]+{re.escape(function)}\b", re.MULTILINE)
        cell = next((name for name, code in source.skipped.items() if defining.search(code)), None)
        if cell is not None:
            return (f"{function} is not defined: {cell}, which defines it, has a syntax error, so it was skipped "
                    "(the note at the top says where). Fix that cell and run it.")
        stopped = next(((name, line) for name, code in source.chunks if name in source.stopped
                        and (line := source.stopped[name]) and (found := defining.search(code))
                        and code[:found.start()].count("\n") + 1 > line), None)
        if stopped is not None:
            return (f"{function} is not defined: {stopped[0]} defines it after line {stopped[1]}, where the cell "
                    "raised an error as it ran (the note at the top says which), so the rest of the cell, its def "
                    "too, did not run. Fix that line, or move it to a cell of its own.")
        close = difflib.get_close_matches(function, sorted(source.defined - set(others)), n=1, cutoff=0.8)
        if close:
            return (f"{function} is not defined in the submission, but {close[0]} is: the tests call the function "
                    f"by the name {function}, so check its spelling.")
        if source.kind == "py":
            return (f"{function} is not defined in the submission. It must be a top-level function with exactly "
                    "this name (check the spelling, and that it is defined at the top level of the file, not inside "
                    "another function).")
    return generic_message("generic.missing_function", function=function)


def function_of_line(source: Source, chunk: str, line: int) -> str | None:
    """The student's function whose code holds ``line`` of ``chunk`` (None for top-level code, or unknown)."""
    return next((f for code in source.compiled_chunks(chunk) if (f := function_at(code, line))), None)


LIMIT_WORDS = (  # (exception type or message fragment, what the student is told)
    ("MemoryError", "it hit the memory limit of the sandbox"),
    ("[Errno 11]", "it hit the limit on the number of processes"),
    ("[Errno 28]", "it filled the sandbox's private disk space"),
    ("[Errno 27]", "it hit the file size limit"),
    ("[Errno 30]", "files outside the sandbox's /tmp are read-only"),
    ("[Errno 24]", "it hit the limit on open files"),
    ("[Errno 101]", "the sandbox has no network"),
    ("[Errno 13]", "the sandbox does not let it read or write there"),
)


def limit_hit(error: StudentError, source: Source | None = None) -> str:
    """Which sandbox limit an exception comes from, in plain words ('' when none); or, for an import of a package
    that this Python does not have, what the student is told."""
    for fragment, words in LIMIT_WORDS:
        if error.type == fragment or fragment in error.message:
            return words
    package = missing_package(error, source)
    if package is None:
        return ""
    return (f"{package} is not installed where the grader runs: if it only draws or prints, leave it out of the file "
            'you hand in, or put that code under `if __name__ == "__main__":`, which runs when you run the file, '
            f"not when it is graded; if it is a module of your own ({package}.py, or a folder {package}/), hand it in "
            "beside this one")


OUTSIDE_GRADING = ('take it out of the code that is graded (under `if __name__ == "__main__":` it runs when you run the '
                   "file yourself, not when it is graded)")
STOPS = {  # (exception type, message fragment) -> what the student is told of it at the top level of a .py file, in a
    # notebook's cell, and in a function: code that works only with a person there
    ("SystemExit", ""): (
        "sys.exit() (or exit(), quit()) ends the file's run, before any of its functions can be graded: " + OUTSIDE_GRADING,
        "sys.exit() (or exit(), quit()) stops the cell there (the rest of it did not run); take it out",
        "sys.exit() (or exit(), quit()) in a function stops the whole program: return the result, or raise an exception"),
    ("EOFError", "when reading a line"): (
        "input() waits for someone to type, and nobody types when the code is graded: " + OUTSIDE_GRADING,
        "input() waits for someone to type, and nobody types when the notebook is graded (the rest of the cell did "
        "not run); take it out, or give the value in the code",
        "input() waits for someone to type, and nobody types when the code is graded: a function gets what it needs "
        "as its arguments"),
}


def needs_a_person(error: StudentError, source: Source | None, in_function: bool) -> str:
    """What the student is told of code that cannot run unattended (input(), sys.exit()), at the top level of a
    file, in a notebook's cell, or in a function it called; '' for another error."""
    in_module = source is not None and error.where is not None and error.where[0] in {m.label for m in source.modules}
    place = 2 if in_function else 1 if source is not None and source.mode == "cells" and not in_module else 0
    return next((words[place] for (kind, fragment), words in STOPS.items()
                 if error.type == kind and fragment in error.message), "")


_NO_MODULE = re.compile(r"^No module named '([A-Za-z_]\w*)[\w.]*'$")


def missing_package(error: StudentError | None, source: Source | None) -> str | None:
    """The package an error says is missing, when the student's code imports it (as the grader reads the code,
    not as the error says) and the grader's Python has it not; else None."""
    if error is None or source is None or error.type != "ModuleNotFoundError":
        return None
    match = _NO_MODULE.match(error.message)
    if match is None or match.group(1) not in source.imports or installed(match.group(1)) \
            or match.group(1) == source.module_name \
            or match.group(1) in {m.name.split(".")[0] for m in source.modules}:  # the graded notebook, or theirs
        return None
    return match.group(1)


_ELSEWHERE = re.compile(r" \(/[^()]*\.py\)")  # where an ImportError found a module not the student's: the grader's own
# files, its Python's (" (/usr/lib/python3.12/statistics.py)"), which say nothing to the student


def describe_error(error: StudentError | None, source: Source | None, within: str | None = None,
                   case: str = "") -> str:
    """'ZeroDivisionError: division by zero (cell 3, line 5: `x = 1/0`)', and the limit it hit, if any.

    ``within``: the function called; a line in another of the student's functions (one it calls) is said to be
    there: '(student.py, line 63, in softmax_jacobian: ...)'. ``case``: the case it was called on, said before
    what to do about the error.
    """
    if error is None:
        return "an error" + (f" on case {case}" if case else "")
    message = _ELSEWHERE.sub("", error.message)
    text = f"{error.type}: {message}" if message else error.type
    at = place(error.where, source, within)  # the innermost student frame
    text = (f"{text} ({at})" if at else text) + (f" on case {case}" if case else "")
    limit = limit_hit(error, source) or needs_a_person(error, source, within is not None)
    return f"{text}: {limit}" if limit else text


def _first(result: CheckResult, states: set[str]) -> CaseResult | None:
    return next((c for c in result.cases if c.state in states), None)


def _index(worst: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(i) for i in worst) + "]"


def _first_wrong_step(comp) -> str:
    """Where in time a (T, n) result first goes wrong, counting back from t = T (steps are 1-based)."""
    T = comp.expected_shape[0]
    wrong_rows = comp.wrong_rows
    if not wrong_rows or T == 1:
        return ""
    last = max(wrong_rows) + 1  # the book's t of the latest wrong row
    if last == T:
        return f"; already wrong at the last step t = T = {T}"
    return f"; right at t = T = {T} back to t = {last + 1}, first wrong at t = {last} (counting back from T)"


def returned_none(result: CheckResult, source: Source | None) -> str:
    """Why a function that is no template stub returned None, in a few words ('' for a stub, or when its code
    is not at hand): a written function that returns nothing is not 'not implemented'."""
    case = next((c for c in result.cases if c.state == "not_implemented" and not (c.call and c.call.error)), None)
    if case is None or source is None:
        return ""
    function = result.check.function
    how = how_it_returns(source.chunks, function)
    if how == "no return":
        return f"it returned None: {function} has no `return` of its result, and a result printed or left in a variable is lost"
    if how == "falls off":
        return f"it returned None on case {case.case.name}: a path through {function} ends without a `return`"
    if how == "returns":  # every path returns: what it returned was None
        return (f"it returned None on case {case.case.name}: a `return` of {function} gave None, as a call that "
                "works in place does (.sort(), np.copyto) or a helper of its own with no `return`")
    return ""


def _telling(wrong: list[CaseResult]) -> CaseResult:
    """The wrong case the message is about: a wrong shape first, then nan or inf, as the hints go (so that both
    speak of the same case); else the first."""
    for verdict in ("shape", "nonfinite"):
        if (c := next((w for w in wrong if w.comparison.verdict == verdict), None)) is not None:
            return c
    return wrong[0]


def right_on_all(n: int) -> str:
    """'right on all 3 cases', 'right on both cases', 'right on its one case'."""
    return {1: "right on its one case", 2: "right on both cases"}.get(n, f"right on all {n} cases")


def test_message(result: CheckResult, source: Source | None, call_s: float, expected: list | None = None,
                 time_keys: tuple[str, ...] = ()) -> str:
    """The message of a test: what is wrong on which case, how far off, and where.

    ``expected`` (public tests only) lets the message quote the right value at the worst index.
    """
    n = len(result.cases)
    check = result.check
    status = result.status
    if status == "passed":
        return right_on_all(n)
    if (c := _first(result, {"missing"})) is not None:
        if (at := given_away(source, check.function)) is not None:
            return f"{check.function} is defined, then {place(at, source)} gives its name to something else"
        return f"{check.function} is not defined in the submission"
    if (c := _first(result, {"timeout"})) is not None:
        hung = next((h for h in result.cases if h.state == "timeout" and h.problem == HUNG), None)
        if hung is not None:
            return f"ran past the time limit of {call_s:g} s per call on case {hung.case.name}{stuck_at(hung.call.stuck_at, source)}"
        if c.problem.startswith("not run"):  # skipped after two calls of the function hung, in another test
            return f"not run: earlier calls of {check.function} ran past the time limit of {call_s:g} s per call"
        return f"case {c.case.name}: {c.problem}"  # the submission's whole time ran out
    if (c := _first(result, {"not_implemented"})) is not None:
        if c.call and c.call.error:
            return "not implemented yet: it raises NotImplementedError"
        return returned_none(result, source) or f"not implemented yet: it {c.problem or 'returned None'}"
    if (c := _first(result, {"exception"})) is not None:
        return f"raised {describe_error(c.call.error, source, check.function, c.case.name)}"
    if (c := _first(result, {"crash"})) is not None:
        return f"case {c.case.name}: {c.problem}"
    if (c := _first(result, {"unreadable"})) is not None:
        return f"the result cannot be read as numbers on case {c.case.name}: {c.problem}"
    wrong = [c for c in result.cases if c.state != "right"]
    c = _telling(wrong)
    comp = c.comparison
    if comp.verdict == "shape":
        return f"wrong shape on case {c.case.name}: expected {comp.expected_shape}, got {comp.actual_shape}"
    count = f"wrong on {len(wrong)} of {n} cases"
    if comp.verdict == "nonfinite":
        return f"{count}: nan or inf in {comp.nonfinite} of {comp.total} entries on case {c.case.name}, where the right values are finite"
    text = f"{count}: on case {c.case.name}, max abs error {comp.max_abs:.3g} at index {_index(comp.worst)}"
    if expected is not None and c.actual is not None:  # the values at that index, before the relative error of any
        got, right = float(c.actual[comp.worst]), float(expected[result.cases.index(c)][comp.worst])
        digits = 6 if f"{got:.6g}" != f"{right:.6g}" else 15
        text += f" (got {got:.{digits}g}, expected {right:.{digits}g})"
    text += f", max relative error {comp.max_rel:.3g} (over all entries)"
    if comp.actual_shape and result.check.key in time_keys:
        text += _first_wrong_step(comp)
    return text
