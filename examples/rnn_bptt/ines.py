# In the style of Karpathy's min-char-rnn: dicts of column vectors (H, 1) per time step,
# converted to the contract's (T, .) arrays at the end.
import numpy as np


def _columns(x, h0, params):
    U, W, V = params["U"], params["W"], params["V"]
    b, c = params["b"].reshape(-1, 1), params["c"].reshape(-1, 1)
    xs, hs, ps = {}, {}, {}
    hs[-1] = np.copy(h0).reshape(-1, 1)
    for t in range(len(x)):
        xs[t] = x[t].reshape(-1, 1)
        hs[t] = np.tanh(np.dot(U, xs[t]) + np.dot(W, hs[t - 1]) + b)
        ys = np.dot(V, hs[t]) + c
        ps[t] = np.exp(ys - np.max(ys)) / np.sum(np.exp(ys - np.max(ys)))
    return xs, hs, ps


def rnn_forward(x, h0, params):
    xs, hs, ps = _columns(x, h0, params)
    T = len(x)
    h = np.array([hs[t][:, 0] for t in range(T)])
    yhat = np.array([ps[t][:, 0] for t in range(T)])
    return h, yhat


def rnn_backward(x, y, h0, params):
    U, W, V = params["U"], params["W"], params["V"]
    xs, hs, ps = _columns(x, h0, params)
    T = len(x)
    dU, dW, dV = np.zeros_like(U), np.zeros_like(W), np.zeros_like(V)
    db, dc = np.zeros((W.shape[0], 1)), np.zeros((V.shape[0], 1))
    dhnext = np.zeros_like(hs[0])
    dos, dhs = {}, {}
    for t in reversed(range(T)):
        dy = np.copy(ps[t])
        dy[y[t]] -= 1
        dos[t] = dy
        dV += np.dot(dy, hs[t].T)
        dc += dy
        dh = np.dot(V.T, dy) + dhnext
        dhs[t] = dh
        dhraw = (1 - hs[t] * hs[t]) * dh
        db += dhraw
        dU += np.dot(dhraw, xs[t].T)
        dW += np.dot(dhraw, hs[t - 1].T)
        dhnext = np.dot(W.T, dhraw)
    return {
        "o": np.array([dos[t][:, 0] for t in range(T)]),
        "h": np.array([dhs[t][:, 0] for t in range(T)]),
        "U": dU,
        "W": dW,
        "V": dV,
        "b": db[:, 0],
        "c": dc[:, 0],
    }
