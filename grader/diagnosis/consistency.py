"""Is a wrong backward pass the exact gradient of the student's own wrong forward pass?

Finite differences of the student's forward run inside the sandbox (a second, small job,
only when both the forward and the backward fail); the comparison happens here.
"""

from __future__ import annotations

import numpy as np

from grader.evaluation.check import CheckResult
from grader.exercises.base import Consistency, Exercise
from grader.report.model import Evidence, Hint, TestResult
from grader.sandbox.pool import Call, Job, Runner
from grader.source.model import Source

MATCH_REL = 1e-5  # finite differences of the student's forward are good to about 1e-8


def needed(consistency: Consistency, results: list[CheckResult]) -> bool:
    """Both the forward and some checked key of the backward fail (with values to compare)."""
    forward_fails = any(r.check.function == consistency.forward and r.status != "passed" for r in results)
    backward_fails = any(
        r.check.function == consistency.backward and r.check.key in consistency.keys and r.status == "failed"
        for r in results
    )
    return forward_fails and backward_fails


def check_consistency(exercise: Exercise, results: list[CheckResult], tests: list[TestResult], source: Source,
                      pool: Runner) -> None:
    """Put the consistency hint first on the failing backward tests whose key matches the student's own forward."""
    consistency = exercise.consistency
    if consistency is None or not needed(consistency, results):
        return
    public = {r.check.key: r for r in results if r.check.function == consistency.backward and r.check.visibility == "public"}
    first = public[consistency.keys[0]]
    picked = [i for i, case in enumerate(first.check.cases) if np.shape(case.args[0])[0] <= consistency.max_steps]
    picked = picked[: consistency.cases]
    if not picked:
        return
    params = exercise.function(consistency.backward).params
    call = Call(consistency.forward, params, f"numgrad:{consistency.loss}", tuple(first.check.cases[i].args for i in picked))
    run = pool.run(Job.of(source, (call,)))
    numeric = run.calls.get(consistency.forward) or []
    if len(numeric) != len(picked) or any(r.status != "ok" or not isinstance(r.value, dict) for r in numeric):
        return
    # a case where the student's own loss is not finite (a forward pass without tanh drives a softmax output to
    # exactly 0: -log 0) has no finite differences to compare with: told from the others, when at least two remain
    usable = [(n, i) for n, i in enumerate(picked) if all(_finite(numeric[n].value.get(key)) for key in consistency.keys)]
    if len(usable) < min(2, len(picked)):
        return
    consistent = set()
    for key in consistency.keys:
        student = public.get(key)
        if student is None:
            continue
        if all(_close(student.cases[i].actual, numeric[n].value.get(key)) for n, i in usable):
            consistent.add(key)
    if not consistent:
        return
    hint = Hint(code=consistency.code, message=exercise.words(consistency.code),
                evidence=Evidence(matched_cases=len(usable), of=len(usable)))
    for test in tests:
        if test.function == consistency.backward and test.key in consistent and test.status == "failed":
            test.hints.insert(0, hint)


def _finite(returned) -> bool:
    return returned is not None and returned.array is not None and bool(np.all(np.isfinite(returned.array)))


def _close(actual, returned) -> bool:
    if actual is None or returned is None or returned.array is None:
        return False
    numeric = returned.array
    if np.shape(actual) != np.shape(numeric) or not np.all(np.isfinite(numeric)):
        return False
    scale = max(1.0, float(np.max(np.abs(numeric))))
    return float(np.max(np.abs(actual - numeric))) <= MATCH_REL * scale
