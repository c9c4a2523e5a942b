"""Work, span and load balance (lab 08): a tree reduction and a work-efficient (Blelloch) scan that count their
operations level by level, Mandelbrot escape-time counts as an uneven workload, and the per-worker loads of
block, cyclic and dynamic schedules.

Everything here is exact: counts of operations and of iterations, integer sums. ``mandelbrot_iterations`` uses
only separate float64 additions and multiplications (each correctly rounded by IEEE 754, so no fused
multiply-add can change a count between x86-64 and aarch64). The task functions are the lab's references: the
notebook falls back to them for its demos, and ``labkit.grading.TWINS`` keeps an answer from delegating to them.
"""
from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._arguments import count as _count
from .concurrency import chunk_bounds

POLICIES = ("block", "cyclic", "dynamic")


# -- reductions and scans ------------------------------------------------------------------------------------

def tree_reduce(values: Sequence[Any], op: Callable[[Any, Any], Any]) -> tuple[Any, list[int]]:
    """Combine ``values`` pairwise, level by level: (0, 1), (2, 3), ... become one value each; an odd last value
    moves up unchanged. Returns (the final value, how many ``op`` calls each level made). Every call of one level
    could run at the same time, so the list's sum is the *work* (n - 1) and its length the *span* (ceil(log2 n)).
    ValueError for no values."""
    level = list(values)
    if not level:
        raise ValueError("tree_reduce needs at least one value")
    ops_per_level = []
    while len(level) > 1:
        pairs = [op(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        ops_per_level.append(len(pairs))
        level = pairs + level[len(pairs) * 2:]
    return level[0], ops_per_level


def blelloch_scan(values: Sequence[Any], op: Callable[[Any, Any], Any], identity: Any
                  ) -> tuple[list[Any], int, int]:
    """The exclusive scan [identity, v0, v0 op v1, ...] by Blelloch's up-sweep and down-sweep, for a power-of-two
    number of values. Returns (the scan, work = number of ``op`` calls, span = number of levels with at least
    one call): 2 (n - 1) and 2 log2 n. ``op`` need only be associative (the operand order is kept).
    ValueError unless the length is a power of two."""
    a = list(values)
    n = len(a)
    if n < 1 or n & (n - 1):
        raise ValueError(f"blelloch_scan needs a power-of-two number of values, got {n}")
    work = span = 0
    stride = 2
    while stride <= n:  # up-sweep: a[right] becomes the sum of its subtree
        for i in range(0, n, stride):
            a[i + stride - 1] = op(a[i + stride // 2 - 1], a[i + stride - 1])
            work += 1
        span += 1
        stride *= 2
    a[n - 1] = identity
    stride = n
    while stride >= 2:  # down-sweep: a node passes its prefix left, prefix op left-sum right
        for i in range(0, n, stride):
            left, right = i + stride // 2 - 1, i + stride - 1
            a[left], a[right] = a[right], op(a[right], a[left])
            work += 1
        span += 1
        stride //= 2
    return a, work, span


def scan_costs(n: int) -> dict[str, tuple[int, int]]:
    """(work, span) in operations of three scans of n values (n a power of two): sequential, Hillis-Steele
    (every element adds its neighbour 2^d to the left at level d) and Blelloch."""
    n = _count(n, "n", 1)
    if n & (n - 1):
        raise ValueError(f"n must be a power of two, got {n}")
    levels = n.bit_length() - 1
    return {"sequential": (n - 1, n - 1),
            "Hillis-Steele": (sum(n - 2 ** d for d in range(levels)), levels),
            "Blelloch": (2 * (n - 1), 2 * levels)}


def brent_bound(work: int, span: int, processors: int) -> float:
    """Brent's bound on the steps p processors need: T_p <= W / p + S."""
    return work / _count(processors, "processors", 1) + span


# -- an uneven workload --------------------------------------------------------------------------------------

def mandelbrot_iterations(width: int, height: int, max_iter: int,
                          x_range: tuple[float, float] = (-2.2, 0.8), y_range: tuple[float, float] = (-1.2, 1.2)
                          ) -> np.ndarray:
    """Escape-time counts of a ``height`` x ``width`` grid over the complex plane: for each pixel c, the first k
    with |z_k| > 2, where z_0 = 0 and z_(k+1) = z_k^2 + c -- the number of updates a pixel costs -- and
    ``max_iter`` for points that never escape within it (the points of the set). int64 array of shape
    (height, width). Only separate float64 + and * are used, so the counts are the same on every IEEE 754
    machine."""
    width, height = _count(width, "width", 1), _count(height, "height", 1)
    max_iter = _count(max_iter, "max_iter", 1)
    cr, ci = np.meshgrid(np.linspace(*x_range, width), np.linspace(*y_range, height))
    counts = np.full(width * height, max_iter, dtype=np.int64)
    index = np.arange(width * height)
    cr, ci = cr.ravel(), ci.ravel()
    zr, zi = np.zeros_like(cr), np.zeros_like(ci)
    for k in range(max_iter):
        zr2, zi2 = zr * zr, zi * zi
        escaped = zr2 + zi2 > 4.0
        counts[index[escaped]] = k
        keep = ~escaped
        index, cr, ci, zr, zi, zr2, zi2 = (a[keep] for a in (index, cr, ci, zr, zi, zr2, zi2))
        zi = (zr + zr) * zi + ci
        zr = (zr2 - zi2) + cr
        if index.size == 0:
            break
    return counts.reshape(height, width)


# -- schedules -------------------------------------------------------------------------------------------------

def schedule_loads(costs: Sequence[int], workers: int, policy: str, chunk: int = 1) -> list[int]:
    """Total cost each of ``workers`` workers gets when the rows with these costs are shared out by

    - ``"block"``: worker w takes the contiguous rows [w n // workers, (w + 1) n // workers) (chunk is ignored);
    - ``"cyclic"``: chunks of ``chunk`` consecutive rows are dealt round-robin, chunk k to worker k % workers;
    - ``"dynamic"``: chunks in row order go to whichever worker is free first, every worker starting at time 0
      and a chunk taking its cost in time (ties: the lowest worker number) -- a shared work queue.

    ValueError for an unknown policy, workers or chunk not an integer >= 1, or a negative cost."""
    costs = [int(c) for c in costs]
    if any(c < 0 for c in costs):
        raise ValueError("costs must be >= 0")
    workers, chunk = _count(workers, "workers", 1), _count(chunk, "chunk", 1)
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}; choose one of {', '.join(POLICIES)}")
    n = len(costs)
    if policy == "block":
        return [sum(costs[start:stop]) for start, stop in chunk_bounds(n, workers)]
    chunks = [sum(costs[i:i + chunk]) for i in range(0, n, chunk)]
    loads = [0] * workers
    if policy == "cyclic":
        for k, cost in enumerate(chunks):
            loads[k % workers] += cost
        return loads
    free_at = [(0, w) for w in range(workers)]  # (time the worker is free, worker): a heap
    for cost in chunks:
        t, w = heapq.heappop(free_at)
        loads[w] += cost
        heapq.heappush(free_at, (t + cost, w))
    return loads


def load_imbalance(loads: Sequence[int]) -> float:
    """max / mean of the per-worker loads: 1.0 is perfect balance; the parallel run takes this many times
    longer than a perfectly balanced one. ValueError for no loads or no work at all."""
    loads = list(loads)
    if not loads or sum(loads) <= 0:
        raise ValueError("need at least one worker with work")
    return max(loads) * len(loads) / sum(loads)
