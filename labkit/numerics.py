"""Floating-point error bounds for derived test tolerances (Higham, Accuracy and Stability of Numerical
Algorithms, 2nd ed., §2.2 and §3.1): a test states the growth factor of its computation instead of a magic number.

>>> unit_roundoff("float32") == 2.0 ** -24
True
>>> gamma(2, "float64") > 2 * unit_roundoff("float64")
True
"""
from __future__ import annotations

from typing import Any

import numpy as np


def unit_roundoff(dtype: Any) -> float:
    """u = 2**-p for a p-bit significand: the largest relative error of rounding one real to ``dtype``
    (half of numpy's ``eps``, the gap between 1 and the next float)."""
    kind = np.dtype(dtype)
    if kind.kind != "f":
        raise ValueError(f"unit roundoff is defined for floating-point dtypes, not {kind}")
    return float(np.finfo(kind).eps) / 2


def gamma(n: int, dtype: Any) -> float:
    """Higham's gamma_n = n u / (1 - n u): the relative error bound of n successive roundings, e.g. a sum of
    n + 1 terms or a dot product of length n in ``dtype``. Needs n u < 1."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise ValueError(f"n must be a whole number >= 0, got {n!r}")
    nu = n * unit_roundoff(dtype)
    if nu >= 1:
        raise ValueError(f"gamma_{n} is unbounded in {np.dtype(dtype)} (n u = {nu:.3g} >= 1)")
    return nu / (1 - nu)
