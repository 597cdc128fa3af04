"""Grading rnn_bptt: per-key scores, each catalogued BPTT mistake, the consistency of backward with forward."""

from __future__ import annotations

import re
import time

import pytest

from grader import api, exercises
from grader.authoring.templates import to_notebook
from tests.conftest import FIXTURES, SOLUTIONS, TEST_LIMITS, fixture_function, mistakes_of

BASE = (FIXTURES / "rnn_bptt" / "right" / "vectorised.py").read_text()
KEYS = ("o", "h", "U", "W", "V", "b", "c")


@pytest.fixture(scope="module")
def rnn_grading():
    return api.prepare(exercises.get("rnn_bptt"), SOLUTIONS, TEST_LIMITS, api.default_launcher())


@pytest.fixture
def grade_rnn(grade_text, rnn_grading):
    return lambda text, name="student.py": grade_text(text, name, grading=rnn_grading)


def _points_by_target(report):
    out: dict[str, float] = {}
    for t in report.tests:
        target = f"{t.function}[{t.key}]"
        out[target] = out.get(target, 0.0) + t.score
    return out


def _full(report):
    out: dict[str, float] = {}
    for t in report.tests:
        target = f"{t.function}[{t.key}]"
        out[target] = out.get(target, 0.0) + t.max_score
    return out


def test_reference_gets_full_marks_as_py_and_notebook(grade_rnn):
    solution = (SOLUTIONS / "rnn_bptt.py").read_text()
    for report in (grade_rnn(solution, "ref.py"), grade_rnn(to_notebook(solution), "ref.ipynb")):
        assert report.score == report.max_score == 100 and report.hints == []


def test_each_key_is_its_own_test():
    ids = {c.id for c in exercises.get("rnn_bptt").checks}
    for key in KEYS:
        assert f"rnn_backward[{key}]/public" in ids and f"rnn_backward[{key}]/hidden-random" in ids


@pytest.mark.parametrize("path", sorted((FIXTURES / "rnn_bptt" / "right").glob("*.py")), ids=lambda p: p.stem)
def test_right_styles_get_full_marks_and_no_hint(grade_rnn, path):
    report = grade_rnn(path.read_text(), path.name)
    assert report.score == 100, [(t.id, t.message) for t in report.tests if t.status != "passed"]
    assert [h.code for t in report.tests for h in t.hints] == []


def test_untouched_template_scores_zero(grade_rnn):
    report = grade_rnn((FIXTURES.parents[1] / "assignments" / "rnn_bptt" / "rnn_bptt.py").read_text())
    assert report.score == 0 and [h.code for h in report.hints] == ["generic.not_implemented"]


MISTAKES = [p for p in mistakes_of("rnn_bptt") if p.stem not in ("bptt.d_prefixed_keys", "bptt.consistent_with_wrong_forward")]


@pytest.mark.parametrize("path", MISTAKES, ids=lambda p: p.stem)
def test_each_mistake_costs_exactly_the_affected_keys_and_is_named_first(grade_rnn, rnn_grading, path):
    code, function = path.stem, fixture_function(path)
    report = grade_rnn(BASE + "\n\n" + path.read_text())
    affected = {f"{m.function}[{m.key}]" for m in exercises.get("rnn_bptt").mutants if m.code == code}
    got, full = _points_by_target(report), _full(report)
    for target in full:
        if target in affected:
            assert got[target] < full[target], f"{target} should lose points"
        else:
            assert got[target] == full[target], f"{target} lost points for {code}"
    failing = [t for t in report.tests if t.status != "passed"]
    assert failing and all(t.function == function for t in failing)
    for test in failing:
        assert test.hints[0].code == code, (test.id, test.message, [h.code for h in test.hints])


