"""Inference serving (lab 13): service times fitted to a recorded latency table, a seeded discrete-event
simulator of a dynamically batching server, Little's law on its output, and data-parallel inference with inputs
in shared memory.

The task functions here are the lab's reference solutions: the notebook falls back to them for its demos when a
task is unfinished, and ``labkit.grading.TWINS`` keeps a student answer from delegating to them. Everything graded
is arithmetic on recordings or seeded arrivals; nothing here depends on the speed of the machine it runs on.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from multiprocessing import shared_memory
from pathlib import Path

import numpy as np

from labkit.concurrency import chunk_bounds
from labkit.ortperf import throughput_table


def load_latencies(path: str | Path) -> dict[int, list[float]]:
    """The ``latencies_ms`` table of a recording written by the lab's ``record_service_times.py``:
    {batch size: [ms per run]} (JSON keys are strings; they come back as ints)."""
    data = json.loads(Path(path).read_text())
    return {int(batch): [float(v) for v in values] for batch, values in data["latencies_ms"].items()}


def fit_service_time(latencies_ms: Mapping[int, Sequence[float]]) -> tuple[float, float]:
    """``(c_ms, t_ms)`` of the least-squares line T(b) = c + t b through each batch size's median latency.

    Medians, not means: one descheduled run is 10x slower and would drag a mean (and the fit) with it."""
    rows = throughput_table(latencies_ms)
    if len(rows) < 2:
        raise ValueError(f"need latencies for at least 2 batch sizes to fit a line (got {len(rows)})")
    b = np.array([row[0] for row in rows], dtype=np.float64)
    m = np.array([row[1] for row in rows], dtype=np.float64)
    db = b - b.mean()
    t = float(np.dot(db, m - m.mean()) / np.dot(db, db))
    return float(m.mean() - t * b.mean()), t


def poisson_arrivals(rate_per_ms: float, n: int, seed: int) -> np.ndarray:
    """Arrival times (ms, float64, ascending) of ``n`` requests of a Poisson process of ``rate_per_ms``: the
    cumulative sum of seeded exponential gaps, starting from the first arrival."""
    if not rate_per_ms > 0:
        raise ValueError(f"rate_per_ms must be > 0 (got {rate_per_ms!r})")
    return np.cumsum(np.random.default_rng(seed).exponential(1.0 / rate_per_ms, n))


def _check_arrivals(arrivals_ms) -> np.ndarray:
    arrivals = np.asarray(arrivals_ms, dtype=np.float64)
    if arrivals.ndim != 1 or not np.all(np.isfinite(arrivals)) or np.any(np.diff(arrivals) < 0):
        raise ValueError("arrivals must be a 1-D sequence of finite times in ascending order")
    return arrivals


def simulate_batching(arrivals_ms, max_batch: int, max_delay_ms: float,
                      service_ms: Callable[[int], float]) -> tuple[np.ndarray, list[int]]:
    """One server with a dynamic batcher; ``(finish_ms per request in arrival order, batch sizes in order)``.

    The oldest waiting request opens a batch; the batch closes when it holds ``max_batch`` requests or the oldest
    has waited ``max_delay_ms``, whichever comes first, but never before the server is free. It then takes every
    waiting request, up to ``max_batch``, and all of them finish ``service_ms(size)`` later."""
    arrivals = _check_arrivals(arrivals_ms)
    if isinstance(max_batch, bool) or not isinstance(max_batch, (int, np.integer)) or max_batch < 1:
        raise ValueError(f"max_batch must be an int >= 1 (got {max_batch!r})")
    if not max_delay_ms >= 0:
        raise ValueError(f"max_delay_ms must be >= 0 (got {max_delay_ms!r})")
    n, max_batch = len(arrivals), int(max_batch)
    finish = np.empty(n, dtype=np.float64)
    sizes: list[int] = []
    free, i = -np.inf, 0
    while i < n:
        full = arrivals[i + max_batch - 1] if i + max_batch <= n else np.inf
        start = max(free, min(arrivals[i] + max_delay_ms, full))
        stop = min(i + max_batch, int(np.searchsorted(arrivals, start, side="right")))
        free = start + service_ms(stop - i)
        finish[i:stop] = free
        sizes.append(stop - i)
        i = stop
    return finish, sizes


def littles_law(arrivals_ms, finish_ms, t0: float, t1: float) -> tuple[float, float, float]:
    """``(L, lam, W)`` over the window [t0, t1]: L the time-average number of requests in the system (each
    request is in it from its arrival to its finish), lam the arrival rate (arrivals in [t0, t1] per ms) and
    W the mean time in the system (ms) of those requests. Little's law: L = lam W when the system is empty at
    t0 and t1."""
    arrivals = np.asarray(arrivals_ms, dtype=np.float64)
    finish = np.asarray(finish_ms, dtype=np.float64)
    if finish.shape != arrivals.shape:
        raise ValueError(f"{finish.shape[0] if finish.ndim else 0} finish times for {len(arrivals)} arrivals")
    if np.any(finish < arrivals):
        raise ValueError("a request finishes before it arrives")
    if not t1 > t0:
        raise ValueError(f"the window needs t1 > t0 (got [{t0}, {t1}])")
    span = t1 - t0
    area = np.clip(np.minimum(finish, t1) - np.maximum(arrivals, t0), 0.0, None).sum()
    inside = (arrivals >= t0) & (arrivals <= t1)
    W = float((finish[inside] - arrivals[inside]).mean()) if inside.any() else 0.0
    return float(area / span), float(inside.sum() / span), W


def parallel_predict(pool: Executor, worker: Callable, job_type: type, model_path: str | Path, X,
                     parts: int, n_classes: int = 10) -> np.ndarray:
    """Data-parallel inference: ``X`` (n x features, made float32) goes into a shared memory block, each
    non-empty chunk of ``chunk_bounds(n, parts)`` becomes one ``job_type(...)`` run by ``worker`` on ``pool``
    (the lab's ``serving_workers.predict_rows`` / ``RowsJob``), and the outputs, written by the workers into a
    second block, come back as an ordinary (n x n_classes) float32 array. Both blocks are unlinked, even on
    error."""
    X = np.ascontiguousarray(X, dtype=np.float32)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (rows x features), got shape {X.shape}")
    if isinstance(parts, bool) or not isinstance(parts, int) or parts < 1:
        raise ValueError(f"parts must be an int >= 1 (got {parts!r})")
    n, features = X.shape
    if n == 0:
        return np.empty((0, n_classes), dtype=np.float32)
    blocks = []
    try:
        blocks.append(shared_memory.SharedMemory(create=True, size=X.nbytes))
        blocks.append(shared_memory.SharedMemory(create=True, size=n * n_classes * 4))
        np.ndarray(X.shape, dtype=np.float32, buffer=blocks[0].buf)[:] = X
        jobs = [job_type(str(model_path), blocks[0].name, blocks[1].name, n, features, n_classes, start, stop)
                for start, stop in chunk_bounds(n, parts) if stop > start]
        for future in [pool.submit(worker, job) for job in jobs]:
            future.result()
        return np.ndarray((n, n_classes), dtype=np.float32, buffer=blocks[1].buf).copy()
    finally:
        for block in blocks:
            block.close()
            block.unlink()
