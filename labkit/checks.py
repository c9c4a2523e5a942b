"""Assertions for test cells whose messages say what was checked and what came out.

Each ``check_*`` raises ``AssertionError`` (nbgrader's failure) with a sentence a student can act on, e.g.
"max error 8.8e-06 against tolerance 1e-06 for softmax of logits near 100". ``what`` names the thing checked.
Hidden tests pass ``show_values=False``: the message still says what was checked and what the answer gave,
but never the expected value.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def _brief(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return np.array2string(value, threshold=8, edgeitems=3, precision=6)
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def check_close(actual: Any, expected: Any, *, atol: float = 0.0, rtol: float = 0.0, what: str = "the result",
                show_values: bool = True) -> None:
    """``|actual - expected| <= atol + rtol * |expected|`` elementwise; same shape; no NaN where a number is due."""
    try:
        got = np.asarray(actual, dtype=np.float64)
    except (TypeError, ValueError):
        raise AssertionError(f"expected numbers for {what}, got {type(actual).__name__} {_brief(actual)}") from None
    want = np.asarray(expected, dtype=np.float64)
    if got.shape != want.shape:
        raise AssertionError(f"{what} has shape {got.shape}, expected {want.shape}")
    if np.isnan(got[~np.isnan(want)]).any():
        raise AssertionError(f"{what} contains NaN where a number is expected")
    with np.errstate(invalid="ignore"):  # inf - inf: no RuntimeWarning (stderr would zero a test cell)
        same = (got == want) | (np.isnan(got) & np.isnan(want))
        error = np.where(same, 0.0, np.abs(got - want))
        tolerance = np.where(np.isfinite(want), atol + rtol * np.abs(want), atol)
    excess = np.nan_to_num(error - tolerance, nan=np.inf)
    if (excess > 0).any():
        worst = np.unravel_index(np.argmax(excess), excess.shape) if excess.ndim else ()
        message = f"max error {error[worst]:.2g} against tolerance {tolerance[worst]:.2g} for {what}"
        if show_values:
            message += f" (expected {_brief(expected)}, got {_brief(actual)})"
        raise AssertionError(message)


def check_equal(actual: Any, expected: Any, *, what: str = "the result", show_values: bool = True) -> None:
    """``actual == expected`` (arrays: same shape and every element equal)."""
    if isinstance(actual, np.ndarray) or isinstance(expected, np.ndarray):
        equal = np.shape(actual) == np.shape(expected) and bool(np.all(np.asarray(actual) == np.asarray(expected)))
    else:
        equal = bool(actual == expected)
    if not equal:
        shown = f"expected {_brief(expected)}, got {_brief(actual)}" if show_values else f"got {_brief(actual)}"
        raise AssertionError(f"wrong {what}: {shown}")


def check_type(value: Any, expected: type | tuple[type, ...], *, what: str = "the result",
               show_values: bool = True) -> None:
    """``isinstance(value, expected)``, except that a bool is not accepted as an int or float unless bool is
    listed (``True`` is an ``int`` to Python, but never the count or measure a task asks for)."""
    types = expected if isinstance(expected, tuple) else (expected,)
    ok = isinstance(value, types) and (not isinstance(value, bool) or bool in types)
    if not ok:
        names = " or ".join(t.__name__ for t in types)
        shown = f" ({_brief(value)})" if show_values else ""
        raise AssertionError(f"expected {names} for {what}, got {type(value).__name__}{shown}")


def check_array(actual: Any, *, shape: tuple[int | None, ...] | None = None, dtype: Any = None,
                what: str = "the result") -> None:
    """A numpy array, with ``shape`` (None in a position: any size) and ``dtype`` if given."""
    if not isinstance(actual, np.ndarray):
        raise AssertionError(f"expected a numpy array for {what}, got {type(actual).__name__}")
    if shape is not None and (actual.ndim != len(shape) or any(
            want is not None and got != want for got, want in zip(actual.shape, shape, strict=True))):
        wanted = "(" + ", ".join("any" if n is None else str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"
        raise AssertionError(f"{what} has shape {actual.shape}, expected {wanted}")
    if dtype is not None and actual.dtype != np.dtype(dtype):
        raise AssertionError(f"{what} has dtype {actual.dtype}, expected {np.dtype(dtype)}")


def check_raises(expected: type[BaseException] | tuple[type[BaseException], ...], call: Callable[[], Any], *,
                 what: str, show_values: bool = True) -> BaseException:
    """``call()`` raises ``expected``; returns the exception so a test can check its message."""
    names = " or ".join(t.__name__ for t in (expected if isinstance(expected, tuple) else (expected,)))
    try:
        result = call()
    except expected as error:
        return error
    except Exception as error:
        detail = f": {error}" if str(error) else ""
        raise AssertionError(f"expected {names} for {what}, but it raised {type(error).__name__}{detail}") from None
    shown = f" {_brief(result)}" if show_values else " a value"
    raise AssertionError(f"expected {names} for {what}, but it returned{shown}")