def test_d_prefixed_keys_are_read_and_scored_with_a_warning(grade_rnn):
    report = grade_rnn(BASE + "\n\n" + (FIXTURES / "rnn_bptt" / "mistakes" / "bptt.d_prefixed_keys.py").read_text())
    assert report.score == 100
    warned = {t.key for t in report.tests if any(h.code == "bptt.d_prefixed_keys" and h.warning for h in t.hints)}
    assert warned == set(KEYS)


def test_a_backward_consistent_with_a_wrong_forward_is_told_so(grade_rnn):
    report = grade_rnn((FIXTURES / "rnn_bptt" / "mistakes" / "bptt.consistent_with_wrong_forward.py").read_text())
    forward = [t for t in report.tests if t.function == "rnn_forward" and t.status != "passed"]
    assert forward and forward[0].hints[0].code == "rnn.forward_ignores_h0"
    for key in ("U", "W", "V", "b", "c"):
        tests = [t for t in report.tests if t.function == "rnn_backward" and t.key == key and t.status == "failed"]
        assert tests and all(t.hints[0].code == "bptt.consistent_with_wrong_forward" for t in tests), key
    backward = next(t for t in report.tests if t.id == "rnn_backward[W]/public")
    assert "forward pass is what is wrong" in backward.hints[0].message
    assert backward.hints[0].evidence.matched_cases == backward.hints[0].evidence.of >= 2


def test_the_consistency_hint_does_not_fire_when_backward_is_wrong_on_its_own(grade_rnn):
    wrong_forward = (FIXTURES / "rnn_bptt" / "mistakes" / "rnn.forward_ignores_h0.py").read_text()
    doubled_W = "\n\n_right = rnn_backward\n\ndef rnn_backward(x, y, h0, params):\n    g = _right(x, y, h0, params)\n    g['W'] = 2 * g['W']\n    return g\n"
    report = grade_rnn(BASE + "\n\n" + wrong_forward + doubled_W)
    codes = {h.code for t in report.tests for h in t.hints}
    assert "bptt.consistent_with_wrong_forward" not in codes
    assert next(t for t in report.tests if t.id == "rnn_backward[W]/public").hints[0].code == "generic.scaled"


def test_a_wrong_forward_costs_only_the_forward_when_backward_is_right(grade_rnn):
    report = grade_rnn(BASE + "\n\n" + (FIXTURES / "rnn_bptt" / "mistakes" / "rnn.forward_missing_tanh.py").read_text())
    assert all(t.status == "passed" for t in report.tests if t.function == "rnn_backward")
    assert all(t.status == "failed" for t in report.tests if t.function == "rnn_forward")


def test_a_hanging_backward_costs_only_the_backward(grade_rnn):
    report = grade_rnn(BASE + "\n\ndef rnn_backward(x, y, h0, params):\n    while True:\n        pass\n")
    assert all(t.status == "passed" for t in report.tests if t.function == "rnn_forward")
    assert {t.status for t in report.tests if t.function == "rnn_backward"} == {"timeout"}


def test_missing_recurrence_is_located_in_time(grade_rnn):
    report = grade_rnn(BASE + "\n\n" + (FIXTURES / "rnn_bptt" / "mistakes" / "bptt.missing_recurrent_term.py").read_text())
    test = next(t for t in report.tests if t.id == "rnn_backward[h]/public")
    assert "right at t = T" in test.message and "first wrong at t =" in test.message


