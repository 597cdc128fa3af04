"""The ``softmax_gradients`` assignment: contract, seeded cases, points, and its known mistakes.

Nothing here computes a right gradient: mutants are written either as a wrong
formula of their own or as a change to the reference module they are given.
"""

from __future__ import annotations

import numpy as np

from grader.exercises.base import Case, Check, Exercise, Function, Mutant

NAME = "softmax_gradients"
VERSION = "3"

FUNCTIONS = (
    Function("softmax", ("z",), derivative=False),
    Function("softmax_jacobian", ("z",)),
    Function("softmax_backward", ("y", "dL_dy")),
    Function("cross_entropy_grad", ("z", "label")),
    Function("cross_entropy_grad_batch", ("Z", "labels")),
    Function("squared_loss_grad", ("z", "y")),
)


# ---------------------------------------------------------------- cases


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _logits(rng: np.random.Generator, k: int, scale: float = 2.0, shift: float = 0.0) -> np.ndarray:
    return shift + scale * rng.standard_normal(k)


def _probabilities(rng: np.random.Generator, k: int) -> np.ndarray:
    """A random point of the simplex (every such point is the softmax of its logarithm)."""
    r = rng.uniform(0.05, 1.0, k)
    return r / r.sum()


def _onehot(k: int, label: int) -> np.ndarray:
    y = np.zeros(k)
    y[label] = 1.0
    return y


