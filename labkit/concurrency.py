"""Threads, processes and the GIL (lab 07): CPU-time vs wall-time accounting, thread and ``spawn`` process pools,
private per-chunk counts (the fix of a racy parallel reduction) and BLAS thread limits through threadpoolctl.

The task functions here are the lab's reference solutions: the notebook falls back to them for its demos when a
task is unfinished, and ``labkit.grading.TWINS`` keeps a student answer from delegating to them. Nothing here
asserts anything about the machine's speed; ``timed`` and ``pool_timings`` measure only for plots.
"""
from __future__ import annotations

import math
import multiprocessing
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._arguments import count as _count

Clock = Callable[[], float]


# -- accounting --------------------------------------------------------------------------------------------------

def cpu_wall_report(wall_s: float, cpu_s: float, workers: int) -> dict[str, float]:
    """What a run's wall time and CPU time (summed over all its threads or processes) say about it:

    - ``parallelism`` = cpu / wall: how many cores were busy on average (1 for one busy thread; about 0 for a
      program that waits; up to the number of cores when workers really run at once);
    - ``efficiency`` = cpu / (wall * workers): the share of the workers' time spent computing;
    - ``idle_core_s`` = wall * workers - cpu: worker-seconds spent waiting (for the GIL, I/O or a sleep).

    ValueError unless wall > 0, cpu >= 0 (both finite) and workers is an integer >= 1.
    """
    if not (math.isfinite(wall_s) and math.isfinite(cpu_s)) or wall_s <= 0 or cpu_s < 0:
        raise ValueError(f"need a finite wall time > 0 and CPU time >= 0, got wall={wall_s!r}, cpu={cpu_s!r}")
    n = _count(workers, "workers", 1)
    return {"parallelism": cpu_s / wall_s, "efficiency": cpu_s / (wall_s * n), "idle_core_s": wall_s * n - cpu_s}


@dataclass(frozen=True)
class Timing:
    """One call's wall time (``time.perf_counter``) and this process's CPU time (``time.process_time``: all
    threads of this process, none of its child processes), and what the call returned."""

    wall_s: float
    cpu_s: float
    result: Any


def timed(fn: Callable[..., Any], *args: Any, wall: Clock = time.perf_counter, cpu: Clock = time.process_time
          ) -> Timing:
    """Call ``fn(*args)`` once and return its wall and CPU time with its result (clocks injectable for tests)."""
    w0, c0 = wall(), cpu()
    result = fn(*args)
    return Timing(wall() - w0, cpu() - c0, result)


# -- pools ---------------------------------------------------------------------------------------------------------

def thread_map(fn: Callable[[Any], Any], items: Iterable[Any], workers: int,
               clock: Clock = time.perf_counter) -> tuple[list, float]:
    """``fn(item)`` for every item on a pool of ``workers`` threads: (results in input order, wall seconds of the
    whole run, pool start-up and shutdown included). ValueError unless workers is an integer >= 1."""
    n = _count(workers, "workers", 1)
    items = list(items)
    start = clock()
    with ThreadPoolExecutor(max_workers=n) as pool:
        results = list(pool.map(fn, items))
    return results, clock() - start


def spawn_pool(workers: int) -> ProcessPoolExecutor:
    """A process pool whose workers are started with ``spawn``: fresh interpreters that import ``fn``'s module
    (so ``fn`` must live in an importable module, not in a notebook cell) and inherit nothing from this process."""
    return ProcessPoolExecutor(max_workers=_count(workers, "workers", 1),
                               mp_context=multiprocessing.get_context("spawn"))


def spawn_map(fn: Callable[[Any], Any], items: Iterable[Any], workers: int = 2) -> list:
    """``fn(item)`` for every item on a pool of ``workers`` spawned processes; results in input order."""
    with spawn_pool(workers) as pool:
        return list(pool.map(fn, list(items)))


@dataclass(frozen=True)
class PoolTiming:
    """Wall and CPU seconds of one batch of tasks on a pool (CPU: this process plus what the workers report)."""

    kind: str
    workers: int
    wall_s: float
    cpu_s: float


def pool_timings(task: Callable[[Any], float], items: Sequence[Any], workers: Sequence[int], *, kind: str,
                 repeats: int = 2, executor: Callable[[int], Executor] | None = None,
                 wall: Clock = time.perf_counter, cpu: Clock = time.process_time) -> list[PoolTiming]:
    """Run ``task`` over ``items`` on a pool per worker count, ``repeats`` rounds interleaved over the counts, and
    keep each count's fastest round (load only ever slows a run down). ``task`` returns the CPU seconds it used
    itself, so work done in child processes, which ``time.process_time`` does not see, is counted too: CPU is
    this process's CPU time plus the tasks' reports when the pool is made of processes.

    The pool is started before the clock starts (``executor(n)``, default a thread pool) and warmed with one
    task per worker, so a process pool's start-up is not part of the batch."""
    make = executor or (lambda n: ThreadPoolExecutor(max_workers=n))
    best: dict[int, PoolTiming] = {}
    for _ in range(max(1, repeats)):
        for n in workers:
            with make(n) as pool:
                list(pool.map(task, items[:n]))
                threads = isinstance(pool, ThreadPoolExecutor)
                w0, c0 = wall(), cpu()
                reported = list(pool.map(task, items))
                w, c = wall() - w0, cpu() - c0
            run = PoolTiming(kind, n, w, c if threads else c + sum(reported))
            if n not in best or run.wall_s < best[n].wall_s:
                best[n] = run
    return [best[n] for n in workers]


# -- private counts: the race-free parallel histogram ------------------------------------------------------------

def chunk_bounds(n: int, parts: int) -> list[tuple[int, int]]:
    """The contiguous chunks [p n // parts, (p + 1) n // parts) of range(n), p = 0..parts-1 (sizes differ by at
    most one; some are empty when n < parts)."""
    return [(p * n // parts, (p + 1) * n // parts) for p in range(parts)]


def fill_private_counts(x: np.ndarray, local: np.ndarray) -> None:
    """Add to row p of ``local`` (shape (parts, bins), int64) the counts of the values of chunk p of ``x``
    (see ``chunk_bounds``). Every row belongs to one chunk, so parallel workers never write the same element;
    ``local.sum(axis=0)`` is then the histogram of x. Values must lie in [0, bins)."""
    parts, bins = local.shape
    for p, (lo, hi) in enumerate(chunk_bounds(len(x), parts)):
        local[p] += np.bincount(x[lo:hi], minlength=bins)


def lost_updates(counts: np.ndarray, x: np.ndarray) -> int:
    """How many increments a histogram of x lost (a data race loses them; an exact result has none)."""
    return int(len(x) - np.asarray(counts).sum())


# -- BLAS threads ----------------------------------------------------------------------------------------------

def run_with_blas_threads(fn: Callable[[], Any], threads: int) -> tuple[Any, list[int]]:
    """Call ``fn()`` with every BLAS library limited to ``threads`` threads (threadpoolctl), and return its
    result with the thread counts threadpoolctl reports for the BLAS libraries while the limit holds. The
    previous limits are restored afterwards, also when ``fn`` raises. ValueError unless threads >= 1."""
    from threadpoolctl import threadpool_info, threadpool_limits

    n = _count(threads, "threads", 1)
    with threadpool_limits(limits=n, user_api="blas"):
        reported = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
        return fn(), reported


def oversubscription(processes: int, threads_per_process: int, cores: int) -> float:
    """Runnable threads per core when every process runs its own pool of threads (1 = each core has one)."""
    return _count(processes, "processes", 1) * _count(threads_per_process, "threads", 1) / _count(cores, "cores", 1)
