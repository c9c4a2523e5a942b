"""labkit.sharedmem: chunk sums through shared memory on a spawn pool, no leaked segments, the sharing sweep."""
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from labkit import sharedmem

LAB = Path(__file__).resolve().parents[1] / "labs" / "08-shared-memory-reductions"


@pytest.fixture(scope="module")
def workers():
    """The lab's worker module and a 2-process spawn pool that can import it."""
    sys.path.insert(0, str(LAB))
    import shm_workers

    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(abs, [1, 2]))  # start the workers (and the pool's semaphores) before any listing
        yield shm_workers, pool
    sys.path.remove(str(LAB))
    sys.modules.pop("shm_workers", None)


def test_chunk_sums_are_exact_and_leave_no_segment(workers):
    shm_workers, pool = workers
    mark = sharedmem.track_created()
    x = np.random.default_rng(1).integers(-10**12, 10**12, 100_003)
    sums = sharedmem.shm_chunk_sums(x, 7, pool, shm_workers.chunk_sum)
    assert sums.dtype == np.int64
    assert sums.tolist() == [int(x[p * len(x) // 7:(p + 1) * len(x) // 7].sum()) for p in range(7)]
    assert sharedmem.shm_chunk_sums([], 3, pool, shm_workers.chunk_sum).tolist() == [0, 0, 0]
    assert sharedmem.left_behind(mark) == []


def test_a_failing_worker_propagates_and_still_frees_the_segments(workers):
    shm_workers, pool = workers
    mark = sharedmem.track_created()
    with pytest.raises(RuntimeError, match="chunk 2"):
        sharedmem.shm_chunk_sums(np.arange(10), 3, pool, shm_workers.chunk_sum_fails_on_last)
    assert sharedmem.left_behind(mark) == []
    for bad in [0, 1.5, True]:
        with pytest.raises(ValueError):
            sharedmem.shm_chunk_sums(np.arange(4), bad, pool, shm_workers.chunk_sum)
    with pytest.raises(ValueError):
        sharedmem.shm_chunk_sums(np.ones((2, 2)), 2, pool, shm_workers.chunk_sum)


def test_shm_segments_lists_a_segment_until_it_is_unlinked_and_skips_semaphores(tmp_path):
    from multiprocessing.shared_memory import SharedMemory

    segment = SharedMemory(create=True, size=16)
    try:
        assert segment.name.lstrip("/") in sharedmem.shm_segments()
    finally:
        segment.close()
        segment.unlink()
    assert segment.name.lstrip("/") not in sharedmem.shm_segments()
    (tmp_path / "sem.mp-abc").touch()
    (tmp_path / "psm_1").touch()
    assert sharedmem.shm_segments(tmp_path) == {"psm_1"}


def test_false_sharing_sweep_runs_each_distance_and_counts_exactly():
    seen = []

    def kernel(counters, slots, times):
        for i in range(times):
            counters[slots[i % len(slots)]] += 1
        seen.append((counters[slots[0]], int(slots[0])))

    runs = sharedmem.false_sharing_sweep(kernel, [1, 8], 200, repeats=2)
    assert [r.distance_bytes for r in runs] == [8, 64]
    assert all(r.ns_per_increment > 0 and r.parallelism > 0 for r in runs)
    assert len(seen) == 2 * 2 * 2 and all(count == 200 for count, _ in seen)
    assert {slot for _, slot in seen} == {0, 1, 8}


def test_a_leak_is_reported_only_for_this_processes_segments_and_then_removed():
    from multiprocessing.shared_memory import SharedMemory

    someone_else = sharedmem.SHM_ROOT / f"psm_other_program_{os.getpid()}"  # what another process's shm_open makes
    someone_else.touch()
    try:
        mark = sharedmem.track_created()
        leaked = SharedMemory(create=True, size=8)
        tidy = SharedMemory(create=True, size=8)
        tidy.close()
        tidy.unlink()
        leaked.close()  # closed, never unlinked: the classic leak
        assert sharedmem.left_behind(mark) == [leaked.name.lstrip("/")]
        assert leaked.name.lstrip("/") not in sharedmem.shm_segments()
        assert someone_else.name in sharedmem.shm_segments()
        assert sharedmem.left_behind(mark) == []
    finally:
        someone_else.unlink()


def test_a_segment_whose_creation_failed_half_way_is_found_and_removed():
    """CPython creates the segment, then ftruncate refuses a float size: an empty segment stays in /dev/shm."""
    from multiprocessing.shared_memory import SharedMemory

    mark = sharedmem.track_created()
    with pytest.raises(TypeError):
        SharedMemory(create=True, size=1.5 * 8)
    (leaked,) = sharedmem.left_behind(mark)
    assert leaked not in sharedmem.shm_segments()


def test_starting_a_new_check_removes_what_an_interrupted_one_left():
    from multiprocessing.shared_memory import SharedMemory

    sharedmem.track_created()
    leaked = SharedMemory(create=True, size=8)
    leaked.close()  # a check that failed early never called left_behind for it
    assert leaked.name.lstrip("/") in sharedmem.shm_segments()
    mark = sharedmem.track_created()
    assert leaked.name.lstrip("/") not in sharedmem.shm_segments()
    assert sharedmem.left_behind(mark) == []
