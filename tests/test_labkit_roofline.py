"""labkit.roofline: counts against loops that count, peak arithmetic, the roofline's two regimes, the matmul error
bound against exact rational products, and the Numba kernels against that bound."""
from fractions import Fraction

import numpy as np
import pytest

from labkit import roofline
from labkit.numerics import unit_roundoff


def counted(kernel, n):
    """Flops and operand elements of a kernel by walking its loops (independent of the closed forms)."""
    flops = 0
    if kernel in ("axpy", "dot"):
        for _ in range(n):
            flops += 2
        return flops, (3 if kernel == "axpy" else 2) * n
    reps = n if kernel == "gemv" else n * n
    for _ in range(reps):
        for _ in range(n):
            flops += 2
    return flops, (n * n + 2 * n if kernel == "gemv" else 3 * n * n)


@pytest.mark.parametrize("kernel", roofline.KERNELS)
@pytest.mark.parametrize("n", [0, 1, 7, 20])
def test_kernel_counts_match_the_loops(kernel, n):
    flops, elements = counted(kernel, n)
    assert roofline.kernel_counts(kernel, n) == (flops, 8 * elements)
    assert roofline.kernel_counts(kernel, n, itemsize=4) == (flops, 4 * elements)


def test_gemm_intensity_grows_with_n_and_vector_kernels_stay_flat():
    ai = {k: [np.divide(*roofline.kernel_counts(k, n)) for n in (100, 1000)] for k in roofline.KERNELS}
    assert ai["gemm"][1] == pytest.approx(10 * ai["gemm"][0])
    assert ai["axpy"] == [1 / 12, 1 / 12] and ai["dot"] == [1 / 8, 1 / 8]
    assert ai["gemv"][1] < 0.25


@pytest.mark.parametrize("args", [("saxpy", 10), ("dot", -1), ("dot", 2.0), ("dot", True), ("gemm", 4, 0)])
def test_kernel_counts_rejects_bad_arguments(args):
    with pytest.raises(ValueError):
        roofline.kernel_counts(*args)


def test_peak_gflops_of_the_worked_examples():
    # Kunpeng 920-6426: 64 cores at 2.6 GHz, two 128-bit FMA pipes: 1331.2 GFLOP/s float64
    assert roofline.peak_gflops(2.6, 128, 2, 64) == pytest.approx(1331.2)
    assert roofline.peak_gflops(2.6, 128, 2, 64, "float32") == pytest.approx(2662.4)
    # Xeon Platinum 8176: 28 cores at 2.1 GHz, two AVX-512 FMA units: 32 flops per cycle per core
    assert roofline.peak_gflops(2.1, 512, 2, 28) == pytest.approx(2.1 * 32 * 28)
    assert roofline.peak_gflops(3, 64, 1, 1, np.float64) == 6.0  # scalar FMA


@pytest.mark.parametrize("args", [(0, 128, 2, 1), (2.0, 96, 2, 1), (2.0, 128, 0, 1), (2.0, 128, 2, 0),
                                  (2.0, 32, 1, 1, "float64"), (2.0, 128, 1.5, 1), (True, 128, 1, 1)])
def test_peak_gflops_rejects_bad_arguments(args):
    with pytest.raises(ValueError):
        roofline.peak_gflops(*args)


def test_roofline_regimes_and_ridge():
    peak, bw = 100.0, 20.0                                 # ridge at 5 flop/byte
    attainable, memory_bound = roofline.roofline_bound([0.0, 1.0, 5.0, 50.0], peak, bw)
    assert attainable.tolist() == [0.0, 20.0, 100.0, 100.0]
    assert memory_bound.tolist() == [True, True, False, False]  # the ridge itself is compute-bound
    a2, m2 = roofline.roofline_bound(np.full((2, 3), 0.5), peak, bw)
    assert a2.shape == m2.shape == (2, 3) and m2.dtype == bool
    scalar, bound = roofline.roofline_bound(10, peak, bw)
    assert scalar.shape == () and float(scalar) == 100.0 and not bound


@pytest.mark.parametrize("args", [([-1.0], 1, 1), ([1.0], 0, 1), ([1.0], 1, -2), ([float("nan")], 1, 1)])
def test_roofline_rejects_bad_arguments(args):
    with pytest.raises(ValueError):
        roofline.roofline_bound(*args)


