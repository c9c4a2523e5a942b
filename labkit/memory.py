"""The memory hierarchy in numbers (lab 04): cache lines touched by strided reads, STREAM byte accounting, knees of
a working-set sweep matched to the census's caches, and the two measurements the lab plots (strided sums and
STREAM-like kernels on this machine; timings for figures only, never for grades).

``lines_touched``, ``stream_traffic_bytes`` and ``match_cache_levels`` are the lab's references (guarded in its
tests). The working-set sweep and its knee finder are ``labkit.workingset`` (lab 01), not repeated here.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from . import timing

TimeCalls = Callable[..., list[float]]  # time_calls(fn, repeats, warmup=1, clock=...) -> seconds per call

# STREAM's four kernels (McCalpin): (arrays read, arrays written) per element.
STREAM_KERNELS: dict[str, tuple[int, int]] = {
    "copy": (1, 1),   # a[i] = b[i]
    "scale": (1, 1),  # a[i] = q * b[i]
    "add": (2, 1),    # a[i] = b[i] + c[i]
    "triad": (2, 1),  # a[i] = b[i] + q * c[i]
}


def _positive_int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


def lines_touched(count: int, stride: int, itemsize: int = 8, line_bytes: int = 64, offset: int = 0) -> int:
    """Distinct cache lines holding any byte of ``count`` elements of ``itemsize`` bytes, element k at bytes
    [offset + k * stride, offset + k * stride + itemsize). ``stride`` is in bytes (numpy's ``strides``) and may be
    zero or negative. Union of each element's line range [first, last], in address order: O(count)."""
    if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 0:
        raise ValueError(f"count must be a non-negative integer, got {count!r}")
    itemsize, line_bytes = _positive_int(itemsize, "itemsize"), _positive_int(line_bytes, "line_bytes")
    if count == 0:
        return 0
    # walk the elements in increasing address order (reversed for a negative stride): then both ends of every
    # element's line range increase, and a range adds the lines beyond the furthest line covered so far
    k = np.arange(int(count), dtype=np.int64)
    start = int(offset) + (k if stride >= 0 else k[::-1]) * int(stride)
    first, last = start // line_bytes, (start + itemsize - 1) // line_bytes
    covered_before = np.concatenate([[first[0] - 1], np.maximum.accumulate(last)[:-1]])
    return int(np.clip(last - np.maximum(first, covered_before + 1) + 1, 0, None).sum())


def stream_traffic_bytes(kernel: str, n: int, itemsize: int = 8, write_allocate: bool = True) -> int:
    """Bytes between the cache and memory for one pass of a STREAM kernel over arrays of ``n`` elements: every
    read array once, every written array once, and, with a write-allocate cache, every written line read
    first. STREAM itself reports bandwidth without the write-allocate reads (``write_allocate=False``)."""
    if kernel not in STREAM_KERNELS:
        raise ValueError(f"unknown STREAM kernel {kernel!r} (known: {', '.join(STREAM_KERNELS)})")
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    itemsize = _positive_int(itemsize, "itemsize")
    if not isinstance(write_allocate, bool | np.bool_):
        raise ValueError(f"write_allocate must be True or False, got {write_allocate!r}")
    reads, writes = STREAM_KERNELS[kernel]
    return int(n) * itemsize * (reads + writes + (writes if write_allocate else 0))


def match_cache_levels(knees: Sequence[float], capacities: Sequence[float], max_ratio: float = 2.0) -> list:
    """For each knee, the index of the capacity nearest to it on a log scale, i.e. with the smallest ratio
    max(knee / capacity, capacity / knee) (a tie goes to the smaller capacity), or None when that ratio is above
    ``max_ratio``. Ratios, not logarithms, so that ties and the threshold are exact."""
    k, c = np.asarray(knees, dtype=np.float64), np.asarray(capacities, dtype=np.float64)
    if k.ndim != 1 or c.ndim != 1:
        raise ValueError("knees and capacities must be one-dimensional sequences")
    if np.any(~(k > 0)) or np.any(~(c > 0)):
        raise ValueError("knees and capacities must be positive")
    if not max_ratio >= 1:
        raise ValueError(f"max_ratio must be at least 1, got {max_ratio!r}")
    result: list = []
    for knee in k:
        if len(c) == 0:
            result.append(None)
            continue
        ratio = np.maximum(knee / c, c / knee)
        best = min(range(len(c)), key=lambda i: (ratio[i], c[i]))
        result.append(best if ratio[best] <= max_ratio else None)
    return result


def strided_sum_ns(strides: Sequence[int], *, array_bytes: int = 32 * 1024**2, repeats: int = 5,
                   time_calls: TimeCalls | None = None) -> np.ndarray:
    """Nanoseconds per element of ``x[::s].sum()`` over one float64 array of ``array_bytes`` bytes at each
    stride ``s`` (in elements), the fastest of ``repeats`` calls. The array stays the same, so every stride
    reads from the same level of the hierarchy. For figures only."""
    timer = time_calls or timing.time_calls
    data = np.ones(int(array_bytes) // 8)
    result = []
    for s in strides:
        view = data[:: int(s)]
        result.append(min(timer(view.sum, repeats)) / len(view) * 1e9)
    return np.array(result)


def stream_seconds(kernel: str, n: int, *, repeats: int = 5, time_calls: TimeCalls | None = None) -> float:
    """Fastest of ``repeats`` single-pass runs of a STREAM kernel on float64 arrays of ``n`` elements, with
    numpy's ``out=`` so no temporary array is made (triad takes two passes over ``a``: see the lab)."""
    if kernel not in STREAM_KERNELS:
        raise ValueError(f"unknown STREAM kernel {kernel!r} (known: {', '.join(STREAM_KERNELS)})")
    timer = time_calls or timing.time_calls
    a, b, c = np.zeros(n), np.ones(n), np.full(n, 2.0)
    q = 3.0

    def triad() -> None:
        np.multiply(c, q, out=a)
        np.add(a, b, out=a)

    run = {"copy": lambda: np.copyto(a, b), "scale": lambda: np.multiply(b, q, out=a),
           "add": lambda: np.add(b, c, out=a), "triad": triad}[kernel]
    return min(timer(run, repeats))
