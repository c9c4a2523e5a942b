"""labkit.sharedmem: chunk sums through shared memory on a spawn pool, no leaked segments, the sharing sweep."""
import multiprocessing
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
    before = sharedmem.shm_segments()
    x = np.random.default_rng(1).integers(-10**12, 10**12, 100_003)
    sums = sharedmem.shm_chunk_sums(x, 7, pool, shm_workers.chunk_sum)
    assert sums.dtype == np.int64
    assert sums.tolist() == [int(x[p * len(x) // 7:(p + 1) * len(x) // 7].sum()) for p in range(7)]
    assert sharedmem.shm_chunk_sums([], 3, pool, shm_workers.chunk_sum).tolist() == [0, 0, 0]
    assert sharedmem.shm_segments() == before


def test_a_failing_worker_propagates_and_still_frees_the_segments(workers):
    shm_workers, pool = workers
    before = sharedmem.shm_segments()
    with pytest.raises(RuntimeError, match="chunk 2"):
        sharedmem.shm_chunk_sums(np.arange(10), 3, pool, shm_workers.chunk_sum_fails_on_last)
    assert sharedmem.shm_segments() == before
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
