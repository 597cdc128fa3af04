"""``grader.check()``: the public tests on the functions defined in the caller's kernel; no sandbox, no reference.

The functions are called in this process (``runner.py``); everything after the calls is
``grader check``'s own grading (``grader.grading.grade_source``), on the public answers
shipped with the grader, so the report, its hints and its words are the same.
"""

from __future__ import annotations

import types
from pathlib import Path

from grader import exercises
from grader.errors import GraderError
from grader.evaluation.answers import load_public_answers
from grader.exercises.base import Exercise
from grader.grading import Grading, Plan, grade_source, grader_failure
from grader.kernel.outcome import CheckOutcome
from grader.kernel.runner import KernelRunner
from grader.kernel.source import kernel_source, student_files
from grader.sandbox.limits import Limits
from grader.sandbox.pool import Launcher
from grader.source.syntax import globals_read_by

IN_KERNEL = Launcher(name="none", note="grader.check() called the functions in the notebook's own kernel, not in a sandbox")


def check(function=None, *, assignment: str | None = None, namespace: dict, call_s: float | None = None) -> CheckOutcome:
    """Run the public tests of ``function`` (a name, or the function itself; None: every function) on ``namespace``."""
    if callable(function):
        function = getattr(function, "__name__", function)
    try:
        exercise = choose_exercise(function, assignment, namespace)
        answers = load_public_answers(exercise)
    except GraderError as exc:
        return CheckOutcome(problem=str(exc))
    public = exercise.checks_for({"public"})
    limits = Limits(call_s=call_s or Limits().call_s)

    def run(functions: set[str] | None):
        checks = tuple(c for c in public if functions is None or c.function in functions)
        grading = Grading(Plan.build(exercise, checks), answers, limits, IN_KERNEL)
        files = student_files(namespace, {c.function for c in checks})
        source = kernel_source(namespace, files)
        runner = KernelRunner(namespace, limits.call_s, files)
        student = Path(source.path).stem if source.kind != "unknown" else "notebook"
        try:
            report = grade_source(source, student, grading, runner)
        except Exception as exc:  # noqa: BLE001 - a bug of the grader's own is reported, as in a batch
            report = grader_failure(source, student, grading, exc)
        return checks, runner, report

    # one function's check runs the public tests of the functions it calls first: those that fail are checked with
    # it, so that its results are told apart from theirs (a right gradient built on a wrong Jacobian)
    callees = _callees(function, exercise, namespace) if function is not None else []
    wrong = []
    if callees:
        _, _, first = run(set(callees))
        wrong = [f for f in callees if any(t.function == f and t.status != "passed" for t in first.tests)]
    checks, runner, report = run(None if function is None else {function, *wrong})
    if wrong:
        one = len(wrong) == 1
        report.notes.append(f"{', '.join(wrong)}, which {function} calls, fail{'s' * one} {'its' if one else 'their'} "
                            f"own tests, shown here too: a mistake there shows in {function}'s results")
    missing = [f for f in dict.fromkeys(c.function for c in checks) if not callable(namespace.get(f))]
    if missing:
        report.notes.append(_not_defined(missing, namespace))
    report.grader.limits = {"call_s": limits.call_s} if runner.enforced else {}
    return CheckOutcome(report)


def _callees(function: str, exercise: Exercise, namespace: dict) -> list[str]:
    """The assignment's other functions that the kernel's ``function`` calls, directly or through one another
    (the global names their code reads, not an attribute's: ``sp.softmax(z)`` is not the kernel's softmax), in the
    assignment's order."""
    names = set(_names(exercise))
    found: set[str] = set()
    todo = [function]
    while todo:
        code = getattr(namespace.get(todo.pop()), "__code__", None)
        for name in globals_read_by(code) if isinstance(code, types.CodeType) else ():
            if name in names and name != function and name not in found and callable(namespace.get(name)):
                found.add(name)
                todo.append(name)
    return [name for name in _names(exercise) if name in found]


def choose_exercise(function: str | None, assignment: str | None, namespace: dict) -> Exercise:
    """The assignment named, else the one ``function`` belongs to, else the one the kernel defines most of."""
    if function is not None and not isinstance(function, str):
        raise GraderError(f"check() takes a function's name, e.g. check(\"softmax\"), not {type(function).__name__}")
    defined = {k for k, v in list(namespace.items()) if callable(v)}
    if assignment:
        try:
            exercise = exercises.get(assignment)
        except KeyError as exc:
            raise GraderError(str(exc.args[0])) from None
    else:
        owners = [e for e in exercises.EXERCISES.values() if function in _names(e)]
        exercise = owners[0] if len(owners) == 1 else exercises.guess(defined)
    if exercise is None:
        if function is not None:
            raise GraderError(f"{function!r} is not a function of any assignment; " + _every_function())
        raise GraderError("cannot tell the assignment: this kernel defines none of its functions yet; run the cells "
                          "that define them, or pass assignment=NAME (" + _every_function() + ")")
    if function is not None and function not in _names(exercise):
        raise GraderError(f"{function!r} is not a function of {exercise.name}; its functions are "
                          f"{', '.join(_names(exercise))}")
    return exercise


def _names(exercise: Exercise) -> list[str]:
    return [f.name for f in exercise.functions]


def _every_function() -> str:
    return "; ".join(f"{e.name} has {', '.join(_names(e))}" for e in exercises.EXERCISES.values())


def _not_defined(missing: list[str], namespace: dict) -> str:
    """What to do about the functions the kernel does not have: a name given to something else, or never run."""
    said = []
    for f in [f for f in missing if namespace.get(f) is not None]:  # the name holds something else now
        kind = type(namespace[f])
        package = "" if kind.__module__ == "builtins" else kind.__module__.split(".")[0] + "."
        said.append(f"{f} is a {package}{kind.__qualname__} in this kernel, not a function: a cell gave its name to "
                    f"something else ({f} = ...); use another name there, run the cell defining {f} again, "
                    "then check again")
    absent = [f for f in missing if namespace.get(f) is None]
    if absent:
        one = len(absent) == 1
        said.append(f"{', '.join(absent)} {'is' if one else 'are'} not defined in this kernel: run the "
                    f"cell{'' if one else 's'} defining {'it' if one else 'them'}, then check again")
    return "; ".join(said)