def test_error_bound_holds_for_float32_and_is_not_vacuous():
    rng = np.random.default_rng(5)
    A = rng.standard_normal((20, 300)).astype(np.float32)
    B = rng.standard_normal((300, 10)).astype(np.float32)
    bound = roofline.matmul_error_bound(A, B)
    exact = A.astype(np.float64) @ B.astype(np.float64)   # float32 products are exact in float64
    error = np.abs((A @ B).astype(np.float64) - exact)
    assert bound.dtype == np.float64 and bound.shape == (20, 10)
    assert np.all(error <= bound)
    assert np.all(bound < 1e-3 * (np.abs(A) @ np.abs(B)))   # gamma_300 in float32 is about 1.8e-5
    assert roofline.matmul_error_bound(A, B, "float64").max() < bound.max() * 1e-8


def test_error_bound_uses_the_inner_dimension_and_gamma():
    A, B = np.ones((2, 1000)), np.ones((1000, 3))
    u = unit_roundoff(np.float16)
    expected = 1000 * u / (1 - 1000 * u) * 1000
    assert roofline.matmul_error_bound(A, B, np.float16) == pytest.approx(np.full((2, 3), expected), rel=1e-12)
    assert roofline.matmul_error_bound(np.ones((3, 0)), np.ones((0, 2))).tolist() == [[0.0, 0.0]] * 3
    assert roofline.matmul_error_bound([[1, 2]], [[3], [4]]).dtype == np.float64   # integers: float64's u


def test_error_bound_rejects_bad_shapes_and_unbounded_gamma():
    for A, B in [(np.ones((2, 3)), np.ones((2, 3))), (np.ones(3), np.ones((3, 1)))]:
        with pytest.raises(ValueError):
            roofline.matmul_error_bound(A, B)
    with pytest.raises(ValueError):
        roofline.matmul_error_bound(np.ones((1, 5000)), np.ones((5000, 1)), "float16")


def exact_product(A, B):
    def entry(row, col):
        return float(sum(Fraction(a) * Fraction(b) for a, b in zip(row, col, strict=True)))
    return np.array([[entry(row, col) for col in B.T] for row in A])


@pytest.mark.parametrize("shape,tile", [((7, 5, 9), 3), ((16, 16, 16), 4), ((5, 33, 2), 64), ((1, 1, 1), 1)])
def test_numba_matmuls_are_within_the_error_bound(shape, tile):
    m, k, n = shape
    rng = np.random.default_rng(sum(shape))
    A, B = rng.standard_normal((m, k)), rng.standard_normal((k, n))
    exact = exact_product(A, B)
    bound = roofline.matmul_error_bound(A, B)
    for C in (roofline.matmul_tiled(A, B, tile), roofline.matmul_naive(A, B)):
        assert C.shape == (m, n) and C.dtype == np.float64
        assert np.all(np.abs(C - exact) <= bound)


def test_tiled_matmul_takes_views_and_rejects_bad_input():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((6, 4))
    C = roofline.matmul_tiled(A.T, A, 5)                   # a Fortran-order view is copied to C order
    assert np.abs(C - A.T @ A).max() <= roofline.matmul_error_bound(A.T, A).max()
    for args in [(A, A), (A, A.T, 0), (A.ravel(), A)]:
        with pytest.raises(ValueError):
            roofline.matmul_tiled(*args)


def test_loop_profiles_find_the_vectorised_row_loop_of_the_tiled_kernel():
    roofline.matmul_tiled(np.eye(2), np.eye(2), 2)
    tiled = roofline.loop_profiles(roofline.matmul_tiled)
    assert tiled and max(p["max_lanes"] for p in tiled) >= 2      # SIMD on every ISA the course supports
    roofline.matmul_naive(np.eye(2), np.eye(2))
    naive = roofline.loop_profiles(roofline.matmul_naive)
    assert naive and max(p["max_lanes"] for p in naive) == 1       # strict sum down a column: scalar
    with pytest.raises(ValueError):
        roofline.loop_profiles(np.dot)


def test_axpy_updates_in_place():
    x, y = np.arange(5.0), np.ones(5)
    roofline.axpy(2.0, x, y)
    assert y.tolist() == [1.0, 3.0, 5.0, 7.0, 9.0]


def test_nominal_ghz_reads_cpufreq_then_cpuinfo(tmp_path):
    assert roofline.nominal_ghz(tmp_path) is None
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc/cpuinfo").write_text("processor\t: 0\ncpu MHz\t\t: 2599.998\n")
    assert roofline.nominal_ghz(tmp_path) == pytest.approx(2.599998)
    freq = tmp_path / "sys/devices/system/cpu/cpu0/cpufreq"
    freq.mkdir(parents=True)
    (freq / "cpuinfo_max_freq").write_text("3500000\n")
    assert roofline.nominal_ghz(tmp_path) == 3.5
