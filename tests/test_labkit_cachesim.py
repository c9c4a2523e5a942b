"""labkit.cachesim: the LRU simulator against a fully independent model, and the transpose line counts."""
import numpy as np
import pytest

from labkit import cachesim


def lru_by_timestamps(addresses, size, line, ways):
    sets = size // (line * ways)
    last_use, misses = {}, 0
    for t, a in enumerate(addresses):
        ln = a // line
        same_set = [x for x in last_use if x % sets == ln % sets]
        if ln not in last_use:
            misses += 1
            if len(same_set) == ways:
                del last_use[min(same_set, key=last_use.get)]
        last_use[ln] = t
    return misses


def test_cache_misses_match_a_timestamp_lru_model():
    rng = np.random.default_rng(8)
    for _ in range(40):
        line, ways = int(rng.choice([16, 64])), int(rng.choice([1, 2, 4]))
        size = line * ways * int(rng.choice([1, 2, 4, 8]))
        trace = rng.integers(0, 8 * size, int(rng.integers(0, 400)))
        assert cachesim.cache_misses(trace, size, line, ways) == lru_by_timestamps(trace.tolist(), size, line, ways)


def test_lru_is_not_fifo_and_direct_mapped_conflicts():
    # 2-way, one set: A B A C A -> LRU keeps A (3 misses); FIFO would evict A at C (4 misses)
    assert cachesim.cache_misses([0, 64, 0, 128, 0], 128, 64, 2) == 3
    assert cachesim.cache_misses([0, 256] * 4, 256, 64, 1) == 8      # same set in a direct-mapped cache
    assert cachesim.cache_misses([0, 256] * 4, 256, 64, 2) == 2
    assert cachesim.cache_misses([], 512) == 0


@pytest.mark.parametrize("args", [([1], 100, 64, 1), ([1], 256, 0, 1), ([-1], 256, 64, 1), ([1.5], 256, 64, 1)])
def test_cache_misses_rejects_bad_geometry_and_addresses(args):
    with pytest.raises(ValueError):
        cachesim.cache_misses(*args)


def test_transpose_trace_reads_every_element_of_a_and_writes_its_mirror():
    n, s = 6, 8
    trace = cachesim.transpose_trace(n, 4, s)
    reads, writes = trace[0::2] // s, trace[1::2] // s - n * n
    assert sorted(reads.tolist()) == list(range(n * n))
    assert np.array_equal((reads % n) * n + reads // n, writes)   # B[j, i] for A[i, j]
    assert np.array_equal(cachesim.transpose_trace(n, n, s)[0::2] // s, np.arange(n * n))  # naive: row order


def brute_block_lines(n, block, s, line):
    total = 0
    for i0 in range(0, n, block):
        for j0 in range(0, n, block):
            pairs = [(i, j) for i in range(i0, min(i0 + block, n)) for j in range(j0, min(j0 + block, n))]
            total += len({((i * n + j) * s + k) // line for i, j in pairs for k in range(s)})
            total += len({(n * n * s + (j * n + i) * s + k) // line for i, j in pairs for k in range(s)})
    return total


@pytest.mark.parametrize("n,block,s,line", [(16, 4, 8, 64), (16, 8, 8, 64), (10, 3, 8, 64), (12, 5, 4, 32),
                                            (9, 9, 8, 64), (7, 1, 12, 16)])
def test_transpose_lines_is_the_per_block_footprint(n, block, s, line):
    assert cachesim.transpose_lines(n, block, s, line) == brute_block_lines(n, block, s, line)


def test_simulated_transpose_meets_the_model_without_conflicts_and_exceeds_it_with_them():
    # aligned blocks of whole lines in a cache big enough for two blocks: compulsory misses only
    assert cachesim.cache_misses(cachesim.transpose_trace(64, 8), 32 * 1024, 64, 8) == cachesim.transpose_lines(64, 8)
    # naive transpose of a 128 x 128 float64 array in 8 KiB: every write to B misses
    naive = cachesim.cache_misses(cachesim.transpose_trace(128, 128), 8 * 1024, 64, 4)
    assert naive > 128 * 128
    assert cachesim.cache_misses(cachesim.transpose_trace(128, 8), 8 * 1024, 64, 4) < naive
