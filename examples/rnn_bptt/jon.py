import numpy as np


def softmax_rows(o):
    e = np.exp(o - o.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def forward_states(x, h0, params):
    U, W, b = params["U"], params["W"], params["b"]
    T = x.shape[0]
    xu = x @ U.T + b  # the input part of every a(t) at once, (T, H)
    h = np.zeros((T, W.shape[0]))
    prev = h0
    for t in range(T):
        prev = np.tanh(xu[t] + W @ prev)
        h[t] = prev
    return h


def rnn_forward(x, h0, params):
    h = forward_states(x, h0, params)
    o = h @ params["V"].T + params["c"]
    return h, softmax_rows(o)


def rnn_backward(x, y, h0, params):
    W, V = params["W"], params["V"]
    h = forward_states(x, h0, params)
    T, H = h.shape
    yhat = softmax_rows(h @ V.T + params["c"])

    do = yhat.copy()
    do[np.arange(T), y] -= 1
    dh_out = do @ V  # V^T do(t) for every t, (T, H)
    dh = np.zeros((T, H))
    da = np.zeros((T, H))
    for t in reversed(range(T)):
        dh[t] = dh_out[t]
        if t + 1 < T:
            dh[t] += W.T @ da[t + 1]
        da[t] = (1 - h[t] ** 2) * dh[t]

    h_prev = np.concatenate([h0[None, :], h[:-1]], axis=0)
    return {
        "o": do,
        "h": dh,
        "U": da.T @ x,
        "W": da.T @ h_prev,
        "V": do.T @ h,
        "b": da.sum(axis=0),
        "c": do.sum(axis=0),
    }

# FUNCTION: rnn_backward
# Mistake (bptt.missing_recurrent_term): dh(t) = V^T do(t) only, the path through h(t+1) dropped.
import numpy as np


def rnn_backward(x, y, h0, params):
    V = params["V"]
    h, yhat = rnn_forward(x, h0, params)
    T = h.shape[0]
    do = yhat.copy()
    do[np.arange(T), y] -= 1
    dh = do @ V
    da = (1 - h ** 2) * dh
    h_prev = np.vstack([h0, h[:-1]])
    return {"o": do, "h": dh, "U": da.T @ x, "W": da.T @ h_prev, "V": do.T @ h,
            "b": da.sum(axis=0), "c": do.sum(axis=0)}
