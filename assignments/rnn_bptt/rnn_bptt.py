# %% [markdown]
# # Assignment: back-propagation through time (BPTT)
#
# The vanilla recurrent network of Goodfellow, Bengio and Courville, *Deep
# Learning*, chapter 10 (fig. 10.3), with D inputs, H hidden units, K classes
# and T time steps. For t = 1, ..., T (eqs. 10.8-10.11):
#
#     a(t) = b + W h(t-1) + U x(t)            (10.8)
#     h(t) = tanh(a(t))                       (10.9)
#     o(t) = c + V h(t)                       (10.10)
#     yhat(t) = softmax(o(t))                 (10.11)
#
# The initial state h(0) is given: it is an input of the network (the argument
# `h0`), not a parameter, and nothing asks for its gradient. The parameters are
# U (H, D), W (H, H), V (K, H), b (H,) and c (K,).
#
# The loss is the negative log-likelihood of the true labels y(1), ..., y(T),
# **summed** over time (eqs. 10.12-10.14), not averaged:
#
#     L = sum_t L(t) = - sum_t log yhat(t)[y(t)]       (10.14)
#
# ## The gradients (eqs. 10.17-10.28)
#
# Since L is a sum, dL/dL(t) = 1 (10.17). Through the softmax and the
# log-likelihood, the gradient on the scores of step t is
#
#     (grad_{o(t)} L)_i = yhat_i(t) - 1_{i=y(t)}       (10.18)
#
# where 1_{i=y(t)} is the indicator: 1 when i is the label y(t), 0 otherwise.
# (Early printings of the book write 1_{i,y(t)}, which is not a condition; the
# erratum is 1_{i,y(t)} -> 1_{i=y(t)}: the gradient loses 1 only at the
# label.) The book numbers the classes 1..n; here, as in NumPy, the labels run
# from 0 to K - 1, and y(t) is an integer, not a vector.
#
# The hidden state h(t) feeds two things: the output o(t) and, for t < T, the
# next pre-activation a(t+1). Its gradient collects both (eqs. 10.19-10.21):
#
#     grad_{h(T)} L = V^T grad_{o(T)} L                                         (10.19)
#     grad_{h(t)} L = W^T diag(1 - h(t+1)^2) grad_{h(t+1)} L + V^T grad_{o(t)} L   (10.21)
#
# where 1 - h^2 (squared elementwise) is tanh'(a) written with h = tanh(a).
# Every parameter is shared by all time steps, so its gradient is a sum over t
# of each step's contribution (eqs. 10.22-10.28):
#
#     grad_c L = sum_t grad_{o(t)} L                                  (10.22)
#     grad_b L = sum_t diag(1 - h(t)^2) grad_{h(t)} L                 (10.23)
#     grad_V L = sum_t (grad_{o(t)} L) h(t)^T                         (10.24)
#     grad_W L = sum_t diag(1 - h(t)^2) (grad_{h(t)} L) h(t-1)^T      (10.26)
#     grad_U L = sum_t diag(1 - h(t)^2) (grad_{h(t)} L) x(t)^T        (10.28)
#
# The t = 1 term of grad_W L uses the given h(0).
#
# ## Shapes
#
# Time runs down the first axis: `x` is (T, D) with row t - 1 holding x(t)
# (Python indexes from 0), `y` is (T,) of int labels, `h0` is (H,). `params`
# is a dict with keys "U", "W", "V", "b", "c". Every function takes and
# returns NumPy float64 arrays.
#
# Check your work with `grader check rnn_bptt.py` (or the notebook): it runs
# the public tests and tells you, when a result is wrong, which known mistake
# it looks like.

# %%
import numpy as np

# %% [markdown]
# ## 1. rnn_forward(x, h0, params)
#
# Run eqs. 10.8-10.11 for t = 1..T, starting from the given h(0) = `h0`.
# Return the tuple `(h, yhat)`: `h` (T, H) holds h(1), ..., h(T) (not h(0)),
# and `yhat` (T, K) the probabilities, each row adding up to 1.
#
# The softmax is taken over the K classes of each step (the last axis), and
# must stay finite for large scores: softmax(o) = softmax(o - max(o)).

# %%
def rnn_forward(x, h0, params):
    """Return (h, yhat): the hidden states h(1..T), shape (T, H), and the softmax outputs, shape (T, K)."""
    raise NotImplementedError("write this function")


# %% [markdown]
# ## 2. rnn_backward(x, y, h0, params)
#
# The gradients of the summed loss L (eq. 10.14) by BPTT. Return a dict with
#
# - `"o"` (T, K): row t - 1 is grad_{o(t)} L (eq. 10.18);
# - `"h"` (T, H): row t - 1 is grad_{h(t)} L, the **total** gradient, through
#   o(t) and through h(t+1) (eqs. 10.19-10.21);
# - `"U"`, `"W"`, `"V"`, `"b"`, `"c"`: the gradients of the parameters, each
#   with the shape of its parameter (eqs. 10.22-10.28).
#
# Walk backwards from t = T to t = 1. Mind which factor is transposed, where
# tanh's derivative enters, which hidden state multiplies each term of
# grad_W L, and that every parameter gradient is a sum over all T steps.

# %%
def rnn_backward(x, y, h0, params):
    """Return the gradients of L = -sum_t log yhat(t)[y(t)] as a dict with keys o, h, U, W, V, b, c."""
    raise NotImplementedError("write this function")
