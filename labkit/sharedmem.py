"""Shared memory between processes (lab 08): numpy arrays in ``multiprocessing.shared_memory`` segments, the
segments the kernel lists in /dev/shm, and the false-sharing experiment (for a figure only).

``shm_chunk_sums`` is the reference of the lab's shared-memory task: the notebook falls back to it for demos,
and ``labkit.grading.TWINS`` keeps an answer from delegating to it. Nothing here grades a time.
"""
from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from multiprocessing import resource_tracker
from multiprocessing.shared_memory import SharedMemory
from pathlib import Path

import numpy as np

SHM_ROOT = Path("/dev/shm")


def shm_segments(root: Path = SHM_ROOT) -> set[str]:
    """Names of the POSIX shared-memory segments in ``root`` -- the /dev/shm this process sees (a sandbox may
    give a process a private one, so never assume it is the host's). Named semaphores (``sem.*``, which a
    process pool's queues create there too) are left out."""
    return {name for name in os.listdir(root) if not name.startswith("sem.")}


_CREATED: list[str] = []  # names of the segments this process created (with create=True), in order
_TRACKED: set[str] = set()  # those the resource tracker knows (created without an error)
_recording = threading.Lock()


def _record_creations() -> None:
    """Wrap SharedMemory.__init__ once, so every segment this process creates is recorded: leak checks then look
    at this process's own segments, never at another program's that happen to be in the same /dev/shm."""
    with _recording:
        if getattr(SharedMemory.__init__, "_labkit_records", False):
            return
        original = SharedMemory.__init__

        def init(self, name=None, create=False, size=0, **kwargs):
            try:
                original(self, name, create, size, **kwargs)
                if create:
                    _TRACKED.add(self._name)
            finally:
                # _name is set as soon as the segment exists: a size that fails later (ftruncate of a float)
                # leaves an empty segment behind that CPython does not remove
                if create and self._name:
                    _CREATED.append(self._name)

        init._labkit_records = True
        SharedMemory.__init__ = init


def track_created() -> int:
    """Start watching the segments this process creates; pass the mark to :func:`left_behind`. Segments it
    created earlier and left in /dev/shm (an attempt whose check stopped at an earlier failure) are removed
    first."""
    _record_creations()
    left_behind(0)
    return len(_CREATED)


def left_behind(mark: int, root: Path = SHM_ROOT) -> list[str]:
    """The segments this process created since ``mark`` that are still in ``root`` -- the leak a check reports.
    They are unlinked on the way, so a failed attempt does not keep them in /dev/shm until the next reboot."""
    leaked = sorted({name.lstrip("/") for name in _CREATED[mark:] if (root / name.lstrip("/")).exists()})
    for name in leaked:
        with contextlib.suppress(FileNotFoundError):
            (root / name).unlink()
        if f"/{name}" in _TRACKED:  # the resource tracker would otherwise warn at exit
            _TRACKED.discard(f"/{name}")
            resource_tracker.unregister(f"/{name}", "shared_memory")
    return leaked


def shm_chunk_sums(x: Sequence[int] | np.ndarray, parts: int, pool: Executor, worker: Callable) -> np.ndarray:
    """The sums of the ``parts`` contiguous chunks x[p n // parts:(p + 1) n // parts] of the int64 array x,
    computed by ``pool``'s workers on shared memory: x is copied once into a new segment, the sums come back in a
    second one, and each task ``worker((x_name, n, sums_name, parts, p))`` attaches to both by name. Both
    segments are closed and unlinked before returning, also when a worker raises. ValueError unless parts is an
    integer >= 1 and x is one-dimensional."""
    if isinstance(parts, bool) or not isinstance(parts, (int, np.integer)) or parts < 1:
        raise ValueError(f"parts must be an integer >= 1, got {parts!r}")
    values = np.asarray(x, dtype=np.int64)
    if values.ndim != 1:
        raise ValueError(f"x must be one-dimensional, got shape {values.shape}")
    n, parts = len(values), int(parts)
    # a segment cannot be empty: give an empty x one byte
    data = SharedMemory(create=True, size=max(values.nbytes, 1))
    try:
        sums = SharedMemory(create=True, size=parts * 8)
        try:
            np.ndarray((n,), np.int64, buffer=data.buf)[:] = values
            out = np.ndarray((parts,), np.int64, buffer=sums.buf)
            out[:] = 0
            list(pool.map(worker, [(data.name, n, sums.name, parts, p) for p in range(parts)]))
            result = out.copy()
            del out  # no view may outlive close(): it would point at unmapped memory
            return result
        finally:
            sums.close()
            sums.unlink()
    finally:
        data.close()
        data.unlink()


# -- false sharing (figure only) -------------------------------------------------------------------------------

@dataclass(frozen=True)
class SharingRun:
    """Two threads incrementing their own counters ``distance_bytes`` apart: the fastest of the repeats, as
    nanoseconds of thread CPU time per increment, and how many cores the threads kept busy (CPU / wall)."""

    distance_bytes: int
    ns_per_increment: float
    parallelism: float


def _sharing_run(kernel: Callable, distance: int, times: int, threads: int) -> SharingRun:
    counters = np.zeros(threads * distance + 1, dtype=np.int64)
    cpu = [0.0] * threads
    start = threading.Barrier(threads + 1)

    def work(k: int) -> None:
        slots = np.array([k * distance, k * distance], dtype=np.int64)
        start.wait()
        t0 = time.thread_time()
        kernel(counters, slots, times)
        cpu[k] = time.thread_time() - t0

    pool = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for thread in pool:
        thread.start()
    w0 = time.perf_counter()
    start.wait()
    for thread in pool:
        thread.join()
    wall = time.perf_counter() - w0
    return SharingRun(distance * 8, sum(cpu) / threads / times * 1e9, sum(cpu) / wall)


def false_sharing_sweep(kernel: Callable, distances: Sequence[int], times: int, *, threads: int = 2,
                        repeats: int = 3) -> list[SharingRun]:
    """Time ``kernel(counters, slots, times)`` (which does counters[slot] += 1, ``times`` times) on ``threads``
    threads at once, thread k using slot k * distance of an int64 array, for each distance in elements. CPU
    time per thread (``time.thread_time``) is kept rather than wall time, so waiting for a core on a loaded
    machine does not count; ``parallelism`` (busy cores, 2 for two threads always at once) says whether the
    threads really overlapped. Repeats interleave the
    distances; each keeps its fastest run."""
    best: dict[int, SharingRun] = {}
    for _ in range(repeats):
        for distance in distances:
            run = _sharing_run(kernel, distance, times, threads)
            if distance not in best or run.ns_per_increment < best[distance].ns_per_increment:
                best[distance] = run
    return [best[d] for d in distances]
