"""Instructor-side support for the rnn_bptt exercise: wrong BPTT implementations and forward passes.

The mutants of ``grader/exercises/rnn_bptt.py`` need whole (wrong) backward passes,
and a backward pass with its bug switched off is the right one; so they live here,
beside the reference, never in the grader's installed package. ``load_reference``
attaches this module to the reference as ``reference.support``. Each function takes
the reference module first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PARAMETER_KEYS = ("U", "W", "V", "b", "c")


# ---------------------------------------------------------------- helpers (forward passes, right or wrong)


def _f64(params: dict) -> tuple[np.ndarray, ...]:
    return tuple(np.asarray(params[k], dtype=np.float64) for k in ("U", "W", "V", "b", "c"))


def _softmax_rows(o: np.ndarray, axis: int = 1) -> np.ndarray:
    e = np.exp(o - np.max(o, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _run(x, h0, params, *, squash=np.tanh, h_offset=None, o_offset=None) -> tuple[np.ndarray, np.ndarray]:
    """States h(1..T) and scores o(1..T), with optional additive offsets injected into h(t) and o(t)."""
    U, W, V, b, c = _f64(params)
    x = np.asarray(x, dtype=np.float64)
    T, H = x.shape[0], W.shape[0]
    h = np.empty((T, H))
    prev = np.asarray(h0, dtype=np.float64)
    for t in range(T):
        prev = squash(b + W @ prev + U @ x[t])
        if h_offset is not None:
            prev = prev + h_offset[t]
        h[t] = prev
    o = h @ V.T + c
    if o_offset is not None:
        o = o + o_offset
    return h, o


def _loss(x, y, h0, params, **offsets) -> float:
    """L = -sum_t log softmax(o(t))[y(t)], by log-sum-exp (eq. 10.14)."""
    _, o = _run(x, h0, params, **offsets)
    m = np.max(o, axis=1)
    lse = m + np.log(np.sum(np.exp(o - m[:, None]), axis=1))
    return float(np.sum(lse - o[np.arange(o.shape[0]), np.asarray(y)]))


@dataclass
class _Pass:
    """What a (possibly wrong) BPTT computes on the way: the forward states and the backward deltas."""

    x: np.ndarray
    h: np.ndarray
    h_prev: np.ndarray  # h(0), ..., h(T-1)
    do: np.ndarray
    dh: np.ndarray
    da: np.ndarray
    factor: np.ndarray  # what multiplies dh(t) to give da(t)


def _backprop(
    ref, x, y, h0, params, *, label_as_vector=False, recurrent=True, derivative="1-h^2", transpose_W=True,
    derivative_left_out_of: str = "",
) -> _Pass:
    """BPTT with switches for the catalogue's mistakes; every switch at its default gives eq. 10.18-10.21.

    ``derivative_left_out_of``: "recursion" (W^T dh(t) carried back instead of W^T da(t)) or "parameters"
    (U, W and b built from dh instead of da): the tanh derivative missing in one place only.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y).astype(np.int64)
    h0 = np.asarray(h0, dtype=np.float64)
    U, W, V, b, c = _f64(params)
    h, yhat = (np.asarray(v, dtype=np.float64) for v in ref.rnn_forward(x, h0, params))
    T, H = h.shape
    h_prev = np.vstack([h0[None, :], h[:-1]])
    a = b + h_prev @ W.T + x @ U.T
    factor = {
        "1-h^2": 1.0 - h**2,
        "none": np.ones_like(h),
        "1-a^2": 1.0 - a**2,
        "(1-h)^2": (1.0 - h) ** 2,
    }[derivative]
    do = yhat.copy()
    if label_as_vector:
        do -= y[:, None]
    else:
        do[np.arange(T), y] -= 1.0
    back = W.T if transpose_W else W
    dh, da = np.empty((T, H)), np.empty((T, H))
    from_next = np.zeros(H)
    for t in range(T - 1, -1, -1):
        dh[t] = V.T @ do[t] + (from_next if recurrent else 0.0)
        da[t] = factor[t] * dh[t]
        from_next = back @ (dh[t] if derivative_left_out_of == "recursion" else da[t])
    return _Pass(x, h, h_prev, do, dh, dh if derivative_left_out_of == "parameters" else da, factor)


def _gradients(p: _Pass, steps=slice(None), W_with=None, W_steps=None) -> dict:
    """The result dict from one pass: parameter gradients summed over ``steps`` (W's over ``W_steps``)."""
    W_with = p.h_prev if W_with is None else W_with
    W_steps = steps if W_steps is None else W_steps
    return {
        "o": p.do,
        "h": p.dh,
        "U": p.da[steps].T @ p.x[steps],
        "W": p.da[W_steps].T @ W_with[W_steps],
        "V": p.do[steps].T @ p.h[steps],
        "b": p.da[steps].sum(axis=0),
        "c": p.do[steps].sum(axis=0),
    }


# ---------------------------------------------------------------- the wrong implementations


def fwd_zero_h0(ref, x, h0, params):
    return ref.rnn_forward(x, np.zeros_like(np.asarray(h0, dtype=np.float64)), params)


