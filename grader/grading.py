"""One submission through the pipeline: Source -> sandbox -> evaluation -> diagnosis -> Report."""

from __future__ import annotations

import marshal
import re
import time
from dataclasses import dataclass
from functools import cached_property

from grader import __version__, exercises
from grader.diagnosis.catalogue import generic_message
from grader.diagnosis.consistency import check_consistency
from grader.diagnosis.diagnose import diagnose, summary_order
from grader.diagnosis.explain import describe_error, missing_package, place, stuck_at, test_message
from grader.diagnosis.upstream import (blame_failing_callee, blame_float32_callee, blame_mutating_callee,
                                       blame_nonfinite_callee, blame_wrong_callee)
from grader.evaluation.answers import Answers
from grader.evaluation.check import CheckResult, Judged, judge_checks
from grader.evaluation.compare import quiet
from grader.exercises.base import Check, Exercise
from grader.fingerprint import code_sha256
from grader.report.model import GraderInfo, Hint, HintSummary, Report, SubmissionInfo, TestResult
from grader.sandbox.limits import Limits
from grader.sandbox.outcome import SubmissionRun
from grader.sandbox.pool import Call, Job, Launcher, Runner
from grader.source.model import Source
from grader.source.syntax import StudentSyntaxError, compile_chunk, forget, statements_before


@dataclass(frozen=True)
class Plan:
    """The checks of a batch and the calls they need: each function once, on each distinct case."""

    exercise: Exercise
    checks: tuple[Check, ...]
    calls: tuple[Call, ...]
    positions: dict[str, list[int]]  # check id -> index of each of its cases in its function's call

    @classmethod
    def build(cls, exercise: Exercise, checks: tuple[Check, ...]) -> "Plan":
        cases: dict[str, list] = {}
        positions = {}
        for check in checks:
            seen = cases.setdefault(check.function, [])
            idx = []
            for case in check.cases:
                pos = next((i for i, c in enumerate(seen) if c is case), None)
                if pos is None:
                    seen.append(case)
                    pos = len(seen) - 1
                idx.append(pos)
            positions[check.id] = idx
        calls = tuple(
            Call(f.name, f.params, f.returns, tuple(c.args for c in cases[f.name]))
            for f in exercise.functions
            if f.name in cases
        )
        return cls(exercise, checks, calls, positions)


@dataclass(frozen=True)
class Grading:
    """Everything fixed for a batch: what is checked, the answers, the limits and the sandbox."""

    plan: Plan
    answers: Answers
    limits: Limits
    launcher: Launcher

    @cached_property
    def every_expected(self) -> list:
        """The expected answers of every check of the plan, end to end (one list for the batch)."""
        return [e for check in self.plan.checks for e in self.answers[check.id].expected]

    @cached_property
    def reuse_key(self) -> tuple:
        """What a report's ``grader`` block must say for the report to be reused: same grader (its code too),
        assignment version, answers and limits (:meth:`grader_info`'s, once)."""
        info = self.grader_info()
        return info.version, info.code_sha256, info.assignment_version, info.answers_sha256, info.limits

    def grader_info(self) -> GraderInfo:
        """The report's ``grader`` block."""
        return GraderInfo(
            version=__version__,
            sandbox=self.launcher.name,
            sandbox_note=self.launcher.note or None,
            limits={**self.limits.describe(), **self.launcher.describe()},
            assignment_version=self.plan.exercise.version,
            answers=self.answers.origin,
            answers_sha256=self.answers.digest,
            code_sha256=code_sha256(),
        )


@dataclass(frozen=True)
class FirstRun:
    """A submission's first run (its code, and every call of the plan), made before it is judged, and how long it took."""

    run: SubmissionRun
    seconds: float


def first_run(source: Source, grading: Grading, pool: Runner) -> FirstRun | None:
    """Run a submission's code and every call of the plan (None for a source that cannot be run): what
    :func:`grade_source` does first, to be done ahead of it (while the batch judges the submission before)."""
    if source.error:
        return None
    started = time.perf_counter()
    return FirstRun(pool.run(Job.of(source, grading.plan.calls)), time.perf_counter() - started)


def grade_source(source: Source, student: str, grading: Grading, pool: Runner, first: FirstRun | None = None) -> Report:
    """Grade one submission that has been read; never raises for anything the submission does.

    ``pool`` runs its code: the sandbox's workers, or, for the notebook's own check,
    the student's kernel (``grader.kernel.runner``). ``first``: its :func:`first_run`, if already made.
    """
    try:
        return _graded(source, student, grading, pool, first)
    finally:
        forget()  # what the hints read of its code, held for this submission only


