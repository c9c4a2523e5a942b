"""labkit.workspan: tree reduction and Blelloch scan (results, work and span), Mandelbrot counts, schedules."""
import itertools
import math
import operator

import numpy as np
import pytest

from labkit import workspan


def concat(a, b):
    return f"({a}{b})"


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13, 64, 100])
def test_tree_reduce_does_n_minus_1_ops_in_ceil_log2_levels(n):
    values = list(range(1, n + 1))
    result, levels = workspan.tree_reduce(values, operator.add)
    assert result == n * (n + 1) // 2
    assert sum(levels) == n - 1
    assert len(levels) == math.ceil(math.log2(n))


def test_tree_reduce_pairs_neighbours_and_carries_the_odd_value_up():
    result, levels = workspan.tree_reduce(["a", "b", "c", "d", "e"], concat)
    assert result == "(((ab)(cd))e)"
    assert levels == [2, 1, 1]
    assert workspan.tree_reduce(np.array([7]), operator.add) == (7, [])
    with pytest.raises(ValueError):
        workspan.tree_reduce([], operator.add)


@pytest.mark.parametrize("n", [1, 2, 4, 8, 64, 1024])
def test_blelloch_scan_is_the_exclusive_scan_with_2n_minus_2_work_and_2log2n_span(n):
    values = np.random.default_rng(n).integers(-50, 50, n).tolist()
    scan, work, span = workspan.blelloch_scan(values, operator.add, 0)
    assert scan == [0] + list(itertools.accumulate(values))[:-1]
    assert (work, span) == (2 * (n - 1), 2 * int(math.log2(n)))


def test_blelloch_scan_keeps_operand_order_for_a_non_commutative_op():
    scan, _, _ = workspan.blelloch_scan(list("abcdefgh"), operator.add, "")
    assert scan == ["", "a", "ab", "abc", "abcd", "abcde", "abcdef", "abcdefg"]
    for n in [0, 3, 6, 12]:
        with pytest.raises(ValueError):
            workspan.blelloch_scan([1] * n, operator.add, 0)


def test_scan_costs_match_the_counted_scans_and_brent_bound():
    costs = workspan.scan_costs(16)
    assert costs["Blelloch"] == workspan.blelloch_scan([1] * 16, operator.add, 0)[1:]
    assert costs["sequential"] == (15, 15)
    assert costs["Hillis-Steele"] == (15 + 14 + 12 + 8, 4)
    assert workspan.brent_bound(100, 10, 4) == 35.0
    with pytest.raises(ValueError):
        workspan.scan_costs(12)


def test_mandelbrot_counts_known_points_and_shape():
    counts = workspan.mandelbrot_iterations(5, 3, 50, x_range=(-2.0, 2.0), y_range=(-1.0, 1.0))
    assert counts.shape == (3, 5) and counts.dtype == np.int64
    assert counts[1, 2] == 50  # c = 0 is in the set
    assert counts[1, 4] == 2  # c = 2: z1 = 2 (|z| <= 2), z2 = 6 escapes
    assert counts[1, 0] == 50  # c = -2: z stays at 2
    assert workspan.mandelbrot_iterations(1, 1, 9, x_range=(3.0, 3.0), y_range=(0.0, 0.0))[0, 0] == 1  # z1 = 3
    rows = workspan.mandelbrot_iterations(60, 40, 100).sum(axis=1)
    assert rows.max() > 5 * rows.min()  # an uneven workload


def test_schedule_loads_block_cyclic_dynamic():
    costs = [5, 1, 1, 1, 1, 5, 9, 0]
    assert workspan.schedule_loads(costs, 2, "block") == [8, 15]
    assert workspan.schedule_loads(costs, 2, "cyclic") == [16, 7]
    assert workspan.schedule_loads(costs, 2, "cyclic", chunk=2) == [6 + 6, 2 + 9]
    # w0 takes 5 (busy until 5); w1 takes 1, 1, 1, 1 (until 4), then 5 (until 9); w0 takes 9, w1 the 0
    assert workspan.schedule_loads(costs, 2, "dynamic") == [14, 9]
    assert workspan.schedule_loads([3, 3], 2, "dynamic") == [3, 3]  # tie goes to worker 0 first
    assert workspan.schedule_loads([2, 2, 2], 3, "block") == [2, 2, 2]
    assert workspan.schedule_loads([4], 3, "dynamic") == [4, 0, 0]
    for args in [(costs, 0, "block"), (costs, 2, "guided"), (costs, 2, "cyclic", 0), ([-1], 1, "block"),
                 (costs, True, "block")]:
        with pytest.raises(ValueError):
            workspan.schedule_loads(*args)


def test_dynamic_schedule_is_never_worse_than_greedy_bound():
    rows = workspan.mandelbrot_iterations(80, 60, 80).sum(axis=1)
    for workers in [2, 4, 8]:
        loads = workspan.schedule_loads(rows, workers, "dynamic")
        assert sum(loads) == rows.sum()
        assert max(loads) <= rows.sum() / workers + rows.max()  # Graham's list-scheduling bound
        block = workspan.schedule_loads(rows, workers, "block")
        assert workspan.load_imbalance(loads) <= workspan.load_imbalance(block)


def test_load_imbalance():
    assert workspan.load_imbalance([5, 5]) == 1.0
    assert workspan.load_imbalance([9, 3]) == 1.5
    with pytest.raises(ValueError):
        workspan.load_imbalance([0, 0])
