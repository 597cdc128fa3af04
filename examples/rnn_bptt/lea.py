import numpy as np


def rnn_forward(x, h0, params):
    U, W, V, b, c = (params[k] for k in "UWVbc")
    T = x.shape[0]
    h = np.empty((T, W.shape[0]))
    prev = h0
    for t in range(T):
        prev = np.tanh(b + np.einsum("ij,j->i", W, prev) + np.einsum("ij,j->i", U, x[t]))
        h[t] = prev
    o = np.einsum("ki,ti->tk", V, h) + c
    o = o - o.max(axis=-1, keepdims=True)
    yhat = np.exp(o)
    yhat /= np.einsum("tk->t", yhat)[:, None]
    return h, yhat


def rnn_backward(x, y, h0, params):
    W, V = params["W"], params["V"]
    h, yhat = rnn_forward(x, h0, params)
    T, H = h.shape
    K = V.shape[0]
    onehot = np.eye(K)[y]
    do = yhat - onehot
    dh = np.empty((T, H))
    da = np.empty((T, H))
    carry = np.zeros(H)
    for t in range(T - 1, -1, -1):
        dh[t] = np.einsum("ki,k->i", V, do[t]) + carry
        da[t] = np.einsum("i,i->i", 1.0 - h[t] * h[t], dh[t])
        carry = np.einsum("ji,j->i", W, da[t])
    h_prev = np.vstack([h0, h[:-1]])
    return {
        "o": do,
        "h": dh,
        "U": np.einsum("ti,td->id", da, x),
        "W": np.einsum("ti,tj->ij", da, h_prev),
        "V": np.einsum("tk,ti->ki", do, h),
        "b": np.einsum("ti->i", da),
        "c": np.einsum("tk->k", do),
    }

# FUNCTION: rnn_backward
# Mistake (bptt.truncated): each loss term back-propagated at most 4 steps (bptt_truncate = 4, as in the
# widely copied tutorial), so dU, dW and db lose the longer paths. o, h, V and c are right.
import numpy as np


def rnn_backward(x, y, h0, params, bptt_truncate=4):
    W, V = params["W"], params["V"]
    h, yhat = rnn_forward(x, h0, params)
    T, H = h.shape
    s = np.vstack([h0, h])  # s[t + 1] is h(t + 1); s[0] is h(0)
    delta_o = yhat.copy()
    delta_o[np.arange(T), y] -= 1
    dLdU, dLdW, dLdV = np.zeros_like(params["U"]), np.zeros_like(W), np.zeros_like(V)
    dLdb = np.zeros(H)
    for t in np.arange(T)[::-1]:
        dLdV += np.outer(delta_o[t], h[t])
        delta_t = V.T.dot(delta_o[t]) * (1 - h[t] ** 2)
        for bptt_step in np.arange(max(0, t - bptt_truncate), t + 1)[::-1]:
            dLdW += np.outer(delta_t, s[bptt_step])
            dLdU += np.outer(delta_t, x[bptt_step])
            dLdb += delta_t
            delta_t = W.T.dot(delta_t) * (1 - s[bptt_step] ** 2)
    # the total dL/dh(t), for the report
    dh = np.zeros((T, H))
    nxt = np.zeros(H)
    for t in reversed(range(T)):
        dh[t] = V.T @ delta_o[t] + nxt
        nxt = W.T @ ((1 - h[t] ** 2) * dh[t])
    return {"o": delta_o, "h": dh, "U": dLdU, "W": dLdW, "V": dLdV, "b": dLdb, "c": delta_o.sum(axis=0)}