def _graded(source: Source, student: str, grading: Grading, pool: Runner, first: FirstRun | None) -> Report:
    started = time.perf_counter() - (first.seconds if first else 0.0)
    plan = grading.plan
    base = _report_fields(source, student, grading)
    if source.error:
        hints = []
        if source.error_code:
            hints = [HintSummary(code=source.error_code, function="*", message=generic_message(source.error_code, detail=source.error_detail))]
        return Report(status="error", score=0.0, message=source.error, hints=hints, duration_s=_since(started), **base)
    run, source = _run(source, plan.calls, pool, base["notes"], grading.limits.load_s, first.run if first else None)
    base["notes"] = _in_cell_order(base["notes"] + [f"{chunk} raised {describe_error(err, source)}; the cells after it "
                                                    "were still run" for chunk, err in run.chunk_errors])
    source.stopped = {chunk: line for chunk, err in run.chunk_errors  # where each cell that raised stopped running
                      for (where, line, _) in err.frames[:1] if where == chunk}
    base["missing_packages"] = sorted({p for err in [run.load_error, *(e for _, e in run.chunk_errors)]
                                       if (p := missing_package(err, source))})
    if run.status == "load_error" or not run.loaded:
        message = _load_failure(run, source, grading.limits.load_s)
        return Report(status="error", score=0.0, message=message, duration_s=_since(started), **base)
    with quiet():
        results = judge_checks([_judged(check, run, grading) for check in plan.checks], plan.exercise.tolerance,
                               grading.every_expected)
        graded = [_grade_check(result, grading, source) for result in results]
    tests = [test for test, _ in graded]
    whole = len(plan.calls) == len(plan.exercise.functions)  # not one function's tests alone (the notebook's check)
    if tests and whole and all(r.cases and r.cases[0].state == "missing" for _, r in graded):
        other = exercises.guess(source.defined)
        theirs = f" (its functions are those of {other.name})" if other and other.name != plan.exercise.name else ""
        base["notes"].append(f"none of the functions of {plan.exercise.name} is defined: is this the right assignment?{theirs}")
    blame_float32_callee(tests, source)
    blame_failing_callee(graded, source)
    blame_nonfinite_callee(graded, source)
    blame_mutating_callee(graded, source)
    check_consistency(plan.exercise, [result for _, result in graded], tests, source, pool)
    consistency = plan.exercise.consistency
    blame_wrong_callee(graded, source, keep=frozenset({consistency.code} if consistency else ()))
    all_hints = [(h, t.function) for t in tests for h in t.hints]
    functions = {h.code: f for h, f in reversed(all_hints)}
    ordered = summary_order([h for h, _ in all_hints], plan.exercise)
    return Report(
        status="graded",
        score=float(sum(t.score for t in tests)),
        tests=tests,
        hints=[HintSummary(code=h.code, message=h.message, function=functions[h.code]) for h in ordered],
        duration_s=_since(started),
        **base,
    )


MAX_HUNG_CELLS = 2  # notebook cells that hang while it loads, each cut short and the notebook run again


def _run(source: Source, calls: tuple, pool: Runner, notes: list[str], load_s: float,
         run: SubmissionRun | None) -> tuple[SubmissionRun, Source]:
    """Run the submission's code and calls (``run``, when that is done already). A notebook cell whose top-level
    code runs past the time limit as the notebook loads is cut short before the statement that hung (left out
    when that cannot be told), as a cell that raises stops there, and the notebook run again (a note says so)."""
    run = run or pool.run(Job.of(source, calls))
    for _ in range(MAX_HUNG_CELLS):
        if not (source.mode == "cells" and run.status == "timeout" and not run.loaded):
            break
        cut = _cut_hung_cell(run, source)
        if cut is None:
            break
        cell, what, shorter = cut
        where = stuck_at(run.stuck_at, source) or " (it could not say where: in one long call into C code, say)"
        notes.append(f"the notebook's top-level code (all its cells together) ran past its time limit of {load_s:g} s "
                     f"while {cell} was running{where}; {cell} was {what}, and the notebook was run again")
        source = shorter
        run = pool.run(Job.of(source, calls))
    return run, source


