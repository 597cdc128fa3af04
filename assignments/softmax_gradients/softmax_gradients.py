# %% [markdown]
# # Assignment: softmax gradients
#
# The output layer of the recurrent network of Goodfellow, Bengio and Courville,
# *Deep Learning*, chapter 10, turns the scores o(t) into probabilities with a
# softmax (eqs. 10.8-10.11):
#
#     a(t) = b + W h(t-1) + U x(t)            (10.8)
#     h(t) = tanh(a(t))                       (10.9)
#     o(t) = c + V h(t)                       (10.10)
#     yhat(t) = softmax(o(t))                 (10.11)
#
# and the loss at step t is the negative log-likelihood of the true label y(t),
# whose gradient with respect to the scores is eq. 10.18:
#
#     (grad_{o(t)} L)_i = yhat_i(t) - 1_{i=y(t)}      (10.18)
#
# where 1_{i=y(t)} is 1 when i is the label and 0 otherwise. (Early versions of
# the book print 1_{i,y(t)}; the condition meant is i = y(t).)
#
# In this assignment you write the softmax and its gradients for one vector of
# scores z = (z_0, ..., z_{K-1}), K classes, indexed from 0 as in NumPy. We write
# p = softmax(z). Every function takes and returns NumPy float64 arrays.
#
# Check your work with `grader check softmax_gradients.py` (or the notebook):
# it runs the public tests and tells you, when a result is wrong, which known
# mistake it looks like.

# %%
import numpy as np

# %% [markdown]
# ## 1. softmax(z)
#
# p_i = exp(z_i) / sum_j exp(z_j).
#
# Your softmax must stay finite for any finite z, including scores of size 1e3
# (exp(1000) overflows a float64). Hint: softmax(z) = softmax(z - m) for any
# constant m.

# %%
def softmax(z):
    """Return p = softmax(z) for a 1-D array z of shape (K,)."""
    raise NotImplementedError("write this function")


# %% [markdown]
# ## 2. softmax_jacobian(z)
#
# The Jacobian J with J[i, j] = d p_i / d z_j, shape (K, K).
#
# Every output p_i depends on every input z_j through the normalising sum, so J
# is not diagonal. Differentiate p_i = exp(z_i) / S with S = sum_k exp(z_k)
# separately for i = j and for i != j, and write both cases with the Kronecker
# delta delta_ij.

# %%
def softmax_jacobian(z):
    """Return the (K, K) Jacobian J[i, j] = d softmax(z)_i / d z_j."""
    raise NotImplementedError("write this function")


# %% [markdown]
# ## 3. softmax_backward(y, dL_dy)
#
# Backpropagation through a softmax layer: given its output y = softmax(z) and
# the upstream gradient g = dL/dy (both of shape (K,)), return dL/dz, shape (K,).
#
# By the chain rule dL/dz_i = sum_j (dL/dy_j)(dy_j/dz_i). With s = y * g
# (elementwise) the result can be written with s, its sum 1^T s and y; mind
# which terms are vectors and which is a scalar.

# %%
def softmax_backward(y, dL_dy):
    """Return dL/dz given y = softmax(z) and the upstream gradient dL/dy."""
    raise NotImplementedError("write this function")


# %% [markdown]
# ## 4. cross_entropy_grad(z, label)
#
# The gradient with respect to z of the cross-entropy L = -log softmax(z)[label],
# for an integer label in [0, K). This is eq. 10.18 for one time step.

# %%
def cross_entropy_grad(z, label):
    """Return dL/dz for L = -log softmax(z)[label], shape (K,)."""
    raise NotImplementedError("write this function")


# %% [markdown]
# ## 5. cross_entropy_grad_batch(Z, labels)
#
# A batch of N rows: Z has shape (N, K), labels shape (N,) of integers. The loss
# is the **mean** over the rows of the cross-entropy of each row:
# L = (1/N) sum_n -log softmax(Z[n])[labels[n]]. Return dL/dZ, shape (N, K).
# The softmax is taken over the classes of each row.

# %%
def cross_entropy_grad_batch(Z, labels):
    """Return dL/dZ for the mean cross-entropy of a batch, shape (N, K)."""
    raise NotImplementedError("write this function")


# %% [markdown]
# ## 6. squared_loss_grad(z, y)
#
# A squared loss on the probabilities (as discussed for chapter 6 of the book):
# L = sum_i (p_i - y_i)^2 with p = softmax(z) and y a one-hot target vector of
# shape (K,). Return dL/dz, shape (K,).
#
# The loss is a sum over the classes (not a mean), and dL/dz goes through the
# softmax Jacobian of task 2, not through the derivative of a sigmoid.

# %%
def squared_loss_grad(z, y):
    """Return dL/dz for L = sum_i (softmax(z)_i - y_i)^2, shape (K,)."""
    raise NotImplementedError("write this function")
