"""The generic hints (HINTS.md, 'Any function'): codes, their words, and their rank."""

from __future__ import annotations

from grader.exercises.base import Exercise, Function

GENERIC: dict[str, str] = {
    "generic.missing_function": "{function} is not defined in the submission. It must be a top-level function "
    "with exactly this name (check the spelling, and that the cell defining it runs).",
    "generic.not_implemented": "{function} is not implemented yet: it still raises NotImplementedError or returns "
    "None, as the template's stub does.",
    "generic.exception": "{function} raised {error}.{start_here}",
    "generic.timeout": "{function} ran past its time limit ({limit:g} s per call). Look for a loop whose "
    "condition never becomes false, or work that grows much faster than the input.",
    "generic.wrong_type": "The result of {function} cannot be read as numbers ({detail}). {wanted}",
    "generic.shape_mismatch": "The result of {function} has the wrong shape: expected {expected}, got {got}. {axes}",
    "generic.transposed": "The result of {function} is the transpose of the right one: rows and columns are "
    "swapped. Check which index of the result runs over which quantity.",
    "generic.sign_flipped": "The result of {function} is the negative of the right one: a sign is flipped "
    "somewhere (for a loss, is it the negative log-likelihood you differentiated?).",
    "generic.scaled": "The result of {function} is {factor} times the right one: a constant factor is missing or "
    "extra. Check every factor of the loss (a 2 from a square, a 1/N from a mean) and of the chain rule.",
    "generic.nan_or_inf": "The result of {function} holds nan or inf where the right answer is finite{where}. "
    "An exponential overflows, or a log or a division meets 0: rewrite the computation so that it stays finite.",
    "generic.float32_precision": "The result of {function} is right only to single precision (about 7 digits): "
    "compute in float64, NumPy's default, not float32.",
    "generic.numerical_gradient": "The result of {function} is right only to about {precision:.0e}, the precision of "
    "finite differences: a numerical gradient where an analytic one was asked. Derive it with the chain rule; "
    "finite differences are for checking your answer, not for giving it.",
    "generic.mutates_input": "{function} changed its input {names} in place, so the caller's array is no longer "
    "what it passed. Compute into a new array instead of writing into the argument.",
    "generic.extra_singleton_axis": "{function} returns the right values with an extra axis of length 1 "
    "(shape {got} where {expected} was asked); it is scored as right, but return the shape asked for.",
    "generic.zeros": "The result of {function} is all zeros where the right answer is not: is a placeholder "
    "(np.zeros) from the template still returned?",
    "generic.python2_syntax": "The file does not parse because it is Python 2 code ({detail}); the grader runs "
    "Python 3: print is a function, print(x), and range replaces xrange.",
}

# Structural codes from the most to the least telling; specific (mutant) codes rank above all of them.
GENERIC_RANK = {code: i for i, code in enumerate(GENERIC)}


def generic_message(code: str, **fields) -> str:
    """The words of a generic hint, with its blanks filled in."""
    fields.setdefault("function", "the function")
    fields.setdefault("wanted", ARRAY_WANTED)
    fields.setdefault("start_here", START_HERE)
    fields.setdefault("axes", shape_advice(fields.get("expected"), fields.get("got")))
    try:
        return GENERIC[code].format(**fields)
    except (KeyError, IndexError, ValueError):
        return GENERIC[code]


def shape_advice(expected, got) -> str:
    """What to look at for a result of the wrong shape: an axis too few, one too many, or sizes that differ."""
    if isinstance(expected, (tuple, list)) and isinstance(got, (tuple, list)):
        if len(got) > len(expected):
            return ("Check which axis is which, and whether an axis is left over: a product or a sum the "
                    "result still needs.")
        if len(got) == len(expected):
            return "Check which axis is which, and the size of each."
    return "Check which axis is which, and whether a sum or a squeeze removed one."


ARRAY_WANTED = "Return a NumPy array (or a list) of floats."
START_HERE = " The line quoted is the last line of your own code that ran before the error: start from there."


def wanted(function: Function) -> str:
    """What the function must return, in the words of the wrong-type hint."""
    if function.returns == "dict":
        return f"Return a dict with the keys {', '.join(map(repr, function.keys))}, each a NumPy array of floats."
    if function.returns == "tuple":
        return f"Return the tuple ({', '.join(function.keys)}), each a NumPy array of floats."
    return ARRAY_WANTED


def rank(code: str, exercise: Exercise) -> tuple[int, int]:
    """Sort key: an exercise's own codes first, in catalogue order, then the generic ones."""
    own = exercise.codes()
    if code in own:
        return (0, own.index(code))
    return (1, GENERIC_RANK.get(code, len(GENERIC)))


EXAMPLE_DETAIL = {"generic.wrong_type": "a str: not an array of numbers",  # what a student's {detail} says
                  "generic.python2_syntax": "xrange"}


def all_hints(exercises: list[Exercise]) -> list[tuple[str, str, str]]:
    """Every hint code as (code, function, message), for ``grader hints`` and docs/hints.md."""
    rows = []
    seen = set()
    for exercise in exercises:
        for mutant in exercise.mutants:
            if (mutant.code, mutant.function) not in seen:
                seen.add((mutant.code, mutant.function))
                rows.append((mutant.code, mutant.function, mutant.message))
        for code, (function, message) in exercise.notes.items():
            rows.append((code, function, message))
    for code in GENERIC:
        rows.append((code, "any", generic_message(code, function="the function", error="an exception", limit=5,
                                                   detail=EXAMPLE_DETAIL.get(code, ""), expected="(K,)", got="(K, 1)",
                                                   factor="c", where="", precision=1e-9, names="z")))
    return rows


def hints_markdown(rows: list[tuple[str, str, str]]) -> str:
    """docs/hints.md: every code, the function it concerns, and its words."""
    lines = [
        "# Hint codes",
        "",
        "Generated by `grader hints --markdown`; a test checks that this file is up to date.",
        "The codes are the stable identifiers of ../shared/spec/HINTS.md; `{...}` is filled in per student.",
        "",
        "| code | function | message |",
        "|---|---|---|",
    ]
    bar = "\\|"
    lines += [f"| `{code}` | {function} | {message.replace('|', bar)} |" for code, function, message in rows]
    return "\n".join(lines) + "\n"
