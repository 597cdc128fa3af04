"""What keeps mistake recognition at float32's precision safe: no mistake's output lies near the right answer.

A mistake is also recognised to 1e-5 (a diagonal-only Jacobian built on a softmax computed in float32,
:data:`grader.diagnosis.mutants.FLOAT32_REL`). That can only name the right mistake if, on every case, each
mutant (each variant) is, over the cases of a check, either the right answer (a mistake harmless on them) or
far from it on some case, and two mutants are either the same or far apart: a mutant added later that is
nearly right would have a right-but-float32 answer named as that mistake.
"""

from __future__ import annotations

import numpy as np
import pytest

from grader import exercises
from grader.diagnosis.mutants import FLOAT32_REL
from grader.evaluation.answers import compute_answers
from grader.evaluation.reference import load_reference
from tests.conftest import SOLUTIONS

FAR = 100 * FLOAT32_REL  # a mutant this far from the right answer, scaled as matching scales it, or further


def _relative_distance(a: np.ndarray, b: np.ndarray, floor: float) -> float:
    """max |a - b| over max(max |b|, floor), as ``compare.close`` measures it (inf for other shapes, nan or inf)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or not (np.isfinite(a).all() and np.isfinite(b).all()):
        return np.inf
    return float(np.abs(a - b).max() / max(np.abs(b).max(), floor)) if b.size else 0.0


def _apart(a: list, b: list, floor: float) -> float:
    """How far two outputs are over a check's cases: the largest relative distance (0 when either is missing)."""
    return max((_relative_distance(x, y, floor) for x, y in zip(a, b) if x is not None and y is not None), default=0.0)


@pytest.mark.parametrize("name", sorted(exercises.EXERCISES))
def test_no_mistake_lies_near_the_right_answer_or_near_another_mistake(name):
    exercise = exercises.get(name)
    answers = compute_answers(exercise, load_reference(exercise, SOLUTIONS), exercise.checks)
    tolerance, near = exercise.tolerance, []
    for check in exercise.checks:
        outputs = [(code, variant) for code, variants in answers[check.id].mutants.items() for variant in variants]
        for code, variant in outputs:
            distance = _apart(variant, answers[check.id].expected, tolerance.floor)
            if tolerance.match_rel < distance < FAR:
                near.append(f"{code} on {check.id}: {distance:.1e} from the right answer")
        for i, (code, variant) in enumerate(outputs):
            for other, second in outputs[i + 1:]:
                distance = _apart(variant, second, tolerance.floor)
                if other != code and tolerance.match_rel < distance < FAR:
                    near.append(f"{code} and {other} on {check.id}: {distance:.1e} apart")
    assert not near, near
