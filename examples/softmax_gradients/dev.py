import numpy as np

# trying to use einsum for everything, it's cleaner once you get the indices


def softmax(z):
    z = np.asarray(z, dtype=np.float64)
    ez = np.exp(z - z.max())
    return ez / np.einsum('i->', ez)


def softmax_jacobian(z):
    p = softmax(z)
    K = p.shape[0]
    # J_ij = p_i delta_ij - p_i p_j
    return np.einsum('i,ij->ij', p, np.eye(K)) - np.einsum('i,j->ij', p, p)


def softmax_backward(y, dL_dy):
    K = y.shape[0]
    J = np.einsum('i,ij->ij', y, np.eye(K)) - np.einsum('i,j->ij', y, y)
    # dL/dz_j = sum_i dL/dy_i * dy_i/dz_j
    return np.einsum('i,ij->j', dL_dy, J)


def cross_entropy_grad(z, label):
    p = softmax(z)
    onehot = np.eye(p.shape[0])[label]
    return p - onehot


def cross_entropy_grad_batch(Z, labels):
    Z = np.asarray(Z, dtype=np.float64)
    N, K = Z.shape
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    P = E / np.einsum('nk->n', E)[:, None]
    Y = np.eye(K)[labels]
    return (P - Y) / N


def squared_loss_grad(z, y):
    p = softmax(z)
    J = softmax_jacobian(z)
    return 2 * np.einsum('ij,i->j', J, p - y)

# FUNCTION: cross_entropy_grad
# Mistake (ce.one_based_label): the book numbers classes 1..n, so I shifted
# the label by one -- but the labels here already start at 0 (label 0 then
# wraps round to the last class).
import numpy as np


def cross_entropy_grad(z, label):
    p = softmax(z)
    y = np.zeros(len(p))
    y[label - 1] = 1.0
    return p - y

# FUNCTION: squared_loss_grad
# Mistake (sq.sigmoid_derivative): copied the book draft's formula
# 2 (p - y) * p * (1 - p), which is the sigmoid's derivative, not softmax's.
import numpy as np


def squared_loss_grad(z, y):
    p = softmax(z)
    return 2 * (p - y) * p * (1 - p)
