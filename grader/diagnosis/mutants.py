"""Mutant matching: is the student's output exactly what a known mistake produces, on every case?"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from grader.evaluation.answers import CheckAnswers
from grader.evaluation.check import CheckResult
from grader.evaluation.compare import close
from grader.exercises.base import Exercise, Tolerance
from grader.report.model import Evidence, Hint


FLOAT32_REL = 1e-5  # how near a mistake's output is when computed on a softmax in float32 (good to about 1e-7)


def matching_mutants(result: CheckResult, answers: CheckAnswers, exercise: Exercise) -> list[Hint]:
    """A hint for each mutant whose output matches the student's on every case of the check.

    A mutant counts only when it differs from the right answer on a case that the student got wrong,
    so a mistake that is harmless on these inputs is never blamed. When none matches that closely, one
    that matches to float32's precision does (a diagonal-only Jacobian built on a softmax computed in
    float32), if it is further from the right answer than that.
    """
    if any(c.actual is None for c in result.cases):
        return []
    return (_matching(result, answers, exercise, exercise.tolerance)
            or _matching(result, answers, exercise, replace(exercise.tolerance, match_rel=FLOAT32_REL)))


def _matching(result: CheckResult, answers: CheckAnswers, exercise: Exercise, tolerance: Tolerance) -> list[Hint]:
    hints = []
    for mutant in exercise.mutants_for(result.check.function, result.check.key):
        for variant in answers.mutants.get(mutant.code, []):
            if _matches(result, variant, answers.expected, tolerance):
                n = len(result.cases)
                hints.append(Hint(code=mutant.code, message=mutant.message, evidence=Evidence(matched_cases=n, of=n)))
                break
    return hints


def _matches(result: CheckResult, outputs: list[np.ndarray | None], expected: list[np.ndarray], tolerance: Tolerance) -> bool:
    blamed = False
    for case, output, right in zip(result.cases, outputs, expected):
        if output is None or not close(case.actual, output, tolerance):
            return False
        if case.state != "right" and not close(output, right, tolerance):
            blamed = True
    return blamed