def test_structure_errors_are_said_as_such(grade_rnn):
    tuple_instead = BASE + "\n\n_right = rnn_backward\n\ndef rnn_backward(x, y, h0, params):\n    g = _right(x, y, h0, params)\n    return tuple(g[k] for k in 'ohUWVbc')\n"
    report = grade_rnn(tuple_instead)
    test = next(t for t in report.tests if t.id == "rnn_backward[W]/public")
    assert "tuple" in test.message and "dict" in test.message
    assert test.hints[0].code == "generic.wrong_type" and "Return a dict with the keys 'o', 'h', 'U'" in test.hints[0].message
    missing_key = BASE + "\n\n_right = rnn_backward\n\ndef rnn_backward(x, y, h0, params):\n    g = _right(x, y, h0, params)\n    del g['W']\n    return g\n"
    report = grade_rnn(missing_key)
    test = next(t for t in report.tests if t.id == "rnn_backward[W]/public")
    assert "no key 'W'" in test.message and "'U'" in test.message
    assert "Return a dict with the keys" in test.hints[0].message and "Return a NumPy array" not in test.hints[0].message
    assert all(t.status == "passed" for t in report.tests if t.key != "W")
    transposed = BASE + "\n\n_right = rnn_backward\n\ndef rnn_backward(x, y, h0, params):\n    g = _right(x, y, h0, params)\n    g['U'] = g['U'].T\n    return g\n"
    report = grade_rnn(transposed)
    test = next(t for t in report.tests if t.id == "rnn_backward[U]/public")
    assert test.hints[0].code == "generic.transposed"


ONLY_H = "\n\n_forward = rnn_forward\n\ndef rnn_forward(x, h0, params):\n    return _forward(x, h0, params)[0]\n"
BACKWARD_ON_FORWARD = BASE.replace(
    "    h = forward_states(x, h0, params)\n    T, H = h.shape\n    yhat = softmax_rows(h @ V.T + params[\"c\"])",
    "    h, yhat = rnn_forward(x, h0, params)\n    T, H = h.shape")


def test_a_backward_that_raises_on_its_call_to_a_failing_forward_is_told_to_fix_the_forward_first(grade_rnn):
    assert BACKWARD_ON_FORWARD != BASE
    report = grade_rnn(BACKWARD_ON_FORWARD + ONLY_H)  # rnn_forward returns h alone; rnn_backward unpacks (h, yhat)
    backward = [t for t in report.tests if t.function == "rnn_backward"]
    assert backward and all(t.status == "error" for t in backward)
    for test in backward:
        assert test.hints[0].code == "generic.exception"
        assert test.hints[0].message.endswith("That line calls rnn_forward, whose own tests fail: fix rnn_forward first, "
                                              "then see whether this error remains.")
        assert "start from there" not in test.hints[0].message  # one instruction, not two


def test_fix_the_forward_first_is_said_only_when_the_line_calls_a_failing_forward(grade_rnn):
    raising = "\n\ndef rnn_backward(x, y, h0, params):\n    return {'o': 1 / 0}\n"
    for text in (BASE + ONLY_H + raising,  # the forward fails, but the line that raises does not call it
                 BACKWARD_ON_FORWARD.replace("    h, yhat = rnn_forward(x, h0, params)",
                                             "    h, yhat = rnn_forward(x, h0, params, 'extra')")):  # the forward is right
        tests = [t for t in grade_rnn(text).tests if t.function == "rnn_backward"]
        assert tests and all(t.hints[0].code == "generic.exception" for t in tests)
        assert not any("fix rnn_forward first" in t.hints[0].message for t in tests)


def test_grading_one_rnn_submission_is_fast(grade_rnn):
    grade_rnn(BASE)
    started = time.perf_counter()
    report = grade_rnn(BASE)
    elapsed = time.perf_counter() - started
    assert report.score == 100
    print(f"one rnn_bptt submission graded in {elapsed * 1000:.0f} ms")  # measured, not asserted


