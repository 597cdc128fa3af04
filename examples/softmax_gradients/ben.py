# Homework 3 - softmax gradients
# I did everything with plain loops so I can see every index.
import math


def softmax(z):
    # subtract the biggest logit first so exp never overflows
    m = max(z)
    exps = [math.exp(zi - m) for zi in z]
    total = sum(exps)
    return [e / total for e in exps]


def softmax_jacobian(z):
    p = softmax(z)
    K = len(p)
    J = []
    for i in range(K):
        row = []
        for j in range(K):
            if i == j:
                row.append(p[i] * (1 - p[j]))
            else:
                row.append(-p[i] * p[j])
        J.append(row)
    return J


def softmax_backward(y, dL_dy):
    K = len(y)
    s = [y[i] * dL_dy[i] for i in range(K)]
    total = sum(s)
    return [s[i] - total * y[i] for i in range(K)]


def cross_entropy_grad(z, label):
    p = softmax(z)
    grad = []
    for i in range(len(p)):
        if i == label:
            grad.append(p[i] - 1)
        else:
            grad.append(p[i])
    return grad


def cross_entropy_grad_batch(Z, labels):
    N = len(Z)
    out = []
    for n in range(N):
        g = cross_entropy_grad(Z[n], labels[n])
        out.append([gi / N for gi in g])
    return out


def squared_loss_grad(z, y):
    p = softmax(z)
    K = len(p)
    J = softmax_jacobian(z)
    grad = []
    for j in range(K):
        total = 0.0
        for i in range(K):
            total += 2 * (p[i] - y[i]) * J[i][j]
        grad.append(total)
    return grad
