"""The ``rnn_bptt`` assignment: contract, seeded cases, points, and its known mistakes.

The network is the vanilla RNN of Goodfellow, Bengio and Courville, *Deep
Learning*, eqs. 10.8-10.11, with the loss of eq. 10.14 summed over time.

Nothing here is the right gradient: every mutant is an honest *wrong* BPTT (or
forward) built on the reference module's forward pass, and the forward
functions below are only losses, which ``verify_reference`` differentiates by
central differences to check the reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from grader.exercises.base import Case, Check, Consistency, Exercise, Function, Mutant

NAME = "rnn_bptt"
VERSION = "2"

BACKWARD_KEYS = ("o", "h", "U", "W", "V", "b", "c")
PARAMETER_KEYS = ("U", "W", "V", "b", "c")
RECURRENT_KEYS = ("h", "U", "W", "b")  # what changes when the path back through a(t) is wrong

FUNCTIONS = (
    Function("rnn_forward", ("x", "h0", "params"), returns="tuple", keys=("h", "yhat"), time_keys=("h", "yhat"),
             derivative=False),
    Function(
        "rnn_backward",
        ("x", "y", "h0", "params"),
        returns="dict",
        keys=BACKWARD_KEYS,
        key_aliases={"do": "o", "dh": "h", "dU": "U", "dW": "W", "dV": "V", "db": "b", "dc": "c"},
        time_keys=("o", "h"),
    ),
)


# ---------------------------------------------------------------- cases


@dataclass(frozen=True)
class _Style:
    """How large the weights are (each matrix divided by the square root of its fan-in)."""

    u: float
    w: float
    v: float
    bias: float = 0.5
    shift: float = 0.0  # added to every entry of c: large scores that overflow a naive softmax
    repeated: bool = False  # one label for about 60% of the steps


STYLES = {
    "small": _Style(u=0.5, w=0.5, v=1.0),  # tanh nearly linear, short memory
    "moderate": _Style(u=1.2, w=1.0, v=2.0),
    "saturated": _Style(u=3.0, w=2.5, v=2.0, bias=1.0),  # many |h| close to 1
    "long": _Style(u=2.0, w=1.2, v=4.0, repeated=True),  # gradients of V, c (and U, W, b) beyond 5
    "large-scores": _Style(u=0.8, w=0.8, v=1.5, shift=900.0),  # o(t) near 900
}


def _labels(rng: np.random.Generator, T: int, K: int, index: int, repeated: bool) -> np.ndarray:
    """T labels in [0, K): for T >= 2 both 0 and K - 1 occur; a single step alternates between them."""
    if T == 1:
        return np.array([(0, K - 1)[index % 2]], dtype=np.int64)
    y = rng.integers(0, K, T)
    if repeated:
        y[rng.random(T) < 0.6] = rng.integers(0, K)
    first, last = rng.choice(T, size=2, replace=False)
    y[first], y[last] = 0, K - 1
    return y.astype(np.int64)


def _inputs(rng: np.random.Generator, T: int, D: int, H: int, K: int, style: _Style):
    params = {
        "U": style.u * rng.standard_normal((H, D)) / np.sqrt(D),
        "W": style.w * rng.standard_normal((H, H)) / np.sqrt(H),
        "V": style.v * rng.standard_normal((K, H)) / np.sqrt(H),
        "b": style.bias * rng.standard_normal(H),
        "c": style.bias * rng.standard_normal(K) + style.shift,
    }
    x = rng.standard_normal((T, D))
    h0 = rng.uniform(-0.9, 0.9, H)
    return x, h0, params


Spec = tuple[int, int, int, int, str]  # T, D, H, K, style


def _cases(seed: int, specs: list[Spec], labels: bool) -> tuple[Case, ...]:
    """Seeded cases: ``(x, y, h0, params)`` when ``labels`` (rnn_backward), else ``(x, h0, params)``."""
    rng = np.random.default_rng(seed)
    cases = []
    for i, (T, D, H, K, style_name) in enumerate(specs):
        assert len({D, H, K}) == 3, "D, H and K must differ, so that a transposed weight cannot pass"
        style = STYLES[style_name]
        x, h0, params = _inputs(rng, T, D, H, K, style)
        y = _labels(rng, T, K, i, style.repeated)
        name = f"T{T}-D{D}-H{H}-K{K}" + ("" if style_name in ("small", "moderate") else f"-{style_name}")
        args = (x, y, h0, params) if labels else (x, h0, params)
        tags = {style_name, "large"} if style.shift else {style_name}  # "large": scores of size 1e3
        cases.append(Case(name, args, frozenset(tags)))
    return tuple(cases)


FORWARD_PUBLIC = _cases(6101, [(1, 3, 5, 4, "small"), (2, 4, 3, 5, "moderate"), (8, 2, 6, 3, "saturated"),
                               (20, 5, 4, 6, "long"), (3, 4, 6, 5, "large-scores")], labels=False)
FORWARD_HIDDEN = _cases(6201, [(1, 5, 3, 4, "moderate"), (2, 3, 6, 5, "saturated"), (5, 6, 4, 3, "small"),
                               (9, 4, 7, 5, "moderate"), (12, 3, 5, 8, "saturated"), (25, 6, 8, 4, "long"),
                               (4, 2, 5, 7, "large-scores")], labels=False)

BACKWARD_PUBLIC = _cases(7101, [(1, 3, 5, 4, "small"), (2, 4, 3, 5, "moderate"), (8, 2, 6, 3, "saturated"),
                                (20, 5, 4, 6, "long")], labels=True)
BACKWARD_HIDDEN = _cases(7201, [(1, 5, 3, 4, "moderate"), (1, 2, 4, 3, "small"), (2, 3, 6, 5, "saturated"),
                                (3, 6, 4, 3, "small"), (9, 4, 7, 5, "moderate"), (12, 3, 5, 8, "saturated"),
                                (10, 7, 6, 4, "small"), (3, 4, 6, 5, "large-scores")], labels=True)
BACKWARD_LONG = _cases(7301, [(24, 4, 6, 5, "long"), (32, 6, 8, 3, "long")], labels=True)


def _check(function: str, key: str, name: str, cases: tuple[Case, ...], points: float) -> Check:
    tags = frozenset().union(*(c.tags for c in cases))
    visibility = "public" if name.startswith("public") else "hidden"
    return Check(function, name, visibility, cases, points, key=key, tags=tags)


# Points: forward 20 (public 6), backward 80 (public 22); every key of one function shares the same Case objects.
_FORWARD_POINTS = {"h": (3, 7), "yhat": (3, 7)}
_BACKWARD_POINTS = {  # public, hidden-random, hidden-long
    "o": (2, 4, 2),
    "h": (4, 7, 3),
    "U": (3, 6, 3),
    "W": (4, 7, 3),
    "V": (3, 5, 2),
    "b": (3, 6, 3),
    "c": (3, 5, 2),
}

CHECKS = tuple(
    check
    for key, (public, hidden) in _FORWARD_POINTS.items()
    for check in (
        _check("rnn_forward", key, "public", FORWARD_PUBLIC, public),
        _check("rnn_forward", key, "hidden-random", FORWARD_HIDDEN, hidden),
    )
) + tuple(
    check
    for key, (public, hidden, long) in _BACKWARD_POINTS.items()
    for check in (
        _check("rnn_backward", key, "public", BACKWARD_PUBLIC, public),
        _check("rnn_backward", key, "hidden-random", BACKWARD_HIDDEN, hidden),
        _check("rnn_backward", key, "hidden-long", BACKWARD_LONG, long),
    )
)


def _via(name: str, *bound):
    """A function of the reference that calls ``reference.support.<name>`` (solutions/rnn_bptt_support.py)."""
    if bound:
        return lambda ref, *args: getattr(ref.support, name)(*bound)(ref, *args)
    return lambda ref, *args: getattr(ref.support, name)(ref, *args)


def _mutants(code: str, function: str, keys: tuple[str, ...], message: str, *variants) -> tuple[Mutant, ...]:
    """One Mutant per key the mistake changes (the same code and words on each)."""
    return tuple(Mutant(code, function, tuple(variants), message, key=key) for key in keys)


NO_TANH_DERIVATIVE = (
    "tanh's derivative is missing on the way back: somewhere the gradient on h(t) is passed on to a(t) "
    "unchanged, as if h(t) were a(t), in the gradient carried back to h(t-1), in those of U, W and b, or in "
    "both. Between h(t) and a(t) stands the tanh of eq. 10.9, so every step back through it carries the factor "
    "tanh'(a(t)), written with h(t) in the book (eqs. 10.21, 10.23, 10.26, 10.28): the gradient carried back to "
    "h(t-1) and those of U, W and b alike. Check each place where you go from h(t) to a(t)."
)

MUTANTS = (
    *_mutants(
        "rnn.forward_ignores_h0", "rnn_forward", ("h", "yhat"),
        "The recurrence starts from zeros instead of the given initial state h(0) = h0, so h(1) lacks the "
        "term W h(0) of eq. 10.8 and every later state inherits the difference. h0 is an input of the "
        "network, like x: use it as h(0) at t = 1.",
        _via("fwd_zero_h0"),
    ),
    *_mutants(
        "rnn.forward_softmax_over_time", "rnn_forward", ("yhat",),
        "The softmax is taken down the time axis of o (axis 0, over the T steps) instead of across the K "
        "classes of each step, so the columns of yhat add up to 1 where each row yhat(t) should. Eq. 10.11 "
        "normalises the scores o(t) of one step over its classes.",
        _via("fwd_softmax_over_time"),
    ),
    *_mutants(
        "rnn.forward_missing_tanh", "rnn_forward", ("h", "yhat"),
        "Your hidden states are the pre-activations a(t): the tanh of eq. 10.9 is missing, so h(t) is not "
        "squashed into (-1, 1), and o(t) and the next step's a(t+1) are built from the wrong state. Apply "
        "the nonlinearity before h(t) is used.",
        _via("fwd_no_tanh"),
    ),
    *_mutants(
        "bptt.label_as_vector", "rnn_backward", BACKWARD_KEYS,
        "The integer label y(t) is subtracted from every entry of yhat(t), as if it were the target vector. "
        "y(t) is a class index: in eq. 10.18, yhat_i(t) - 1_{i=y(t)}, only the entry i = y(t) loses 1 (the "
        "book's 1_{i,y(t)} is a misprint of this indicator). Every other gradient is built on "
        "grad_{o(t)} L, so they are all off.",
        _via("bptt_label_as_vector"),
    ),
    *_mutants(
        "bptt.missing_recurrent_term", "rnn_backward", RECURRENT_KEYS,
        "grad_{h(t)} L holds only the path through the output o(t): the path through the next state is "
        "dropped. h(t) also feeds a(t+1) (eq. 10.8), so for t < T its gradient collects what comes back from "
        "step t + 1 as well (eq. 10.21). Without it, W, U and b only see each "
        "loss term's own step.",
        _via("bptt_no_recurrence"),
    ),
    *_mutants(
        "bptt.missing_tanh_derivative", "rnn_backward", ("h",), NO_TANH_DERIVATIVE,
        _via("bptt_no_tanh_derivative"), _via("bptt_no_tanh_derivative_in_recursion"),
    ),
    *_mutants(
        "bptt.missing_tanh_derivative", "rnn_backward", tuple(k for k in RECURRENT_KEYS if k != "h"),
        NO_TANH_DERIVATIVE,
        _via("bptt_no_tanh_derivative"), _via("bptt_no_tanh_derivative_in_recursion"),
        _via("bptt_no_tanh_derivative_in_parameters"),  # grad_h L right: only U, W and b are off
    ),
    *_mutants(
        "bptt.tanh_derivative_of_preactivation", "rnn_backward", RECURRENT_KEYS,
        "tanh's derivative is evaluated as 1 - a(t)^2, on the pre-activation, but 1 - u^2 is the derivative "
        "of tanh only when u is tanh's output: tanh'(a) is written with h(t) = tanh(a(t)), not with a(t) "
        "(eqs. 10.21-10.28). Where |a| > 1 your factor is even negative.",
        _via("bptt_tanh_derivative_of_a"),
    ),
    *_mutants(
        "bptt.W_not_transposed", "rnn_backward", RECURRENT_KEYS,
        "The gradient coming back from step t + 1 is multiplied by W where its transpose belongs. In "
        "a(t+1) = b + W h(t) + U x(t+1), W_ij carries h_j(t) into a_i(t+1), so going backwards to h_j(t) "
        "sums over i: the recurrence of eq. 10.21 uses W^T. The shapes cannot warn you, since W is square.",
        _via("bptt_W_not_transposed"),
    ),
    *_mutants(
        "bptt.dW_uses_current_h", "rnn_backward", ("W",),
        "Each term of grad_W L pairs the gradient on a(t) with h(t), but W multiplies the previous state: "
        "a(t) = b + W h(t-1) + U x(t) (eq. 10.8). Eq. 10.26 uses the state that went into step t, from h(0) "
        "at t = 1 to h(T-1) at t = T.",
        _via("bptt_dW_current_h"),
    ),
    *_mutants(
        "bptt.dW_skips_h0", "rnn_backward", ("W",),
        "grad_W L gets its t = 1 term wrong, or leaves it out. Step 1 uses W too, on the given initial state "
        "h(0) = h0 (eq. 10.8), so the sum of eq. 10.26 runs over every t = 1..T with h(t-1) = h(0) in the first "
        "term; a loop that skips the first step because it has no computed previous state drops it, and "
        "h[t - 1] at t = 0 is h[-1] in Python, the last state, not h0.",
        _via("bptt_dW_skips_h0"),
        _via("bptt_dW_wraps_h0"),
    ),
    *_mutants(
        "bptt.no_time_accumulation", "rnn_backward", PARAMETER_KEYS,
        "Your parameter gradients hold a single time step's contribution: the gradient is assigned in the "
        "loop (dW = ...) where it should be accumulated (dW += ...). U, V, W, b and c are shared by all "
        "steps, so each of eqs. 10.22-10.28 is a sum over t = 1..T.",
        _via("bptt_last_step"),
        _via("bptt_first_step"),
    ),
    *_mutants(
        "bptt.mean_over_time", "rnn_backward", BACKWARD_KEYS,
        "Every gradient is 1/T of the right one: the loss of eq. 10.14 is a sum over the time steps, not a "
        "mean, so dL/dL(t) = 1 (eq. 10.17) and nothing is divided by T.",
        _via("bptt_mean_over_time"),
    ),
    *_mutants(
        "bptt.gradient_clipped", "rnn_backward", PARAMETER_KEYS,
        "Entries of your parameter gradients are cut off at 5 in magnitude: that is gradient clipping "
        "(np.clip(dparam, -5, 5) in the widely copied char-RNN code), a safeguard of the training step that "
        "keeps updates small. It is not part of the gradient: return the exact sums of eqs. 10.22-10.28 and "
        "clip, if at all, where the parameters are updated.",
        _via("bptt_clipped"),
    ),
    *_mutants(
        "bptt.truncated", "rnn_backward", ("U", "W", "b"),
        "Each loss term L(t) is back-propagated only a few steps into the past (truncated BPTT, "
        "bptt_truncate = 4 in a widely copied tutorial), so grad_W L, grad_U L and grad_b L lose the "
        "contributions of the longer paths. Truncation approximates the gradient; the exact one follows the "
        "recurrence of eq. 10.21 all the way back to t = 1.",
        lambda ref, x, y, h0, params: ref.support.bptt_truncated(ref, x, y, h0, params, k=4),
        lambda ref, x, y, h0, params: ref.support.bptt_truncated(ref, x, y, h0, params, k=3),
    ),
    *_mutants(
        "bptt.tanh_derivative_wrong_form", "rnn_backward", RECURRENT_KEYS,
        "tanh's derivative is written (1 - h)^2: the square is on the wrong side. The derivative of tanh, "
        "from tanh' = 1 - tanh^2, subtracts the square of h(t) from 1; revisit the diag(...) factor of "
        "eqs. 10.21-10.28.",
        _via("bptt_tanh_derivative_wrong_form"),
    ),
)


EXERCISE = Exercise(
    name=NAME,
    version=VERSION,
    title="Back-propagation through time",
    functions=FUNCTIONS,
    checks=CHECKS,
    mutants=MUTANTS,
    notes={
        "bptt.d_prefixed_keys": ("rnn_backward", (
            "Your dict uses the keys do, dh, dU, ... where the assignment asks for o, h, U, ... (the gradient "
            "with respect to each quantity, named after the quantity). The values were read under the contract's "
            "names and scored; rename the keys so that other code can use your result.")),
        "bptt.consistent_with_wrong_forward": ("rnn_backward", (
            "Your backward pass is consistent with your forward pass: its gradients match finite differences of "
            "the loss computed with your own rnn_forward. The forward pass is what is wrong (see the rnn_forward "
            "tests): fix rnn_forward first (eqs. 10.8-10.11). If your backward pass reuses rnn_forward, that may be "
            "all it takes; if it repeats the same mistake, fix it there too.")),
    },
    consistency=Consistency(
        forward="rnn_forward", backward="rnn_backward", keys=PARAMETER_KEYS, loss="rnn_nll",
        code="bptt.consistent_with_wrong_forward",
    ),
    forward={
        **{f"rnn_backward[{name}]": _via("fd_parameter", name) for name in PARAMETER_KEYS},
        "rnn_backward[o]": _via("fd_scores"),
        "rnn_backward[h]": _via("fd_states"),
    },
)