LINEAR_FORWARD = '''
import numpy as np


def softmax_rows(o):
    e = np.exp(o - o.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def rnn_forward(x, h0, params):
    U, W, V, b, c = params["U"], params["W"], params["V"], params["b"], params["c"]
    h = np.zeros((x.shape[0], W.shape[0]))
    prev = h0
    for t in range(x.shape[0]):
        h[t] = U @ x[t] + W @ prev + b  # I thought the activation was linear here
        prev = h[t]
    return h, softmax_rows(h @ V.T + c)


def rnn_backward(x, y, h0, params):
    W, V = params["W"], params["V"]
    h, yhat = rnn_forward(x, h0, params)
    T, H = h.shape
    do = yhat.copy()
    do[np.arange(T), y] -= 1
    dh = np.zeros((T, H))
    da_next = np.zeros(H)
    grads = {k: np.zeros_like(v) for k, v in params.items()}
    for t in reversed(range(T)):
        dh[t] = V.T @ do[t] + W.T @ da_next
        da = dh[t]  # linear activation: no derivative factor
        prev = h[t - 1] if t > 0 else h0
        grads["U"] += np.outer(da, x[t])
        grads["W"] += np.outer(da, prev)
        grads["b"] += da
        grads["V"] += np.outer(do[t], h[t])
        grads["c"] += do[t]
        da_next = da
    return {"o": do, "h": dh, **grads}
'''


def test_the_exact_backward_of_a_forward_without_tanh_is_told_the_forward_is_what_is_wrong(grade_rnn):
    # without tanh the saturated case drives a softmax output to exactly 0: the student's own loss is -log 0
    # there, and its finite differences are not numbers; the other cases still tell
    report = grade_rnn(LINEAR_FORWARD)
    assert all(t.hints[0].code == "rnn.forward_missing_tanh" for t in report.tests if t.function == "rnn_forward")
    failed = [t for t in report.tests if t.function == "rnn_backward" and t.status == "failed"]
    assert {t.key for t in failed} == set(KEYS)
    for test in failed:
        if test.key in ("o", "h"):  # no gradients of the loss: what is wrong is said by the call to rnn_forward
            assert test.hints == [] and test.message.endswith(
                "rnn_backward calls rnn_forward, whose own tests fail: fix rnn_forward first, then see what remains here")
        else:
            assert test.hints[0].code == "bptt.consistent_with_wrong_forward", (test.id, [h.code for h in test.hints])
            assert test.hints[0].evidence.matched_cases == test.hints[0].evidence.of >= 2
    # the same backward with tanh put back into the forward: right, nothing to blame
    fixed = LINEAR_FORWARD.replace("h[t] = U @ x[t] + W @ prev + b", "h[t] = np.tanh(U @ x[t] + W @ prev + b)")
    fixed = fixed.replace("da = dh[t]  # linear", "da = (1 - h[t] ** 2) * dh[t]  # tanh")
    assert grade_rnn(fixed).score == 100


def test_a_forward_pass_kept_in_float32_is_told_float32_on_both_its_outputs(grade_rnn):
    # h stored in a float32 array: yhat comes back float64 (V is float64), right only to about 1e-6
    report = grade_rnn(BASE.replace("h = np.zeros((T, W.shape[0]))", "h = np.zeros((T, W.shape[0]), dtype=np.float32)"))
    forward = [t for t in report.tests if t.function == "rnn_forward" and t.status == "failed"]
    assert {t.key for t in forward} == {"h", "yhat"}
    assert all(t.hints[0].code == "generic.float32_precision" for t in forward), [(t.id, [h.code for h in t.hints]) for t in forward]
    assert "generic.numerical_gradient" not in {h.code for h in report.hints}


def test_a_forward_pass_returning_a_dict_is_told_it_returned_a_dict(grade_rnn):
    as_dict = "\n\n_pair = rnn_forward\n\ndef rnn_forward(x, h0, params):\n    h, yhat = _pair(x, h0, params)\n    return {'h': h, 'yhat': yhat}\n"
    report = grade_rnn(BASE + as_dict)
    forward = [t for t in report.tests if t.function == "rnn_forward"]
    assert forward and all(t.status == "failed" for t in forward)
    assert all("returned a dict where a tuple ('h', 'yhat') was asked" in t.message for t in forward), forward[0].message
    assert grade_rnn(BASE).score == 100


