"""The softmax_gradients exercise: its reference, its cases, and its mutants."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from grader import exercises
from grader.evaluation.compare import close
from grader.evaluation.reference import load_reference, verify_reference
from tests.conftest import SOLUTIONS

EXERCISE = exercises.get("softmax_gradients")
REF = load_reference(EXERCISE, SOLUTIONS)


def test_reference_matches_central_finite_differences():
    assert verify_reference(EXERCISE, REF, rel=1e-7) == []


def test_finite_difference_check_would_catch_a_wrong_reference():
    class Wrong:
        def __getattr__(self, name):
            return getattr(REF, name)

        @staticmethod
        def cross_entropy_grad(z, label):
            return 2 * REF.cross_entropy_grad(z, label)

    problems = verify_reference(EXERCISE, Wrong())
    assert problems and all("cross_entropy_grad" in p for p in problems)


def test_points_add_up_to_100_and_every_function_is_graded_public_and_hidden():
    assert EXERCISE.max_score == 100
    for f in EXERCISE.functions:
        kinds = {c.visibility for c in EXERCISE.checks if c.function == f.name}
        assert kinds == {"public", "hidden"}, f.name


def _cases(function):
    return [case for c in EXERCISE.checks if c.function == function for case in c.cases]


def test_cases_cover_sizes_labels_batches_and_large_logits():
    sizes = {case.args[0].shape[-1] for c in EXERCISE.checks for case in c.cases}
    assert min(sizes) == 2 and max(sizes) >= 10
    labels = [(case.args[0].shape[0], case.args[1]) for case in _cases("cross_entropy_grad")]
    assert any(label == 0 for _, label in labels) and any(label == k - 1 for k, label in labels)
    assert any(case.args[0].shape[0] == 1 for case in _cases("cross_entropy_grad_batch"))
    assert any(np.max(np.abs(case.args[0])) >= 1e3 for case in _cases("softmax"))
    hidden_large = [c for c in EXERCISE.checks if c.function == "softmax" and c.visibility == "hidden" and "large" in c.tags]
    assert hidden_large and all(np.all(np.isfinite(REF.softmax(case.args[0]))) for case in hidden_large[0].cases)


def test_cases_are_seeded_so_a_regrade_sees_the_same_inputs():
    import importlib

    from grader.exercises import softmax_gradients

    again = importlib.reload(softmax_gradients).EXERCISE
    for a, b in zip(EXERCISE.checks, again.checks):
        for ca, cb in zip(a.cases, b.cases):
            for x, y in zip(ca.args, cb.args):
                assert np.array_equal(np.asarray(x), np.asarray(y))


def _differs(mutant, check) -> bool:
    solve = getattr(REF, check.function)
    for case in check.cases:
        right = solve(*case.args)
        for output in mutant.outputs(REF, case):
            output = np.asarray(output, dtype=float)
            if not close(output, right, EXERCISE.tolerance):
                return True
    return False


@pytest.mark.parametrize("mutant", EXERCISE.mutants, ids=lambda m: f"{m.code}@{m.function}")
def test_every_mutant_differs_from_the_reference_on_public_and_hidden_cases(mutant):
    checks = [c for c in EXERCISE.checks if c.function == mutant.function]
    assert any(_differs(mutant, c) for c in checks if c.visibility == "public"), "undetectable by grader check"
    assert any(_differs(mutant, c) for c in checks if c.visibility == "hidden"), "undetectable by grader grade"


@pytest.mark.parametrize("check", EXERCISE.checks, ids=lambda c: c.id)
def test_no_two_mutants_coincide_where_both_differ_from_the_reference(check):
    mutants = [m for m in EXERCISE.mutants_for(check.function) if _differs(m, check)]
    for a, b in itertools.combinations(mutants, 2):
        for va, vb in itertools.product(range(len(a.variants)), range(len(b.variants))):
            same = all(
                close(np.asarray(a.outputs(REF, case)[va], float), np.asarray(b.outputs(REF, case)[vb], float), EXERCISE.tolerance)
                for case in check.cases
            )
            assert not same, f"{a.code} and {b.code} are indistinguishable on {check.id}"
