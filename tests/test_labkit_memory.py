"""labkit.memory: line counts against a brute-force set of bytes, STREAM accounting, knee matching."""
import numpy as np
import pytest

from labkit import memory, workingset


def brute_lines(count, stride, itemsize, line, offset):
    return len({(offset + k * stride + b) // line for k in range(count) for b in range(itemsize)})


def test_lines_touched_equals_the_set_of_lines_of_every_byte():
    rng = np.random.default_rng(3)
    for _ in range(300):
        count, stride = int(rng.integers(0, 60)), int(rng.integers(-200, 200))
        itemsize, line = int(rng.choice([1, 2, 4, 8, 12, 16, 100])), int(rng.choice([16, 32, 64, 128]))
        offset = int(rng.integers(0, 1000)) + max(0, -stride * count)
        assert memory.lines_touched(count, stride, itemsize, line, offset) == brute_lines(count, stride, itemsize,
                                                                                           line, offset)


def test_lines_touched_of_numpy_views():
    a = np.zeros((100, 64))
    assert memory.lines_touched(64, a.strides[1]) == 8          # one row: contiguous
    assert memory.lines_touched(100, a.strides[0]) == 100       # one column: a line per element


@pytest.mark.parametrize("args", [(-1, 8), (3, 8, 0), (3, 8, 8, 0), (2.5, 8), (True, 8)])
def test_lines_touched_rejects_bad_arguments(args):
    with pytest.raises(ValueError):
        memory.lines_touched(*args)


def test_stream_traffic_counts_reads_writes_and_write_allocate():
    assert memory.stream_traffic_bytes("copy", 1000, write_allocate=False) == 16_000
    assert memory.stream_traffic_bytes("copy", 1000) == 24_000
    assert memory.stream_traffic_bytes("triad", 1000, 4) == 16_000
    assert memory.stream_traffic_bytes("add", 0) == 0
    for bad in [("saxpy", 10), ("copy", -1), ("copy", 10, 0), ("copy", 10, 8, "yes")]:
        with pytest.raises(ValueError):
            memory.stream_traffic_bytes(*bad)


def test_match_cache_levels_on_a_synthetic_sweep():
    sizes = workingset.sizes_bytes(4 * 1024, 64 * 1024**2)
    caps = [48 * 1024, 2 * 1024**2]
    times = workingset.synthetic_sweep(sizes, caps, [1.0, 3.0, 12.0], noise=0.02, seed=5)
    knees = workingset.find_knees(sizes, times, 3)
    assert memory.match_cache_levels(knees, caps) == [0, 1]
    assert memory.match_cache_levels([1000.0], [100.0, 10_000.0], max_ratio=20) == [0]  # tie -> smaller
    assert memory.match_cache_levels([1000.0], [100.0]) == [None]
    assert memory.match_cache_levels([], [1.0]) == []
    for bad in [([0.0], [1.0]), ([1.0], [-1.0]), ([1.0], [1.0], 0.5)]:
        with pytest.raises(ValueError):
            memory.match_cache_levels(*bad)


def test_measurements_return_one_positive_value_per_point():
    assert np.all(memory.strided_sum_ns([1, 8], array_bytes=8192, repeats=2) > 0)
    assert memory.stream_seconds("triad", 1024, repeats=2) > 0
    with pytest.raises(ValueError):
        memory.stream_seconds("saxpy", 10)