def test_a_forward_pass_that_overwrites_h0_is_the_mistake_of_the_backward_pass_that_reads_it_after(grade_rnn):
    overwrites = '''

def rnn_forward(x, h0, params):
    U, W, V, b, c = params["U"], params["W"], params["V"], params["b"], params["c"]
    h = np.zeros((x.shape[0], W.shape[0]))
    h_t = h0
    for t in range(x.shape[0]):
        h_t[:] = np.tanh(U @ x[t] + W @ h_t + b)  # reuse the buffer
        h[t] = h_t
    return h, softmax_rows(h @ V.T + c)


def rnn_backward(x, y, h0, params):
    W, V = params["W"], params["V"]
    h, yhat = rnn_forward(x, h0, params)
    T, H = h.shape
    do = yhat.copy()
    do[np.arange(T), y] -= 1
    dh, da = np.zeros((T, H)), np.zeros((T, H))
    for t in reversed(range(T)):
        dh[t] = V.T @ do[t] + (W.T @ da[t + 1] if t + 1 < T else 0)
        da[t] = (1 - h[t] ** 2) * dh[t]
    h_prev = np.concatenate([h0[None, :], h[:-1]], axis=0)  # h0 as rnn_forward left it: its last state
    return {"o": do, "h": dh, "U": da.T @ x, "W": da.T @ h_prev, "V": do.T @ h, "b": da.sum(axis=0), "c": do.sum(axis=0)}
'''
    report = grade_rnn(BASE + overwrites)
    tests = {t.id: t for t in report.tests if t.visibility == "public"}
    failed = tests["rnn_backward[W]/public"]
    assert failed.status == "failed" and [(h.code, h.warning) for h in failed.hints] == [("generic.mutates_input", False)]
    assert failed.hints[0].message.endswith("rnn_backward then reads h0 changed, most likely why this test fails.")
    assert "generic.mutates_input" in {h.code for h in report.hints}
    passed = tests["rnn_backward[U]/public"]  # h0 changed there too, but the test passes: a warning, as before
    assert passed.status == "passed" and [(h.code, h.warning) for h in passed.hints] == [("generic.mutates_input", True)]


def test_a_backward_pass_that_does_not_use_the_wrong_output_of_its_forward_pass_keeps_its_own_mistake(grade_rnn):
    # rnn_forward is wrong in yhat alone (a softmax over time); rnn_backward takes only h from it, computes yhat
    # itself, and forgets the tanh derivative: that is named, beside the advice to fix rnn_forward
    over_time = "\n\n_pair = rnn_forward\n\ndef rnn_forward(x, h0, params):\n    h, _ = _pair(x, h0, params)\n" \
                "    o = h @ params['V'].T + params['c']\n    e = np.exp(o - o.max(axis=0))\n    return h, e / e.sum(axis=0)\n"
    backward = """
def rnn_backward(x, y, h0, params):
    W, V = params["W"], params["V"]
    h, _ = rnn_forward(x, h0, params)  # only h: yhat is worked out again here
    T, H = h.shape
    o = h @ V.T + params["c"]
    e = np.exp(o - o.max(axis=1, keepdims=True))
    do = e / e.sum(axis=1, keepdims=True)
    do[np.arange(T), y] -= 1
    dh = np.zeros((T, H))
    dh_next = np.zeros(H)
    for t in reversed(range(T)):
        dh[t] = V.T @ do[t] + dh_next
        dh_next = W.T @ dh[t]  # the tanh derivative forgotten
    h_prev = np.vstack([h0, h[:-1]])
    return {"o": do, "h": dh, "U": dh.T @ x, "W": dh.T @ h_prev, "V": do.T @ h, "b": dh.sum(axis=0), "c": do.sum(axis=0)}
"""
    report = grade_rnn(BASE + over_time + "\n\n" + backward)
    tests = {t.id: t for t in report.tests}
    assert tests["rnn_backward[o]/public"].status == "passed"
    failed = [t for t in report.tests if t.function == "rnn_backward" and t.status == "failed" and t.visibility == "public"]
    assert failed and all(t.hints and t.hints[0].code == "bptt.missing_tanh_derivative" for t in failed), \
        [(t.id, [h.code for h in t.hints]) for t in failed]
    assert all("fix rnn_forward first" in t.message for t in failed)