def fwd_softmax_over_time(ref, x, h0, params):
    h, _ = ref.rnn_forward(x, h0, params)
    h = np.asarray(h, dtype=np.float64)
    _, _, V, _, c = _f64(params)
    return h, _softmax_rows(h @ V.T + c, axis=0)


def fwd_no_tanh(ref, x, h0, params):
    h, o = _run(x, h0, params, squash=lambda a: a)
    return h, _softmax_rows(o)


def bptt_label_as_vector(ref, x, y, h0, params):
    return _gradients(_backprop(ref, x, y, h0, params, label_as_vector=True))


def bptt_no_recurrence(ref, x, y, h0, params):
    return _gradients(_backprop(ref, x, y, h0, params, recurrent=False))


def bptt_no_tanh_derivative(ref, x, y, h0, params):
    return _gradients(_backprop(ref, x, y, h0, params, derivative="none"))


def bptt_no_tanh_derivative_in_recursion(ref, x, y, h0, params):
    return _gradients(_backprop(ref, x, y, h0, params, derivative_left_out_of="recursion"))


def bptt_no_tanh_derivative_in_parameters(ref, x, y, h0, params):
    return _gradients(_backprop(ref, x, y, h0, params, derivative_left_out_of="parameters"))


def bptt_tanh_derivative_of_a(ref, x, y, h0, params):
    return _gradients(_backprop(ref, x, y, h0, params, derivative="1-a^2"))


def bptt_W_not_transposed(ref, x, y, h0, params):
    return _gradients(_backprop(ref, x, y, h0, params, transpose_W=False))


def bptt_dW_current_h(ref, x, y, h0, params):
    p = _backprop(ref, x, y, h0, params)
    return _gradients(p, W_with=p.h)


def bptt_dW_skips_h0(ref, x, y, h0, params):
    return _gradients(_backprop(ref, x, y, h0, params), W_steps=slice(1, None))


def bptt_dW_wraps_h0(ref, x, y, h0, params):
    """``h[t - 1]`` at t = 0: Python's h[-1], the last state, where h(0) belongs."""
    p = _backprop(ref, x, y, h0, params)
    return _gradients(p, W_with=np.roll(p.h, 1, axis=0))


def bptt_last_step(ref, x, y, h0, params):
    """``dW = ...`` instead of ``dW += ...``: only step T survives (a loop forwards in time)."""
    return _gradients(_backprop(ref, x, y, h0, params), steps=slice(-1, None))


def bptt_first_step(ref, x, y, h0, params):
    """The same in a loop backwards in time: only step 1, the last one visited, survives."""
    return _gradients(_backprop(ref, x, y, h0, params), steps=slice(0, 1))


def bptt_mean_over_time(ref, x, y, h0, params):
    T = np.asarray(x).shape[0]
    return {k: v / T for k, v in _gradients(_backprop(ref, x, y, h0, params)).items()}


def bptt_clipped(ref, x, y, h0, params, limit=5.0):
    out = _gradients(_backprop(ref, x, y, h0, params))
    return {k: np.clip(v, -limit, limit) if k in PARAMETER_KEYS else v for k, v in out.items()}


def bptt_truncated(ref, x, y, h0, params, k: int):
    """Each L(t) back-propagated from a(t) through at most k earlier steps, a(t-k) (bptt_truncate = k)."""
    p = _backprop(ref, x, y, h0, params)
    W, V = _f64(params)[1:3]
    T, H = p.h.shape
    dU, dW, db = np.zeros((H, p.x.shape[1])), np.zeros((H, H)), np.zeros(H)
    for t in range(T):
        delta = p.factor[t] * (V.T @ p.do[t])
        for s in range(t, max(0, t - k) - 1, -1):
            dU += np.outer(delta, p.x[s])
            dW += np.outer(delta, p.h_prev[s])
            db += delta
            if s > 0:
                delta = p.factor[s - 1] * (W.T @ delta)
    out = _gradients(p)
    out.update(U=dU, W=dW, b=db)
    return out


def bptt_tanh_derivative_wrong_form(ref, x, y, h0, params):
    return _gradients(_backprop(ref, x, y, h0, params, derivative="(1-h)^2"))


# ---------------------------------------------------------------- forward functions (for finite differences)
# Each gives the point to differentiate at and the scalar loss as a function of it.


def fd_parameter(name: str):
    def forward(ref, x, y, h0, params):
        def f(value):
            return _loss(x, y, h0, {**params, name: value})

        return np.asarray(params[name], dtype=np.float64), f

    return forward


def fd_scores(ref, x, y, h0, params):
    T, K = np.asarray(x).shape[0], np.asarray(params["c"]).shape[0]
    return np.zeros((T, K)), lambda offset: _loss(x, y, h0, params, o_offset=offset)


def fd_states(ref, x, y, h0, params):
    T, H = np.asarray(x).shape[0], np.asarray(params["W"]).shape[0]
    return np.zeros((T, H)), lambda offset: _loss(x, y, h0, params, h_offset=offset)
