"""Central finite differences in float64."""

from __future__ import annotations

from typing import Callable

import numpy as np


def numerical_jacobian(function: Callable[[np.ndarray], np.ndarray], point: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """d function(x) / d x at ``point`` by central differences; shape ``out.shape + point.shape``.

    For a scalar function this is the gradient, shaped like ``point``.
    """
    point = np.array(point, dtype=np.float64)
    out_shape = np.shape(function(point.copy()))
    jac = np.empty(out_shape + point.shape)
    for index in np.ndindex(point.shape):
        step = h * max(1.0, abs(point[index]))
        plus, minus = point.copy(), point.copy()
        plus[index] += step
        minus[index] -= step
        jac[(...,) + index] = (np.asarray(function(plus)) - np.asarray(function(minus))) / (2 * step)
    return jac
