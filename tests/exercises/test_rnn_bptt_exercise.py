"""The rnn_bptt exercise: its reference, its cases, its points and its mutants."""

from __future__ import annotations

import importlib
import itertools

import numpy as np
import pytest

from grader.evaluation.compare import close
from grader.evaluation.reference import load_reference, verify_reference
from grader.exercises import rnn_bptt
from tests.conftest import SOLUTIONS

EXERCISE = rnn_bptt.EXERCISE
REF = load_reference(EXERCISE, SOLUTIONS)

CATALOGUE = {  # HINTS.md, rnn_bptt, without the two rows the engine detects itself
    "rnn.forward_ignores_h0", "rnn.forward_softmax_over_time", "rnn.forward_missing_tanh",
    "bptt.label_as_vector", "bptt.missing_recurrent_term", "bptt.missing_tanh_derivative",
    "bptt.tanh_derivative_of_preactivation", "bptt.W_not_transposed", "bptt.dW_uses_current_h",
    "bptt.dW_skips_h0", "bptt.no_time_accumulation", "bptt.mean_over_time", "bptt.gradient_clipped",
    "bptt.truncated", "bptt.tanh_derivative_wrong_form",
}


def _part(function: str, value, key: str) -> np.ndarray:
    """One graded part of a result: an item of rnn_forward's tuple or a key of rnn_backward's dict."""
    if isinstance(value, tuple):
        value = value[EXERCISE.function(function).keys.index(key)]
    else:
        value = value[key]
    return np.asarray(value, dtype=np.float64)


def _right(check) -> list[np.ndarray]:
    solve = getattr(REF, check.function)
    return [_part(check.function, solve(*case.args), check.key) for case in check.cases]


def _outputs(mutant, check, variant: int) -> list[np.ndarray]:
    return [_part(check.function, mutant.outputs(REF, case)[variant], check.key) for case in check.cases]


def _differs(outputs: list[np.ndarray], right: list[np.ndarray]) -> bool:
    return any(not close(o, r, EXERCISE.tolerance) for o, r in zip(outputs, right))


def _backward_cases():
    return {id(case): case for c in EXERCISE.checks if c.function == "rnn_backward" for case in c.cases}.values()


def _forward_cases():
    return {id(case): case for c in EXERCISE.checks if c.function == "rnn_forward" for case in c.cases}.values()


# ---------------------------------------------------------------- the reference


def test_reference_matches_central_finite_differences_on_every_entry():
    targets = {f"{c.function}[{c.key}]" for c in EXERCISE.checks if c.function == "rnn_backward"}
    assert targets == set(EXERCISE.forward), "every key of rnn_backward is checked by finite differences"
    assert verify_reference(EXERCISE, REF) == []


def test_finite_difference_check_would_catch_a_wrong_reference():
    class Truncated:
        def __getattr__(self, name):
            return getattr(REF, name)

        @staticmethod
        def rnn_backward(x, y, h0, params):
            return REF.support.bptt_truncated(REF, x, y, h0, params, k=4)

    problems = verify_reference(EXERCISE, Truncated())
    assert problems and {p.split("/")[0] for p in problems} == {"rnn_backward[U]", "rnn_backward[W]", "rnn_backward[b]"}


def test_reference_forward_agrees_with_an_independent_loop():
    for case in _forward_cases():
        x, h0, params = case.args
        h, yhat = REF.rnn_forward(x, h0, params)
        prev = h0
        for t in range(x.shape[0]):
            prev = np.tanh(params["b"] + params["W"] @ prev + params["U"] @ x[t])
            assert np.allclose(h[t], prev, rtol=1e-13, atol=1e-14)
        assert np.all(np.isfinite(yhat)) and np.allclose(yhat.sum(axis=1), 1.0, rtol=0, atol=1e-14)
        assert h.shape == (x.shape[0], params["W"].shape[0]) and yhat.shape == (x.shape[0], params["c"].shape[0])


