import numpy as np


def softmax(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - np.max(z))
    return e / e.sum()


def softmax_jacobian(z):
    p = softmax(z)
    return np.diag(p) - np.outer(p, p)


def softmax_backward(y, dL_dy):
    s = y * dL_dy
    return s - s.sum() * y


def cross_entropy_grad(z, label):
    grad = softmax(z)
    grad[label] -= 1.0
    return grad


def cross_entropy_grad_batch(Z, labels):
    Z = np.asarray(Z, dtype=float)
    N = Z.shape[0]
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    P[np.arange(N), labels] -= 1.0
    return P / N


def squared_loss_grad(z, y):
    p = softmax(z)
    J = np.diag(p) - np.outer(p, p)
    return 2 * J.T @ (p - y)

# FUNCTION: softmax_jacobian
# Mistake (jacobian.diagonal_only): used the sigmoid derivative p(1-p) on the
# diagonal and zero elsewhere -- the cross terms dp_i/dz_j (i != j) are dropped.
import numpy as np


def softmax_jacobian(z):
    p = softmax(z)
    return np.diag(p * (1 - p))
