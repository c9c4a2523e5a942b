"""Timing protocol for noisy shared machines: warm up, repeat, report min and median, interleave A/B.

Every function takes the clock as an argument so tests (and graders) can drive it with a ``FakeClock``
and get exact, repeatable numbers.
"""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Clock = Callable[[], float]


class FakeClock:
    """A clock that only moves when told to; call it like ``time.perf_counter``.

    >>> clock = FakeClock()
    >>> clock.advance(0.25); clock()
    0.25
    """

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        return self.now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"a clock cannot go backwards (advance by {seconds})")
        self.now += seconds


@dataclass(frozen=True)
class Timing:
    """Per-call times in seconds of the measured repeats (warm-up calls excluded)."""

    samples: tuple[float, ...]

    @property
    def min(self) -> float:
        return min(self.samples)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def __str__(self) -> str:
        return f"min {self.min * 1e6:,.1f} µs, median {self.median * 1e6:,.1f} µs over {len(self.samples)} repeats"


def _check_counts(repeats: int, warmup: int, number: int) -> None:
    if repeats < 1 or number < 1 or warmup < 0:
        raise ValueError(f"need repeats >= 1, number >= 1, warmup >= 0 (got {repeats}, {number}, {warmup})")


def _time_once(fn: Callable[[], object], number: int, clock: Clock) -> float:
    start = clock()
    for _ in range(number):
        fn()
    return (clock() - start) / number


def measure(fn: Callable[[], object], *, repeats: int = 7, warmup: int = 1, number: int = 1,
            clock: Clock = time.perf_counter) -> Timing:
    """Call ``fn`` ``warmup`` times untimed, then time ``repeats`` batches of ``number`` calls each."""
    _check_counts(repeats, warmup, number)
    for _ in range(warmup):
        fn()
    return Timing(tuple(_time_once(fn, number, clock) for _ in range(repeats)))


@dataclass(frozen=True)
class ABResult:
    a: Timing
    b: Timing

    @property
    def ratio(self) -> float:
        """How many times slower A is than B, by the minimum (the least disturbed run) of each."""
        return self.a.min / self.b.min


def interleaved_ab(fa: Callable[[], object], fb: Callable[[], object], *, repeats: int = 7,
                   warmup: int = 1, number: int = 1, clock: Clock = time.perf_counter) -> ABResult:
    """Time A and B alternately (A, B, A, B, ...) so both see the same background load."""
    _check_counts(repeats, warmup, number)
    for _ in range(warmup):
        fa()
        fb()
    a, b = [], []
    for _ in range(repeats):
        a.append(_time_once(fa, number, clock))
        b.append(_time_once(fb, number, clock))
    return ABResult(Timing(tuple(a)), Timing(tuple(b)))


# Lab 01's timing tasks in the shapes its notebook asks for: the references its demos fall back to (and twins
# that its test cells forbid).

def time_calls(fn: Callable[[], object], repeats: int, warmup: int = 1,
               clock: Clock = time.perf_counter) -> list[float]:
    """``measure``'s per-call times as a list (one call per sample)."""
    return list(measure(fn, repeats=repeats, warmup=warmup, clock=clock).samples)


def interleaved_times(fa: Callable[[], object], fb: Callable[[], object], repeats: int, warmup: int = 1,
                      clock: Clock = time.perf_counter) -> tuple[list[float], list[float]]:
    """``interleaved_ab``'s per-call times of A and of B as two lists."""
    result = interleaved_ab(fa, fb, repeats=repeats, warmup=warmup, clock=clock)
    return list(result.a.samples), list(result.b.samples)


def paired_ratio(times_a, times_b) -> float:
    """The median of the per-round ratios a_i / b_i of an interleaved run: a slowdown that hits both calls of a
    round cancels in its ratio, so this holds where the minimum of each side does not (load that never lets up)."""
    a, b = np.asarray(times_a, dtype=np.float64), np.asarray(times_b, dtype=np.float64)
    if a.ndim != 1 or a.shape != b.shape or a.size == 0:
        raise ValueError(f"need two equally long, non-empty sequences of times (got {a.shape} and {b.shape})")
    if np.any(a <= 0) or np.any(b <= 0):
        raise ValueError("times must be positive")
    return float(np.median(a / b))