def test_reference_returns_every_key_with_its_shape():
    for case in _backward_cases():
        x, y, h0, params = case.args
        grads = REF.rnn_backward(x, y, h0, params)
        assert set(grads) == set(rnn_bptt.BACKWARD_KEYS)
        T, K, H = x.shape[0], params["c"].shape[0], params["W"].shape[0]
        assert grads["o"].shape == (T, K) and grads["h"].shape == (T, H)
        for name in rnn_bptt.PARAMETER_KEYS:
            assert grads[name].shape == params[name].shape, name


# ---------------------------------------------------------------- cases


def test_long_cases_have_gradients_of_c_and_V_beyond_5():
    long = [c for c in EXERCISE.checks if c.function == "rnn_backward" and "long" in c.tags]
    assert {c.visibility for c in long} == {"public", "hidden"}
    for check in long:
        for case in check.cases:
            if "long" not in case.tags:
                continue
            x, y, h0, params = case.args
            grads = REF.rnn_backward(x, y, h0, params)
            assert x.shape[0] >= 20 and len(set(y.tolist())) < len(y), case.name
            assert np.max(np.abs(grads["c"])) > 5 and np.max(np.abs(grads["V"])) > 5, case.name
            # and U, W, b too, so that clipping at 5 is caught on every parameter
            assert all(np.max(np.abs(grads[k])) > 5 for k in ("U", "W", "b")), case.name


def test_sizes_D_H_K_differ_in_every_case():
    for case in _backward_cases():
        x, _, _, params = case.args
        sizes = (x.shape[1], params["W"].shape[0], params["c"].shape[0])
        assert len(set(sizes)) == 3, case.name
    for case in _forward_cases():
        x, _, params = case.args
        assert len({x.shape[1], params["W"].shape[0], params["c"].shape[0]}) == 3, case.name


@pytest.mark.parametrize("function", ["rnn_forward", "rnn_backward"])
@pytest.mark.parametrize("visibility", ["public", "hidden"])
def test_cases_cover_short_and_long_sequences_saturation_labels_and_h0(function, visibility):
    cases = {id(case): case for c in EXERCISE.checks if c.function == function and c.visibility == visibility
             for case in c.cases}.values()
    lengths = {case.args[0].shape[0] for case in cases}
    assert {1, 2} <= lengths and max(lengths) >= 20 and any(8 <= t for t in lengths - {max(lengths)})
    saturation = []
    for case in cases:
        x, h0, params = (case.args[0], case.args[-2], case.args[-1])
        h, _ = REF.rnn_forward(x, h0, params)
        saturation.append(np.mean(np.abs(h) > 0.99))
        assert np.all(h0 != 0), case.name
    assert max(saturation) > 0.3 and min(saturation) == 0
    if function == "rnn_backward":
        for case in cases:
            x, y, h0, params = case.args
            K = params["c"].shape[0]
            assert y.dtype == np.int64 and y.shape == (x.shape[0],) and 0 <= y.min() and y.max() < K
            if len(y) >= 2:
                assert 0 in y and K - 1 in y, case.name
        single = [case.args[1][0] for case in cases if case.args[0].shape[0] == 1]
        assert any(label == 0 for label in single)


def test_large_scores_stay_finite_in_the_reference():
    large = [case for case in list(_forward_cases()) + list(_backward_cases()) if "large-scores" in case.tags]
    assert large
    for case in large:
        assert np.max(np.abs(case.args[-1]["c"])) > 700  # exp overflows a float64 beyond 709
        result = getattr(REF, "rnn_backward" if len(case.args) == 4 else "rnn_forward")(*case.args)
        values = result.values() if isinstance(result, dict) else result
        assert all(np.all(np.isfinite(v)) for v in values)


def test_the_keys_of_one_function_share_the_same_case_objects():
    for function in ("rnn_forward", "rnn_backward"):
        checks = [c for c in EXERCISE.checks if c.function == function]
        by_name = {}
        for check in checks:
            by_name.setdefault(check.name, []).append(check)
        for name, group in by_name.items():
            assert {c.key for c in group} == set(EXERCISE.function(function).keys), name
            first = group[0].cases
            assert all(len(c.cases) == len(first) and all(a is b for a, b in zip(c.cases, first)) for c in group)