def _label_cycle(k: int, i: int) -> int:
    """Labels at both ends of the range and in between."""
    return (0, k - 1, k // 2)[i % 3]


def _z_cases(seed: int, sizes: list[int], scale: float = 2.0, shift: float = 0.0, tag: str = "") -> tuple[Case, ...]:
    rng = _rng(seed)
    tags = frozenset({tag}) if tag else frozenset()
    return tuple(Case(f"K{k}-{i}", (_logits(rng, k, scale, shift),), tags) for i, k in enumerate(sizes))


def _large_cases(seed: int, sizes: list[int], wide: list[int]) -> tuple[Case, ...]:
    """Scores of size 1e3: near-ties above +1000 (exp overflows) and below -1000 (exp underflows), then
    scores spread from -1000 to +1000 (sizes ``wide``, at least 4), where only the largest score is a safe
    constant to subtract: z - min(z) or z - mean(z) still overflows there, though it is right on a near-tie."""
    rng = _rng(seed)
    cases = []
    for i, k in enumerate(sizes):
        shift = 1000.0 if i % 2 == 0 else -1000.0
        cases.append(Case(f"K{k}-large-{i}", (_logits(rng, k, 1.5, shift),), frozenset({"large"})))
    for i, k in enumerate(wide):
        assert k >= 4, "with fewer scores, max(z) - mean(z) may stay below 709: the mean would not overflow"
        z = rng.uniform(-1000.0, -500.0, k)  # the mean stays at about 250 or below, so max(z) - mean(z) > 749
        top, runner_up = rng.choice(k, size=2, replace=False)
        z[top] = 1000.0 + rng.uniform(0.0, 1.0)
        z[runner_up] = z[top] - rng.uniform(0.5, 2.0)  # two probabilities well away from 0
        cases.append(Case(f"K{k}-wide-{i}", (z,), frozenset({"large"})))
    return tuple(cases)


def _backward_cases(seed: int, sizes: list[int]) -> tuple[Case, ...]:
    rng = _rng(seed)
    return tuple(Case(f"K{k}-{i}", (_probabilities(rng, k), rng.standard_normal(k))) for i, k in enumerate(sizes))


def _label_cases(seed: int, sizes: list[int], scale: float = 2.0, spread: bool = False) -> tuple[Case, ...]:
    rng = _rng(seed)
    cases = []
    for i, k in enumerate(sizes):
        z = _logits(rng, k, scale)
        label = _label_cycle(k, i)
        if spread:  # scores of size 1e3, the label never the largest (so the gradient is not zero)
            z = 1000.0 * np.sign(z) + z
            z[label] = z.min() - 1.0 if i % 2 else z.max() - 3.0
            if int(np.argmax(z)) == label:
                z[label] -= 5.0
        cases.append(Case(f"K{k}-label{label}", (z, label), frozenset({"large"}) if spread else frozenset()))
    return tuple(cases)


def _batch_cases(seed: int, shapes: list[tuple[int, int]]) -> tuple[Case, ...]:
    rng = _rng(seed)
    cases = []
    for i, (n, k) in enumerate(shapes):
        labels = np.array([_label_cycle(k, i + j) for j in range(n)], dtype=np.int64)
        cases.append(Case(f"N{n}-K{k}", (_logits(rng, n * k).reshape(n, k), labels)))
    return tuple(cases)


def _onehot_cases(seed: int, sizes: list[int]) -> tuple[Case, ...]:
    rng = _rng(seed)
    return tuple(
        Case(f"K{k}-label{_label_cycle(k, i)}", (_logits(rng, k), _onehot(k, _label_cycle(k, i))))
        for i, k in enumerate(sizes)
    )


def _check(function: str, name: str, cases: tuple[Case, ...], points: float) -> Check:
    tags = frozenset().union(*(c.tags for c in cases))
    return Check(function, name, "public" if name.startswith("public") else "hidden", cases, points, tags=tags)


CHECKS = (
    _check("softmax", "public", _z_cases(101, [3, 4, 5, 6]), 4),
    _check("softmax", "public-large", _large_cases(102, [4, 5], wide=[6]), 2),
    _check("softmax", "hidden-random", _z_cases(103, [2, 3, 5, 8, 10, 12], scale=3.0), 5),
    _check("softmax", "hidden-large", _large_cases(104, [3, 6, 10, 2], wide=[8, 5]), 4),
    _check("softmax_jacobian", "public", _z_cases(201, [3, 4, 5]), 6),
    _check("softmax_jacobian", "hidden-random", _z_cases(202, [2, 3, 4, 6, 8, 10]), 10),
    _check("softmax_jacobian", "hidden-peaked", _z_cases(203, [5, 7], scale=6.0), 4),
    _check("softmax_backward", "public", _backward_cases(301, [3, 4, 5]), 5),
    _check("softmax_backward", "hidden-random", _backward_cases(302, [2, 3, 6, 8, 10]), 10),
    _check("cross_entropy_grad", "public", _label_cases(401, [3, 4, 5]), 4),
    _check("cross_entropy_grad", "public-large", _label_cases(404, [4, 6], spread=True), 1),
    _check("cross_entropy_grad", "hidden-random", _label_cases(402, [2, 3, 4, 6, 8, 10]), 6),
    _check("cross_entropy_grad", "hidden-large", _label_cases(403, [3, 5, 10], spread=True), 4),
    _check("cross_entropy_grad_batch", "public", _batch_cases(501, [(4, 3), (1, 4), (3, 5)]), 5),
    _check("cross_entropy_grad_batch", "hidden-random", _batch_cases(502, [(5, 3), (8, 10), (2, 7), (6, 4)]), 6),
    _check("cross_entropy_grad_batch", "hidden-single-row", _batch_cases(503, [(1, 3), (1, 10), (1, 6)]), 4),
    _check("squared_loss_grad", "public", _onehot_cases(601, [3, 4, 5]), 6),
    _check("squared_loss_grad", "hidden-random", _onehot_cases(602, [2, 3, 4, 5, 7, 10]), 14),
)


# ---------------------------------------------------------------- mutants


def _p(ref, z):
    return ref.softmax(np.asarray(z, dtype=float))


def _batch_onehot(Z, labels):
    Y = np.zeros_like(Z, dtype=float)
    Y[np.arange(Z.shape[0]), labels] = 1.0
    return Y


def _rows_softmax(ref, Z, axis):
    """The reference softmax along one axis of Z."""
    return np.apply_along_axis(ref.softmax, axis, np.asarray(Z, dtype=float))


def _all_softmax(ref, Z):
    """The reference softmax over every entry of Z at once."""
    return ref.softmax(np.asarray(Z, dtype=float).ravel()).reshape(Z.shape)


# What students subtract before exponentiating, none of them safe for every input: nothing, the
# smallest score (right on a near-tie), the mean score.
_UNSAFE_SHIFTS = (lambda z: 0.0, np.min, np.mean)


def _shifted_softmax(z, shift) -> np.ndarray:
    e = np.exp(np.asarray(z, dtype=float) - shift(z))
    return e / np.sum(e)


def _m(code: str, function: str, message: str, *variants) -> Mutant:
    return Mutant(code, function, tuple(variants), message)


MUTANTS = (
    _m(
        "softmax.unstable", "softmax",
        "Your softmax returns nan for large scores: exp of a number above about 709 is inf (and below about "
        "-745 it is 0), and inf/inf or 0/0 is nan. It is right for small scores, which is why small tests pass. "
        "The softmax of eq. 10.11 does not change when the same constant c is subtracted from every score, but "
        "not every c keeps exp finite: choose it so that the largest z_i - c is 0 (no exp then overflows, and "
        "their sum is at least 1), however far apart the scores are (the large test has scores from -1000 to "
        "+1000 in one vector).",
        *(lambda ref, z, shift=shift: _shifted_softmax(z, shift) for shift in _UNSAFE_SHIFTS),
    ),
    _m(
        "softmax.not_normalized", "softmax",
        "The exponentials are not divided by their sum, so the result is not a probability vector (it does "
        "not add up to 1). Eq. 10.11: yhat_i = exp(o_i) / sum_j exp(o_j).",
        lambda ref, z: np.exp(z - np.max(z)),
    ),
    _m(
        "jacobian.diagonal_only", "softmax_jacobian",
        "Only the diagonal of J is filled in, and it holds p_i(1 - p_i): that is the derivative of a sigmoid, "
        "applied elementwise. A softmax couples every output to every input through the normalising sum, so "
        "d p_i / d z_j is not zero for i != j. Differentiate eq. 10.11 again for the case i != j.",
        lambda ref, z: np.diag(_p(ref, z) * (1 - _p(ref, z))),
    ),
    _m(
        "jacobian.elementwise_vector", "softmax_jacobian",
        "You returned the vector p * (1 - p), of shape (K,), where the (K, K) matrix J[i, j] = d p_i / d z_j "
        "was asked. p(1-p) is the sigmoid's derivative, applied elementwise; softmax couples every output to "
        "every input, so the off-diagonal terms d p_i / d z_j (i != j) are needed too.",
        lambda ref, z: _p(ref, z) * (1 - _p(ref, z)),
    ),
    _m(
        "jacobian.missing_outer_product", "softmax_jacobian",
        "J holds only diag(p): the term that comes from differentiating the normalising sum is missing, so the "
        "off-diagonal entries are zero and the diagonal is too large. Differentiate p_i = exp(z_i) / S with the "
        "quotient rule, remembering that S depends on every z_j.",
        lambda ref, z: np.diag(_p(ref, z)),
    ),
    _m(
        "jacobian.missing_diagonal_term", "softmax_jacobian",
        "J holds only the part that comes from the normalising sum: the term of d exp(z_i) / d z_j, which is "
        "non-zero only when i = j (the Kronecker delta delta_ij), is missing. Write both cases i = j and i != j.",
        lambda ref, z: ref.softmax_jacobian(z) - np.diag(_p(ref, z)),
    ),
    _m(
        "jacobian.sign_flipped", "softmax_jacobian",
        "Every entry of J has the wrong sign. Increasing z_i must increase p_i (the diagonal of J is positive) "
        "and decrease every other p_j. Check the sign of the quotient rule in d p_i / d z_j.",
        lambda ref, z: -ref.softmax_jacobian(z),
    ),
    _m(
        "jacobian.missing_yi_factor", "softmax_jacobian",
        "Row i of J is missing its factor p_i: you have delta_ij - p_j (or its transpose, delta_ij - p_i, "
        "where column j lacks its p_j) where d p_i / d z_j is asked. This is d log p_i / d z_j, the derivative "
        "of the log-probability, not of the probability (the two are easy to mix up when working from eq. "
        "10.18). Revisit the step from one to the other.",
        lambda ref, z: np.eye(len(z)) - _p(ref, z)[None, :],
        lambda ref, z: np.eye(len(z)) - _p(ref, z)[:, None],  # the same, indices the other way round
    ),
    _m(
        "jacobian.inner_instead_of_outer", "softmax_jacobian",
        "The same number, the inner product p . p, is subtracted from every entry of diag(p). The term that "
        "couples output i to input j depends on both i and j: it is an outer product of p with itself, not a "
        "dot product (np.dot of two 1-D arrays is a scalar).",
        lambda ref, z: np.diag(_p(ref, z)) - np.dot(_p(ref, z), _p(ref, z)),
    ),
    _m(
        "jacobian.from_logits", "softmax_jacobian",
        "Your J is built from the scores z instead of the probabilities p = softmax(z). The derivative of the "
        "softmax is written in terms of its own output yhat = softmax(o) (eq. 10.11): compute p first (task 1), then use it.",
        lambda ref, z: np.diag(z) - np.outer(z, z),
    ),
    _m(
        "backward.missing_y_factor", "softmax_backward",
        "The scalar 1^T s is subtracted whole from every entry of s, as a literal reading of s - sum_j s_j "
        "suggests; but each entry should lose only its own share of it, one that depends on i. Expand "
        "the chain rule sum_j (dL/dy_j)(dy_j/dz_i) with the Jacobian of task 2 to see which share.",
        lambda ref, y, g: y * g - np.sum(y * g),
    ),
    _m(
        "backward.missing_elementwise_y", "softmax_backward",
        "The upstream gradient g is used as it is, where the softmax's Jacobian weights it: write out "
        "dL/dz_j = sum_i g_i d y_i / d z_j with the Jacobian of eq. 10.11's softmax, and look at the factor "
        "that every term of it carries.",
        lambda ref, y, g: g - np.dot(y, g),
    ),
    _m(
        "backward.diagonal_only", "softmax_backward",
        "You multiplied the upstream gradient by y(1 - y) elementwise: that is the sigmoid's derivative, the "
        "diagonal of the softmax Jacobian only. A softmax couples every output to every input, so dL/dz_i "
        "collects contributions from every dL/dy_j.",
        lambda ref, y, g: y * (1 - y) * g,
    ),
    _m(
        "backward.sign_flipped", "softmax_backward",
        "dL/dz has the wrong sign everywhere. Recheck the sign of each term of the Jacobian in the chain rule "
        "sum_j (dL/dy_j)(dy_j/dz_i).",
        lambda ref, y, g: -ref.softmax_backward(y, g),
    ),
    _m(
        "backward.identity", "softmax_backward",
        "The upstream gradient is passed through unchanged, as if the softmax were the identity. Backward "
        "through a layer multiplies by the transposed Jacobian of that layer (task 2).",
        lambda ref, y, g: np.array(g, dtype=float),
    ),
    _m(
        "softmax.unstable", "cross_entropy_grad",
        "This gradient is nan for scores of size 1e3 because the softmax inside it overflows: exp of a number "
        "above about 709 is inf (and below about -745 it is 0). If it calls your softmax, fix that one first (see its large test); "
        "softmax(z) does not change when the same constant c is subtracted from every score, and a c that "
        "makes the largest z_i - c equal to 0 keeps every exp finite.",
        *(
            lambda ref, z, label, shift=shift: _shifted_softmax(z, shift) - _onehot(len(z), label)
            for shift in _UNSAFE_SHIFTS
        ),
    ),
    _m(
        "ce.label_as_vector", "cross_entropy_grad",
        "The integer label is subtracted from every entry of p, as if it were the target vector. The label y "
        "is a class index: in eq. 10.18, yhat_i - 1_{i=y}, only the entry i = y loses 1 (the indicator, not "
        "the number y).",
        lambda ref, z, label: _p(ref, z) - label,
    ),
    _m(
        "ce.one_based_label", "cross_entropy_grad",
        "The 1 is subtracted at index label - 1: the book numbers classes 1..n, but here (and in NumPy) "
        "labels run from 0 to K - 1. The indicator of eq. 10.18 is 1 exactly at i = y.",
        lambda ref, z, label: _p(ref, z) - _onehot(len(z), label - 1),
    ),
    _m(
        "ce.sign_flipped", "cross_entropy_grad",
        "The gradient has the wrong sign: you have the gradient of log yhat_y, not of L = -log yhat_y. "
        "Eq. 10.18 starts from the negative log-likelihood.",
        lambda ref, z, label: -ref.cross_entropy_grad(z, label),
    ),
    _m(
        "ce.missing_softmax", "cross_entropy_grad",
        "The scores z are used where the probabilities yhat = softmax(z) belong. Eq. 10.18 is written with "
        "yhat(t) = softmax(o(t)) (eq. 10.11): apply the softmax first.",
        lambda ref, z, label: np.asarray(z, dtype=float) - _onehot(len(z), label),
    ),
    _m(
        "ce.mse_derivative", "cross_entropy_grad",
        "The extra factor p * (1 - p) comes from a squared-error (Gaussian) loss and a sigmoid, not from "
        "the cross-entropy of a softmax: with L = -log softmax(z)[y] those factors cancel. Revisit eq. 10.14 "
        "(the loss) and eq. 10.18.",
        lambda ref, z, label: (_p(ref, z) - _onehot(len(z), label)) * _p(ref, z) * (1 - _p(ref, z)),
    ),
    _m(
        "ce.extra_yhat_factor", "cross_entropy_grad",
        "Your gradient is p_y times the right one: the factor 1 / yhat_y from d log yhat_y = d yhat_y / yhat_y "
        "was forgotten. In the chain rule through the Jacobian it cancels the p_y of the Jacobian's row "
        "(write d L / d z_i as (1 / yhat_y) d yhat_y / d z_i and simplify).",
        lambda ref, z, label: _p(ref, z)[label] * ref.cross_entropy_grad(z, label),
    ),
    _m(
        "ce.only_true_class", "cross_entropy_grad",
        "Only the entry of the true class is non-zero: but -log yhat_y depends on every score through the "
        "softmax's normalising sum, so every other entry i != y gets a gradient too (eq. 10.18 holds for all i).",
        lambda ref, z, label: (_p(ref, z)[label] - 1) * _onehot(len(z), label),
    ),
    _m(
        "ce_batch.missing_mean", "cross_entropy_grad_batch",
        "Your gradient is N times too large: the loss of task 5 is the mean over the N rows of the batch, not "
        "their sum. Eq. 10.18 gives the gradient of one row's loss; the mean weighs each row by 1/N.",
        lambda ref, Z, labels: ref.cross_entropy_grad_batch(Z, labels) * Z.shape[0],
    ),
    _m(
        "ce_batch.label_as_vector", "cross_entropy_grad_batch",
        "Each row's integer label is subtracted from every entry of that row, as if it were the target vector. "
        "A label is a class index: only the entry of the true class loses 1 (the indicator 1_{i=y} of eq. 10.18).",
        lambda ref, Z, labels: _rows_softmax(ref, Z, 1) - labels[:, None],
        lambda ref, Z, labels: (_rows_softmax(ref, Z, 1) - labels[:, None]) / Z.shape[0],
    ),
    _m(
        "ce.one_based_label", "cross_entropy_grad_batch",
        "Each row's 1 is subtracted at index label - 1: the book numbers classes 1..n, but here (and in NumPy) "
        "labels run from 0 to K - 1, and a label 0 then takes its 1 from the last class (index -1). The "
        "indicator of eq. 10.18 is 1 exactly at i = y, in every row.",
        lambda ref, Z, labels: (_rows_softmax(ref, Z, 1) - _batch_onehot(Z, labels - 1)) / Z.shape[0],
    ),
    _m(
        "ce_batch.softmax_wrong_axis", "cross_entropy_grad_batch",
        "The softmax is taken down the columns (over the batch, axis 0) instead of across each row (over the "
        "classes, axis 1): each row of probabilities must add up to 1.",
        lambda ref, Z, labels: (_rows_softmax(ref, Z, 0) - _batch_onehot(Z, labels)) / Z.shape[0],
        lambda ref, Z, labels: _rows_softmax(ref, Z, 0) - _batch_onehot(Z, labels),
    ),
    _m(
        "ce_batch.softmax_over_all_entries", "cross_entropy_grad_batch",
        "The softmax is taken over every entry of Z at once (as scipy.special.softmax does with its default "
        "axis=None), so all N*K probabilities add up to 1 instead of each row. Take it over the classes of each row.",
        lambda ref, Z, labels: (_all_softmax(ref, Z) - _batch_onehot(Z, labels))
        / Z.shape[0],
        lambda ref, Z, labels: _all_softmax(ref, Z) - _batch_onehot(Z, labels),
    ),
    _m(
        "sq.sigmoid_derivative", "squared_loss_grad",
        "You multiplied 2(p - y) by p(1 - p) elementwise: that is the formula for a sigmoid output, printed "
        "by mistake in a draft of the book and since corrected by its authors. A softmax couples every "
        "output to every input, so dL/dz goes through the full Jacobian of task 2.",
        lambda ref, z, y: 2 * (_p(ref, z) - y) * _p(ref, z) * (1 - _p(ref, z)),
    ),
    _m(
        "sq.missing_factor_2", "squared_loss_grad",
        "Your gradient is half the right one: the derivative of the square (p_i - y_i)^2 in the loss of task 6 "
        "carries a factor 2 through the chain rule.",
        lambda ref, z, y: ref.squared_loss_grad(z, y) / 2,
    ),
    _m(
        "sq.missing_softmax_jacobian", "squared_loss_grad",
        "You returned the gradient with respect to p, not z: the chain rule through the softmax (its "
        "Jacobian, task 2) is missing. dL/dz = (dp/dz)^T dL/dp.",
        lambda ref, z, y: 2 * (_p(ref, z) - y),
        lambda ref, z, y: _p(ref, z) - y,
    ),
    _m(
        "sq.mean_over_classes", "squared_loss_grad",
        "Your gradient is 1/K of the right one: the loss here is a sum over the K classes, not a mean "
        "(the common 2 (yhat - y) / y.size divides by the number of classes). Reread the loss of task 6.",
        lambda ref, z, y: ref.squared_loss_grad(z, y) / len(z),
    ),
)


# ---------------------------------------------------------------- forward functions (for finite differences)
# Each gives the point to differentiate at and the function whose derivative the graded function returns.


def _fd_jacobian(ref, z):
    return z, ref.softmax


def _fd_backward(ref, y, g):
    return np.log(y), lambda x: float(np.dot(g, ref.softmax(x)))


def _fd_ce(ref, z, label):
    return z, lambda x: float(np.logaddexp.reduce(x) - x[label])


def _fd_ce_batch(ref, Z, labels):
    rows = np.arange(Z.shape[0])
    return Z, lambda X: float(np.mean(np.logaddexp.reduce(X, axis=1) - X[rows, labels]))


def _fd_sq(ref, z, y):
    return z, lambda x: float(np.sum((ref.softmax(x) - y) ** 2))


EXERCISE = Exercise(
    name=NAME,
    version=VERSION,
    title="Softmax gradients",
    functions=FUNCTIONS,
    checks=CHECKS,
    mutants=MUTANTS,
    forward={
        "softmax_jacobian": _fd_jacobian,
        "softmax_backward": _fd_backward,
        "cross_entropy_grad": _fd_ce,
        "cross_entropy_grad_batch": _fd_ce_batch,
        "squared_loss_grad": _fd_sq,
    },
    overflows={
        function: ("softmax.unstable",
                   f"Your {what} raises OverflowError for large scores: math.exp of a number above about 709 is too "
                   "large for a float (np.exp gives inf there, then nan). It is right for small scores, which is why "
                   "small tests pass. softmax(z) does not change when the same constant c is subtracted from every "
                   "score, but not every c keeps exp finite: choose it so that the largest z_i - c is 0, however far "
                   "apart the scores are (the large test has scores from -1000 to +1000 in one vector).")
        for function, what in (("softmax", "softmax"), ("cross_entropy_grad", "gradient's softmax"))
    },
)
