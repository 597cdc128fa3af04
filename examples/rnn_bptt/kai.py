# FUNCTION: rnn_backward
# COMPLETE: a whole submission (rnn_forward and rnn_backward), graded on its own or appended.
# Mistake (bptt.consistent_with_wrong_forward): rnn_forward ignores h0 and starts from zeros
# (rnn.forward_ignores_h0), and rnn_backward is the exact gradient of that wrong forward:
# with h(0) = 0 there is no t = 1 term in dW, and every state differs from the right one.
import numpy as np


def my_forward(x, params):
    U, W, V, b, c = params["U"], params["W"], params["V"], params["b"], params["c"]
    T, H = x.shape[0], W.shape[0]
    h = np.zeros((T, H))
    prev = np.zeros(H)
    for t in range(T):
        h[t] = np.tanh(b + W @ prev + U @ x[t])
        prev = h[t]
    o = h @ V.T + c
    e = np.exp(o - o.max(axis=1, keepdims=True))
    return h, e / e.sum(axis=1, keepdims=True)


def rnn_forward(x, h0, params):
    return my_forward(x, params)


def rnn_backward(x, y, h0, params):
    W, V = params["W"], params["V"]
    h, yhat = my_forward(x, params)
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
    h_prev = np.vstack([np.zeros(H), h[:-1]])
    return {"o": do, "h": dh, "U": da.T @ x, "W": da.T @ h_prev, "V": do.T @ h,
            "b": da.sum(axis=0), "c": do.sum(axis=0)}
