"""labkit.simd: reference kernels (checked against plain definitions), numpy dispatch, throughput, llvmlite."""
import numpy as np
import pytest

from labkit.numerics import unit_roundoff
from labkit.simd import (
    TARGETS,
    cross_compile,
    dispatch_targets,
    elements_per_second,
    histogram_counts,
    pairwise_sq_distances,
    stable_softmax,
    without_numpy_histogram,
)
from labkit.timing import FakeClock

rng = np.random.default_rng(7)


def test_softmax_matches_the_definition_and_survives_huge_logits():
    x = rng.normal(size=(5, 9))
    expected = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    assert np.allclose(stable_softmax(x), expected, rtol=1e-13, atol=0)
    assert np.allclose(stable_softmax(x + 1000.0), expected, rtol=1e-12, atol=0)  # exp(1000) overflows
    assert np.allclose(stable_softmax(x.T, axis=0), expected.T, rtol=1e-13, atol=0)


def test_softmax_keeps_float32_masks_minus_inf_and_refuses_an_empty_distribution():
    x = np.array([[1.0, -np.inf, 3.0]], dtype=np.float32)
    p = stable_softmax(x)
    assert p.dtype == np.float32 and p[0, 1] == 0 and np.isclose(p.sum(), 1, rtol=4 * unit_roundoff(np.float32))
    assert stable_softmax([1, 2]).dtype == np.float64  # integers become float64
    with pytest.raises(ValueError, match="all -inf"):
        stable_softmax(np.full((2, 3), -np.inf))


def _brute_force(X, Y):
    return np.array([[float(np.sum((x - y) ** 2)) for y in Y] for x in X]).reshape(len(X), len(Y))


def test_pairwise_distances_match_the_definition_far_from_the_origin_and_for_uint8():
    X, Y = rng.normal(size=(6, 3)), rng.normal(size=(4, 3))
    assert np.allclose(pairwise_sq_distances(X, Y), _brute_force(X, Y), rtol=1e-12, atol=1e-12)
    far = 1e8  # without centring, |x|^2 + |y|^2 - 2x.y cancels about 16 digits away
    assert np.allclose(pairwise_sq_distances(X + far, Y + far), _brute_force(X, Y), rtol=1e-6, atol=1e-6)
    pixels = rng.integers(0, 17, size=(3, 64)).astype(np.uint8)  # uint8 subtraction would wrap around
    assert np.allclose(pairwise_sq_distances(pixels, pixels), _brute_force(pixels.astype(float), pixels), atol=1e-9)
    assert pairwise_sq_distances(np.empty((0, 3)), Y).shape == (0, 4)
    with pytest.raises(ValueError, match="same number of columns"):
        pairwise_sq_distances(X, Y[:, :2])


def test_histogram_counts_equal_numpy_including_values_on_the_edges():
    lo, hi, bins = -1.3, 2.9, 13
    edges = np.linspace(lo, hi, bins + 1)
    x = np.concatenate([rng.uniform(lo - 1, hi + 1, 5000), edges, np.nextafter(edges, -np.inf), [np.nan, hi]])
    assert np.array_equal(histogram_counts(x, lo, hi, bins), np.histogram(x, bins, range=(lo, hi))[0])
    assert histogram_counts(np.arange(10.0).reshape(2, 5), 0, 10, 5).tolist() == [2, 2, 2, 2, 2]
    for bad in [(0, 1, 0), (1, 1, 3), (2, 1, 3)]:
        with pytest.raises(ValueError):
            histogram_counts([0.5], *bad)


def test_without_numpy_histogram_disables_the_answer_key_and_restores_it_even_after_an_error():
    original = np.histogram
    with without_numpy_histogram():
        for name in ("histogram", "histogram2d", "histogramdd"):
            with pytest.raises(AssertionError, match="answer key"):
                getattr(np, name)([0.5])
        assert histogram_counts([0.5], 0, 1, 2).tolist() == [0, 1]  # the reference does not need it
    assert np.histogram is original
    with pytest.raises(ZeroDivisionError), without_numpy_histogram():
        raise ZeroDivisionError
    assert np.histogram is original and np.histogram([0.5], 2, range=(0, 1))[0].tolist() == [0, 1]


def test_dispatch_reports_targets_and_turns_numpys_refusal_into_a_message():
    from numpy._core._multiarray_umath import __cpu_baseline__

    default = dispatch_targets(n=1000, repeats=2)
    assert default.error is None and "fff" in default.targets["add"] and default.ns_per_element["exp"] > 0
    refused = dispatch_targets([__cpu_baseline__[-1]], n=1000, repeats=2)
    assert refused.targets == {} and "baseline" in refused.error


def test_disabling_the_dispatched_target_moves_numpy_to_another_one():
    current = dispatch_targets(n=1000, repeats=1).targets["exp"]["ff"]
    if current.startswith("baseline"):
        pytest.skip("numpy already runs exp at its baseline on this CPU: nothing to disable")
    moved = dispatch_targets([current], n=1000, repeats=1)
    assert moved.error is None and moved.targets["exp"]["ff"] != current


def test_elements_per_second_divides_size_by_the_best_batch_time():
    clock = FakeClock()
    cost = {8: 1e-4, 64: 4e-4}  # seconds per call
    rates = elements_per_second(lambda x: clock.advance(cost[len(x)]), [8, 64], np.zeros,
                                batch_seconds=1e-3, repeats=3, clock=clock)
    assert np.allclose(rates, [8 / 1e-4, 64 / 4e-4])


LOOP_IR = """
define void @scale(ptr noalias %x, i64 %n) {
entry:
  br label %loop
loop:
  %i = phi i64 [ 0, %entry ], [ %next, %loop ]
  %p = getelementptr double, ptr %x, i64 %i
  %v = load double, ptr %p
  %w = fmul double %v, 3.0
  store double %w, ptr %p
  %next = add i64 %i, 1
  %done = icmp eq i64 %next, %n
  br i1 %done, label %exit, label %loop
exit:
  ret void
}
"""


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_cross_compile_vectorises_for_each_target(target):
    assembly = cross_compile(LOOP_IR, target)
    widest = {"avx2": "%ymm", "avx512": "%ymm", "avx512zmm": "%zmm", "neon": "v0.2d"}[target.name]
    assert widest in assembly and "scale:" in assembly