ZEROING_FORWARD = '''
import numpy as np


def rnn_forward(x, h0, params):
    U, W, V, b, c = (params[k] for k in "UWVbc")
    T, H, K = x.shape[0], W.shape[0], V.shape[0]
    h, yhat, hp = np.zeros((T, H)), np.zeros((T, K)), h0
    for t in range(T):
        h[t] = np.tanh(b + W @ hp + U @ x[t]); x[t] = 0  # "done with this input"
        o = c + V @ h[t]
        e = np.exp(o - o.max())
        yhat[t] = e / e.sum()
        hp = h[t]
    return h, yhat


def rnn_backward(x, y, h0, params):
    U, W, V, b, c = (params[k] for k in "UWVbc")
    h, yhat = rnn_forward(x, h0, params)
    T = x.shape[0]
    do = yhat.copy()
    do[np.arange(T), y] -= 1
    dh = np.zeros_like(h)
    g = {k: np.zeros_like(params[k]) for k in "UWVbc"}
    nxt = np.zeros(W.shape[0])
    for t in reversed(range(T)):
        dh[t] = V.T @ do[t] + nxt
        da = (1 - h[t] ** 2) * dh[t]
        hprev = h[t - 1] if t > 0 else h0
        g["c"] += do[t]; g["V"] += np.outer(do[t], h[t])
        g["b"] += da; g["W"] += np.outer(da, hprev); g["U"] += np.outer(da, x[t])
        nxt = W.T @ da
    return {"o": do, "h": dh, **g}
'''


def test_an_input_zeroed_by_the_forward_pass_is_the_backward_passs_mistake_not_a_template_placeholder(grade_rnn):
    report = grade_rnn(ZEROING_FORWARD)
    u_tests = [t for t in report.tests if t.function == "rnn_backward" and t.key == "U"]
    assert u_tests and all(t.status == "failed" for t in u_tests)
    for test in u_tests:
        assert [h.code for h in test.hints if not h.warning] == ["generic.mutates_input", "generic.zeros"], test.hints
        assert "rnn_backward then reads x changed, most likely why this test fails" in test.hints[0].message
    scaled = grade_rnn(ZEROING_FORWARD.replace('g["V"] += np.outer', 'g["V"] += 2 * np.outer'))
    v_tests = [t for t in scaled.tests if t.function == "rnn_backward" and t.key == "V" and t.status == "failed"]
    assert v_tests and all(t.hints[0].code == "generic.scaled" for t in v_tests)  # its own mistake, x or not
    passing = [t for t in report.tests if t.status == "passed"]
    assert passing and all(h.warning for t in passing for h in t.hints)  # elsewhere a warning, as before
    fixed = grade_rnn(ZEROING_FORWARD.replace("; x[t] = 0", ""))
    assert fixed.score == fixed.max_score and not any(t.hints for t in fixed.tests)


def test_a_hint_that_many_tests_share_is_said_once_in_the_check_with_the_tests_it_is_also_for(grade_rnn):
    from grader.report.check_html import render_check_html
    from grader.report.text import check_text

    report = grade_rnn(ZEROING_FORWARD)
    text = " ".join(check_text(report, width=200).split())
    forward_words = "rnn_forward changed its input x in place, so the caller's array is no longer what it passed."
    assert text.count(forward_words) == 1 and sum(forward_words in h.message for t in report.tests for h in t.hints) > 1
    assert re.search(r"rnn_forward\[h\]/public passed, and with the same hints rnn_forward\[\w+\]/\S+ ", text), text
    html = render_check_html(report)
    assert html.count("rnn_forward changed its input x in place, so the caller") == 1 and ", and with the same hints " in html
    backward_blocks = [t for t in report.tests if t.function == "rnn_backward" and t.status == "passed"]
    assert len(backward_blocks) > 1 and text.count("most likely through rnn_forward: rnn_forward changes its own "
                                                   "input. Work on a copy in rnn_forward, and this goes too.") == 1


