"""Working-set sweeps: how the cost of a memory access grows as the data outgrows each cache level.

``sweep`` measures this machine (random reads from a float64 array of each size; for plots, never for grades).
``synthetic_sweep`` makes a seeded curve from stated cache capacities and per-level costs, so a knee finder can be
graded on a curve whose answer is known. ``find_knees`` is lab 01's reference knee finder (guarded in its tests).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from . import timing

TimeCalls = Callable[..., list[float]]  # time_calls(fn, repeats, warmup=1, clock=...) -> seconds per call


def sizes_bytes(smallest: int = 4 * 1024, largest: int = 128 * 1024**2, per_octave: int = 2) -> np.ndarray:
    """Working-set sizes from ``smallest`` to ``largest`` bytes, ``per_octave`` geometric steps per doubling,
    rounded to whole float64 elements."""
    if not 8 <= smallest < largest or per_octave < 1:
        raise ValueError(f"need 8 <= smallest < largest and per_octave >= 1 (got {smallest}, {largest}, {per_octave})")
    steps = round(np.log2(largest / smallest) * per_octave)
    return np.unique(np.round(np.geomspace(smallest, largest, steps + 1) / 8).astype(np.int64) * 8)


def access_model(sizes: Sequence[float], capacities: Sequence[float], costs: Sequence[float]) -> np.ndarray:
    """Expected cost of one random read from a working set of each size: with a cache of capacity C, a random
    read of W > C bytes hits with probability C / W, so t(W) = c0 + sum_k (c_{k+1} - c_k) * max(0, 1 - C_k / W).
    ``costs`` has one entry per cache level plus one for memory beyond the last."""
    if len(costs) != len(capacities) + 1:
        raise ValueError(f"need one cost per level plus memory: {len(capacities)} capacities, {len(costs)} costs")
    w = np.asarray(sizes, dtype=np.float64)
    t = np.full(w.shape, float(costs[0]))
    for capacity, below, above in zip(capacities, costs[:-1], costs[1:], strict=True):
        t += (above - below) * np.clip(1 - capacity / w, 0, None)
    return t


def synthetic_sweep(sizes: Sequence[float], capacities: Sequence[float], costs: Sequence[float], *,
                    noise: float = 0.03, seed: int = 0) -> np.ndarray:
    """``access_model`` times multiplicative log-normal noise of relative size ``noise``, seeded."""
    rng = np.random.default_rng(seed)
    return access_model(sizes, capacities, costs) * rng.lognormal(0.0, noise, len(sizes))


def sweep(sizes: Sequence[int], *, accesses: int = 2**18, repeats: int = 3, seed: int = 0,
          time_calls: TimeCalls | None = None) -> np.ndarray:
    """Nanoseconds per random float64 read (``np.take``) from a working set of each size in bytes, the fastest of
    ``repeats`` timed calls. Independent reads overlap in an out-of-order core, so this is throughput, not
    latency. ``time_calls`` times the calls (a student's, through ``with_fallback``; labkit's by default)."""
    timer = time_calls or timing.time_calls
    rng = np.random.default_rng(seed)
    data = np.ones(max(int(s) for s in sizes) // 8)  # one array; each size reads a prefix of it
    out = np.empty(accesses)
    result = []
    for size in sizes:
        index = rng.integers(0, int(size) // 8, accesses)
        seconds = min(timer(lambda index=index: np.take(data, index, out=out), repeats))
        result.append(seconds / accesses * 1e9)
    return np.array(result)


def _checked(sizes: Sequence[float], times: Sequence[float], levels: int) -> tuple[np.ndarray, np.ndarray]:
    s, t = np.asarray(sizes, dtype=np.float64), np.asarray(times, dtype=np.float64)
    if s.ndim != 1 or s.shape != t.shape:
        raise ValueError(f"sizes and times must be two sequences of one length (got {s.shape} and {t.shape})")
    if not 1 <= levels <= len(s):
        raise ValueError(f"levels must be between 1 and the number of points ({len(s)}), got {levels}")
    if np.any(np.diff(s) <= 0) or np.any(t <= 0):
        raise ValueError("sizes must increase strictly and every time must be positive")
    return s, np.log(t)


def find_knees(sizes: Sequence[float], times: Sequence[float], levels: int) -> list[int]:
    """Split the curve into ``levels`` runs of consecutive points that minimise the squared deviation of
    log(time) from each run's mean; return the last size of every run but the last. Dynamic programming over
    split points with prefix sums: O(levels * n^2)."""
    s, y = _checked(sizes, times, levels)
    n = len(y)
    s1, s2 = np.concatenate([[0.0], np.cumsum(y)]), np.concatenate([[0.0], np.cumsum(y * y)])

    def cost(i: int, j: int) -> float:  # points i .. j-1 as one run
        return s2[j] - s2[i] - (s1[j] - s1[i]) ** 2 / (j - i)

    best = {(1, j): (cost(0, j), 0) for j in range(1, n + 1)}
    for k in range(2, levels + 1):
        for j in range(k, n + 1):
            best[k, j] = min((best[k - 1, i][0] + cost(i, j), i) for i in range(k - 1, j))
    bounds, j = [], n
    for k in range(levels, 1, -1):
        j = best[k, j][1]
        bounds.append(j)
    return [int(sizes[b - 1]) for b in reversed(bounds)]
