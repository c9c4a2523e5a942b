"""Scaling laws (lab 06): Amdahl, Gustafson and Karp–Flatt, a serial fraction fitted with an honest interval,
a sleep-based pseudo-application, and the cost of renting cores for a job.

The speed-up laws and the fit are the lab's reference solutions: the notebook falls back to them for its demos
when a task is unfinished, and ``labkit.grading.TWINS`` keeps a student answer from delegating to them.
Nothing here depends on the machine's speed except ``run_pseudo_app``, whose timings are only plotted.
"""
from __future__ import annotations

import csv
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

Sleep = Callable[[float], None]
Clock = Callable[[], float]


def _fraction(value, name: str) -> np.ndarray:
    f = np.asarray(value, dtype=float)
    if not np.all((f >= 0) & (f <= 1)):  # also rejects NaN
        raise ValueError(f"{name} must lie in [0, 1], got {value!r}")
    return f


def _workers(value, least: float) -> np.ndarray:
    n = np.asarray(value, dtype=float)
    if not np.all(n >= least):
        raise ValueError(f"workers must be >= {least:g}, got {value!r}")
    return n


def _scalar_or_array(result: np.ndarray):
    return float(result) if result.ndim == 0 else result


def amdahl_speedup(serial_fraction, workers):
    """Strong-scaling speed-up 1 / (f + (1 - f) / N) of a job whose fraction f of the 1-worker time is serial.

    Scalars give a float, arrays an ndarray (broadcast). ValueError unless 0 <= f <= 1 and N >= 1.
    """
    f = _fraction(serial_fraction, "serial_fraction")
    n = _workers(workers, 1)
    return _scalar_or_array(1.0 / (f + (1.0 - f) / n))


def gustafson_speedup(serial_fraction, workers):
    """Scaled (weak-scaling) speed-up s + (1 - s) N, where s is the serial fraction of the N-worker run's time."""
    s = _fraction(serial_fraction, "serial_fraction")
    n = _workers(workers, 1)
    return _scalar_or_array(s + (1.0 - s) * n)


def karp_flatt(speedup, workers):
    """Experimentally determined serial fraction e = (1/S - 1/N) / (1 - 1/N) (Karp and Flatt, 1990).

    ValueError unless S > 0 and N > 1 (with one worker there is nothing to compare).
    """
    s = np.asarray(speedup, dtype=float)
    if not np.all(s > 0):
        raise ValueError(f"speed-ups must be > 0, got {speedup!r}")
    n = np.asarray(workers, dtype=float)
    if not np.all(n > 1):
        raise ValueError(f"Karp–Flatt needs workers > 1, got {workers!r}")
    return _scalar_or_array((1.0 / s - 1.0 / n) / (1.0 - 1.0 / n))


# -- fitting the serial fraction ---------------------------------------------------------------------------

def _ols_serial_fraction(inv_n: np.ndarray, times: np.ndarray) -> np.ndarray:
    """f = a / (a + b) of the least-squares line T = a + b / N, for each row of (inv_n, times) (vectorised)."""
    x_mean, t_mean = inv_n.mean(axis=-1, keepdims=True), times.mean(axis=-1, keepdims=True)
    dx = inv_n - x_mean
    b = (dx * (times - t_mean)).sum(axis=-1) / (dx * dx).sum(axis=-1)
    a = t_mean[..., 0] - b * x_mean[..., 0]
    return a / (a + b)


def _fit_inputs(workers, times) -> tuple[np.ndarray, np.ndarray]:
    n = np.asarray(workers, dtype=float)
    t = np.asarray(times, dtype=float)
    if n.ndim != 1 or n.shape != t.shape:
        raise ValueError(f"workers and times must be 1-D and of equal length, got shapes {n.shape} and {t.shape}")
    if len(n) < 3 or len(np.unique(n)) < 2:
        raise ValueError("need at least 3 timings at 2 or more different worker counts to fit a line")
    if not (np.all(n >= 1) and np.all(np.isfinite(t)) and np.all(t > 0)):
        raise ValueError("workers must be >= 1 and times finite and > 0")
    return n, t


def fit_serial_fraction(workers, times, *, rng: np.random.Generator, n_boot: int = 1000, level: float = 0.95
                        ) -> tuple[float, float, float]:
    """Serial fraction of Amdahl's model T(N) = T1 (f + (1 - f) / N), fitted by ordinary least squares of the
    times on 1/N (T = a + b/N, f = a / (a + b)), with a case-resampling bootstrap percentile interval.

    Returns (estimate, low, high). ValueError for unusable data (see ``_fit_inputs``) or a level outside (0, 1).
    """
    if not 0 < level < 1 or n_boot < 100:
        raise ValueError(f"need 0 < level < 1 and n_boot >= 100, got level={level}, n_boot={n_boot}")
    n, t = _fit_inputs(workers, times)
    estimate = float(_ols_serial_fraction(1.0 / n, t))
    picks = rng.integers(0, len(n), size=(n_boot, len(n)))
    inv_n, resampled = 1.0 / n[picks], t[picks]
    usable = np.ptp(inv_n, axis=1) > 0  # a resample with one worker count has no slope; drop it
    boot = _ols_serial_fraction(inv_n[usable], resampled[usable])
    low, high = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
    return estimate, float(low), float(high)