BACKWARD_HALF_TANH = '''
def rnn_backward(x, y, h0, params):
    W, V = params["W"], params["V"]
    h, yhat = rnn_forward(x, h0, params)
    T, H = h.shape
    do = yhat.copy()
    do[np.arange(T), y] -= 1
    dh = np.zeros((T, H))
    carry = np.zeros(H)
    for t in reversed(range(T)):
        dh[t] = V.T @ do[t] + carry
        carry = W.T @ ({recursion})
    da = {parameters}
    h_prev = np.vstack([h0, h[:-1]])
    return {{"o": do, "h": dh, "U": da.T @ x, "W": da.T @ h_prev, "V": do.T @ h, "b": da.sum(axis=0), "c": do.sum(axis=0)}}
'''


@pytest.mark.parametrize("recursion, parameters, wrong", [
    ("dh[t] * (1 - h[t] ** 2)", "dh", {"U", "W", "b"}),  # tanh' in the recursion only
    ("dh[t]", "dh * (1 - h ** 2)", {"h", "U", "W", "b"}),  # in the parameter gradients only
], ids=["in the recursion only", "in the parameter gradients only"])
def test_a_tanh_derivative_left_out_in_one_place_only_is_named(grade_rnn, recursion, parameters, wrong):
    student = BASE + BACKWARD_HALF_TANH.format(recursion=recursion, parameters=parameters)
    report = grade_rnn(student)
    failing = {t.key for t in report.tests if t.status != "passed"}
    assert failing == wrong
    for test in report.tests:
        if test.status != "passed":
            assert test.hints[0].code == "bptt.missing_tanh_derivative", (test.id, [h.code for h in test.hints])
    right = grade_rnn(BASE + BACKWARD_HALF_TANH.format(recursion="dh[t] * (1 - h[t] ** 2)", parameters="dh * (1 - h ** 2)"))
    assert right.score == 100 and right.hints == []


BACKWARD_LOOPED_DW = '''
def rnn_backward(x, y, h0, params):
    W, V = params["W"], params["V"]
    h, yhat = rnn_forward(x, h0, params)
    T, H = h.shape
    do = yhat.copy()
    do[np.arange(T), y] -= 1
    dh = np.zeros((T, H))
    da = np.zeros((T, H))
    for t in reversed(range(T)):
        dh[t] = V.T @ do[t]
        if t + 1 < T:
            dh[t] += W.T @ da[t + 1]
        da[t] = (1 - h[t] ** 2) * dh[t]
    dW = np.zeros_like(W)
    for t in range(T):
        {previous}
        dW += np.outer(da[t], h_prev)
    return {{"o": do, "h": dh, "U": da.T @ x, "W": dW, "V": do.T @ h, "b": da.sum(axis=0), "c": do.sum(axis=0)}}
'''


def test_h_t_minus_1_at_t_0_wrapping_to_the_last_state_is_told_about_h0(grade_rnn):
    report = grade_rnn(BASE + BACKWARD_LOOPED_DW.format(previous="h_prev = h[t - 1]"))  # h[-1] at t = 0
    failing = [t for t in report.tests if t.status != "passed"]
    assert failing and {t.key for t in failing} == {"W"}
    assert all(t.hints[0].code == "bptt.dW_skips_h0" and "h[-1] in Python" in t.hints[0].message for t in failing)
    right = grade_rnn(BASE + BACKWARD_LOOPED_DW.format(previous="h_prev = h[t - 1] if t > 0 else h0"))
    assert right.score == 100 and right.hints == []