def test_test_ids_name_the_key():
    ids = {c.id for c in EXERCISE.checks}
    assert {"rnn_backward[W]/hidden-random", "rnn_forward[h]/public", "rnn_backward[o]/public"} <= ids
    assert len(ids) == len(EXERCISE.checks)


def test_cases_are_seeded_so_a_regrade_sees_the_same_inputs():
    again = importlib.reload(rnn_bptt).EXERCISE
    for a, b in zip(EXERCISE.checks, again.checks):
        for ca, cb in zip(a.cases, b.cases):
            assert ca.name == cb.name
            for x, y in zip(ca.args, cb.args):
                if isinstance(x, dict):
                    assert x.keys() == y.keys() and all(np.array_equal(x[k], y[k]) for k in x)
                else:
                    assert np.array_equal(x, y)


# ---------------------------------------------------------------- points


def test_points_add_up_to_100_with_public_a_minority():
    assert EXERCISE.max_score == 100
    forward = sum(c.points for c in EXERCISE.checks if c.function == "rnn_forward")
    backward = sum(c.points for c in EXERCISE.checks if c.function == "rnn_backward")
    assert (forward, backward) == (20, 80)
    public = sum(c.points for c in EXERCISE.checks_for({"public"}))
    assert 0 < public < 50
    for function in EXERCISE.functions:
        for key in function.keys:
            kinds = {c.visibility for c in EXERCISE.checks if c.function == function.name and c.key == key}
            assert kinds == {"public", "hidden"}, (function.name, key)


# ---------------------------------------------------------------- mutants


def test_every_catalogue_row_has_a_mutant_with_a_message():
    assert {m.code for m in EXERCISE.mutants} == CATALOGUE
    for m in EXERCISE.mutants:
        assert m.key in EXERCISE.function(m.function).keys
        assert "eq. 10." in m.message.lower() or "eqs. 10." in m.message.lower(), m.code
        assert len({(n.code, n.key) for n in EXERCISE.mutants if n.code == m.code}) == \
            len([n for n in EXERCISE.mutants if n.code == m.code]), "one Mutant per (code, key)"
        assert len({n.message for n in EXERCISE.mutants if n.code == m.code}) == 1


@pytest.mark.parametrize("mutant", EXERCISE.mutants, ids=lambda m: f"{m.code}[{m.key}]")
def test_every_mutant_differs_from_the_reference_on_a_public_and_a_hidden_check(mutant):
    checks = [c for c in EXERCISE.checks if c.function == mutant.function and c.key == mutant.key]
    for variant in range(len(mutant.variants)):
        for visibility in ("public", "hidden"):
            assert any(
                _differs(_outputs(mutant, c, variant), _right(c)) for c in checks if c.visibility == visibility
            ), f"variant {variant} is undetectable on the {visibility} checks of {mutant.function}[{mutant.key}]"


@pytest.mark.parametrize("check", EXERCISE.checks, ids=lambda c: c.id)
def test_no_two_mutants_coincide_on_every_case_of_a_check(check):
    right = _right(check)
    outputs = [
        (m.code, i, out)
        for m in EXERCISE.mutants_for(check.function, check.key)
        for i in range(len(m.variants))
        if _differs(out := _outputs(m, check, i), right)
    ]
    for (a, va, oa), (b, vb, ob) in itertools.combinations(outputs, 2):
        if a != b:
            assert not all(close(x, y, EXERCISE.tolerance) for x, y in zip(oa, ob)), f"{a} and {b} coincide on {check.id}"


def test_mutants_return_full_results_of_the_right_shapes():
    for check in EXERCISE.checks:
        case = check.cases[-1]
        for m in EXERCISE.mutants_for(check.function, check.key):
            for out in m.outputs(REF, case):
                if check.function == "rnn_forward":
                    assert isinstance(out, tuple) and len(out) == 2
                else:
                    assert set(out) == set(rnn_bptt.BACKWARD_KEYS)
                assert _part(check.function, out, check.key).shape == _right(check)[-1].shape