def synthetic_timings(serial_fraction: float, t1_s: float, workers: Sequence[int], *, repeats: int,
                      noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded noisy Amdahl timings: ``repeats`` runs at each worker count, times T1 (f + (1-f)/N) (1 + noise z)
    with z standard normal. Returns (workers, times), one entry per run."""
    rng = np.random.default_rng(seed)
    n = np.repeat(np.asarray(workers, dtype=float), repeats)
    ideal = t1_s * (serial_fraction + (1 - serial_fraction) / n)
    return n, ideal * (1 + noise * rng.standard_normal(n.shape))


# -- the sleep-based pseudo-application ----------------------------------------------------------------------

def run_pseudo_app(workers: int, *, serial_s: float, parallel_s: float, weak: bool = False,
                   sleep: Sleep = time.sleep, clock: Clock = time.perf_counter) -> float:
    """Wall time of one run of a pseudo-application that only sleeps (like HPC Carpentry's ``amdahl``).

    The serial part sleeps ``serial_s`` in the calling thread; the parallel part is ``workers`` chunks run on
    a pool of ``workers`` threads. Strong scaling (default): the chunks share ``parallel_s`` of work. Weak
    scaling: every chunk sleeps ``parallel_s``, so the work grows with the workers. Sleeping releases the GIL
    and costs no CPU, so the run scales on a 2-core machine under load; only wake-up latency adds noise.
    """
    if workers < 1 or serial_s < 0 or parallel_s < 0:
        raise ValueError(f"need workers >= 1 and non-negative times, got {workers}, {serial_s}, {parallel_s}")
    chunk = parallel_s if weak else parallel_s / workers
    start = clock()
    sleep(serial_s)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(sleep, [chunk] * workers))
    return clock() - start


@dataclass(frozen=True)
class ScalingRun:
    """Best-of-``repeats`` wall times of the pseudo-application at each worker count, and of the same job on one
    worker (the baseline of the speed-up: for strong scaling always the 1-worker run, for weak scaling the job
    grown to N workers' worth of work, run by a single worker)."""

    workers: tuple[int, ...]
    seconds: tuple[float, ...]
    one_worker_seconds: tuple[float, ...]
    weak: bool

    @property
    def speedup(self) -> np.ndarray:
        """T_1(job) / T_N(job): Amdahl's speed-up for strong scaling, Gustafson's scaled speed-up for weak."""
        return np.asarray(self.one_worker_seconds) / np.asarray(self.seconds)


def measure_scaling(workers: Sequence[int], *, serial_s: float, parallel_s: float, weak: bool = False,
                    repeats: int = 3, run: Callable[..., float] = run_pseudo_app) -> ScalingRun:
    """Run the pseudo-application ``repeats`` times per worker count, interleaved (each round visits every count,
    so a burst of load hits all of them alike), and keep the minimum: sleep can only wake late, never early.
    For weak scaling each round also runs every grown job on one worker, to measure the scaled speed-up."""
    counts = tuple(int(w) for w in workers)
    if not counts or counts[0] != 1 or repeats < 1:
        raise ValueError("worker counts must start at 1 (the baseline) and repeats must be >= 1")
    best = [float("inf")] * len(counts)
    alone = [float("inf")] * len(counts)
    for _ in range(repeats):
        for i, w in enumerate(counts):
            best[i] = min(best[i], run(w, serial_s=serial_s, parallel_s=parallel_s, weak=weak))
            if weak and w > 1:
                alone[i] = min(alone[i], run(1, serial_s=serial_s, parallel_s=parallel_s * w, weak=False))
    baseline = tuple(alone[1:]) if weak else (best[0],) * (len(counts) - 1)
    return ScalingRun(counts, tuple(best), (best[0], *baseline), weak)


# -- renting cores ------------------------------------------------------------------------------------------

OFFER_FIELDS = {"offer": str, "provider": str, "cpu": str, "workers": int, "numa_nodes": int,
                "speed_per_worker": float, "usd_per_hour": float, "min_billed_s": int}


def load_offers(path: Path | str) -> list[dict]:
    """Rows of a cost table CSV as dicts, with the numeric columns of ``OFFER_FIELDS`` converted (other columns,
    such as the source and date of a price, are kept as text)."""
    with Path(path).open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    missing = set(OFFER_FIELDS) - set(rows[0] if rows else {})
    if missing:
        raise ValueError(f"{path}: cost table lacks the columns {sorted(missing)}")
    return [{**row, **{key: kind(row[key]) for key, kind in OFFER_FIELDS.items()}} for row in rows]


def job_seconds(offer: dict, work_s: float, serial_fraction: float) -> float:
    """Amdahl's wall time of a job of ``work_s`` reference-core seconds on all of an offer's workers."""
    return work_s / offer["speed_per_worker"] / amdahl_speedup(serial_fraction, offer["workers"])


def job_cost(offer: dict, seconds: float) -> float:
    """Dollars for ``seconds`` of one instance, billed per second with the offer's minimum billed time."""
    return offer["usd_per_hour"] * max(seconds, offer["min_billed_s"]) / 3600.0


def cheapest_offer(offers: Sequence[dict], work_s: float, serial_fraction: float, deadline_s: float) -> str | None:
    """Name of the cheapest offer that finishes the job within the deadline (ties: fewer workers, then the name
    in alphabetical order); None when no offer meets it."""
    if not work_s > 0 or not deadline_s > 0:
        raise ValueError(f"work and deadline must be > 0, got {work_s}, {deadline_s}")
    _fraction(serial_fraction, "serial_fraction")
    feasible = []
    for offer in offers:
        seconds = job_seconds(offer, work_s, serial_fraction)
        if seconds <= deadline_s:
            feasible.append((job_cost(offer, seconds), offer["workers"], offer["offer"]))
    return min(feasible)[2] if feasible else None
