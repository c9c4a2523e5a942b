"""Argument checks shared by labkit's reference functions (one wording for every lab's error messages)."""
from __future__ import annotations

import numpy as np


def count(value: object, name: str, least: int) -> int:
    """``value`` as an int, or ValueError unless it is an integer (a numpy one too, never a bool) >= ``least``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < least:
        raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
    return int(value)
