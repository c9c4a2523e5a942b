"""labkit.workingset: the knee finder is the optimum it claims, on curves whose knees are known."""
import itertools

import numpy as np
import pytest

from labkit import workingset as ws
from labkit.timing import FakeClock

KIB, MIB = 1024, 1024**2


def brute_force_cost(log_times, bounds):
    edges = [0, *bounds, len(log_times)]
    runs = [log_times[a:b] for a, b in zip(edges, edges[1:], strict=False)]
    return sum(float(np.sum((run - run.mean()) ** 2)) for run in runs)


def test_find_knees_is_the_least_squares_optimum_over_all_splits():
    rng = np.random.default_rng(4)
    for levels in (1, 2, 3, 4):
        sizes = np.arange(1, 15) * 64
        times = rng.lognormal(0, 0.5, 14)
        knees = ws.find_knees(sizes, times, levels)
        bounds = [list(sizes).index(k) + 1 for k in knees]
        costs = {b: brute_force_cost(np.log(times), b) for b in itertools.combinations(range(1, 14), levels - 1)}
        assert len(knees) == levels - 1
        assert brute_force_cost(np.log(times), bounds) == pytest.approx(min(costs.values()))


def test_knees_of_a_synthetic_sweep_sit_just_above_the_capacities():
    sizes = ws.sizes_bytes(4 * KIB, 128 * MIB)
    capacities = [48 * KIB, 2 * MIB, 32 * MIB]
    for seed in range(5):
        times = ws.synthetic_sweep(sizes, capacities, [1.5, 3.0, 8.0, 40.0], seed=seed)
        knees = ws.find_knees(sizes, times, levels=4)
        # the model rises from each capacity on, so the best split lies at most a few half-octaves above it
        assert all(c <= k <= 4 * c for k, c in zip(knees, capacities, strict=True)), (seed, knees)


def test_find_knees_on_steps_and_its_edge_cases():
    sizes, times = [1, 2, 4, 8, 16, 32], [1, 1, 1, 3, 3, 9]
    assert ws.find_knees(sizes, times, 3) == [4, 16]
    assert ws.find_knees(np.array(sizes), np.array(times, float), 1) == []
    assert ws.find_knees(sizes, times, 6) == sizes[:-1]
    for bad in [dict(levels=0), dict(levels=7), dict(times=[1, 1, 1, 3, 3]), dict(times=[1, 1, 0, 3, 3, 9]),
                dict(sizes=[1, 2, 2, 8, 16, 32])]:
        args = {"sizes": sizes, "times": times, "levels": 3, **bad}
        with pytest.raises(ValueError):
            ws.find_knees(**args)


def test_access_model_levels_and_transitions():
    t = ws.access_model([1 * KIB, 2 * KIB, 4 * KIB, 1 * MIB], [2 * KIB], [1.0, 11.0])
    assert list(t) == pytest.approx([1.0, 1.0, 6.0, 11.0 - 10.0 * 2 / 1024])
    with pytest.raises(ValueError, match="one cost per level"):
        ws.access_model([1], [2], [1.0])


def test_synthetic_sweep_is_seeded():
    sizes = ws.sizes_bytes(4 * KIB, 1 * MIB)
    one, two = (ws.synthetic_sweep(sizes, [64 * KIB], [1.0, 4.0], seed=s) for s in (3, 3))
    assert np.array_equal(one, two)
    assert not np.array_equal(one, ws.synthetic_sweep(sizes, [64 * KIB], [1.0, 4.0], seed=4))


def test_sizes_are_geometric_whole_elements():
    sizes = ws.sizes_bytes(4 * KIB, 64 * KIB, per_octave=2)
    assert sizes[0] == 4 * KIB and sizes[-1] == 64 * KIB and len(sizes) == 9
    assert np.all(sizes % 8 == 0) and np.all(np.diff(sizes) > 0)
    with pytest.raises(ValueError):
        ws.sizes_bytes(64, 32)


def test_sweep_times_each_size_with_the_given_timer():
    """With a fake time_calls each call 'costs' a fixed time: the sweep turns it into ns per access."""
    clock = FakeClock()
    calls = []

    def fake_time_calls(fn, repeats, warmup=1, clock_=clock):
        fn()
        calls.append(repeats)
        return [2e-3, 1e-3, 3e-3][:repeats]

    ns = ws.sweep([4 * KIB, 64 * KIB], accesses=1000, repeats=3, time_calls=fake_time_calls)
    assert calls == [3, 3] and list(ns) == pytest.approx([1e3, 1e3])  # 1 ms / 1000 accesses, the fastest


def test_sweep_on_the_real_clock_gives_positive_times():
    ns = ws.sweep([4 * KIB, 256 * KIB], accesses=2**12, repeats=2)
    assert ns.shape == (2,) and np.all(ns > 0)