def _cut_hung_cell(run: SubmissionRun, source: Source) -> tuple[str, str, Source] | None:
    """The cell that hung, what became of it, and the code without what hung; None when there is nothing to cut."""
    if run.stuck_at:
        cell, line = run.stuck_at[-1]  # the outermost place: the top-level statement that was running
        kept = statements_before(dict(source.chunks)[cell], line)
        if kept is None:  # not a line of one of the cell's statements: the place is not believed
            return None
        text, start = kept
    elif run.loading:  # it did not say where: the whole cell goes
        cell, text, start = run.loading, "", 1
    else:
        return None
    try:
        compiled = marshal.dumps(compile_chunk(text, cell)) if text.strip() else None
    except StudentSyntaxError:
        return None
    shorter = source.with_chunk(cell, text if compiled else None, compiled)
    if not shorter.chunks:
        return None
    return cell, f"cut short before line {start}, the statement that hung" if compiled else "left out", shorter


def _judged(check: Check, run: SubmissionRun, grading: Grading) -> Judged:
    """A check, its function, the calls of its cases (None when the function is missing), their answers."""
    calls = run.calls.get(check.function)
    picked = None if calls is None else [calls[i] for i in grading.plan.positions[check.id]]
    return check, grading.plan.exercise.function(check.function), picked, grading.answers[check.id].expected


def _grade_check(result: CheckResult, grading: Grading, source: Source) -> tuple[TestResult, CheckResult]:
    exercise, check = grading.plan.exercise, result.check
    answers = grading.answers[check.id]
    hints: list[Hint] = diagnose(result, answers, exercise, source, grading.limits.call_s)
    shown = answers.expected if check.visibility == "public" else None
    passed = result.status == "passed"
    test = TestResult(
        id=check.id,
        function=check.function,
        key=check.key,
        visibility=check.visibility,
        status=result.status,
        score=float(check.points) if passed else 0.0,
        max_score=float(check.points),
        message=test_message(result, source, grading.limits.call_s, shown, exercise.function(check.function).time_keys),
        hints=hints,
        cases=len(check.cases),
    )
    return test, result


def grader_failure(source: Source, student: str, grading: Grading, exc: BaseException) -> Report:
    """The report of a submission on which the grader itself failed (a bug): the batch goes on."""
    message = f"{GRADER_FAILED}: {type(exc).__name__}: {str(exc)[:300]}"
    return Report(status="error", score=0.0, message=message, **_report_fields(source, student, grading))


def _report_fields(source: Source, student: str, grading: Grading) -> dict:
    """What every report of a submission says, whatever became of it."""
    return dict(
        assignment=grading.plan.exercise.name,
        student=student,
        submission=SubmissionInfo(path=source.path, sha256=source.sha256, kind=source.kind,
                                  modules=source.module_hashes()),
        max_score=float(sum(c.points for c in grading.plan.checks)),
        grader=grading.grader_info(),
        notes=list(source.notes),
    )


GRADER_FAILED = "the grader itself failed on this submission (a bug in the grader; it is graded again next run)"


def _load_failure(run: SubmissionRun, source: Source, load_s: float) -> str:
    if run.status == "load_error":
        error = run.load_error
        said = f"the submission's top-level code raised {describe_error(error, source)}"
        caller = _own_test_call(error, source)
        if caller is not None:
            said += (f"; it was called from {place(caller, source)}: top-level code runs when the file "
                     'is graded, so put your own tests and prints under `if __name__ == "__main__":`')
        return said
    if run.status == "timeout":  # before it was loaded: the limit of its top-level code, the first to come
        return f"the submission's top-level code ran past its time limit of {load_s:g} s{stuck_at(run.stuck_at, source)}"
    return run.detail or "the submission could not be run"


def _own_test_call(error, source: Source) -> tuple[str, int] | None:
    """Where the student's top-level code called the function that raised (their own test, left at the bottom of
    the file or of a module of theirs): the last top-level line before the innermost frame that is not an import."""
    if error is None or len(error.frames) < 2:
        return None
    for where, line, function in reversed(error.frames[:-1]):
        if function == "<module>" and not source.quote(where, line).startswith(("import ", "from ")):
            return where, line
    return None


_CELL = re.compile(r"cell (\d+)\b")


def _in_cell_order(notes: list[str]) -> list[str]:
    """The notes about cells (skipped for a syntax error when read, or raising when run) in the notebook's order,
    after the others, which keep theirs."""
    return sorted(notes, key=lambda note: int(m.group(1)) if (m := _CELL.match(note)) else -1)


def _since(started: float) -> float:
    return round(time.perf_counter() - started, 4)
