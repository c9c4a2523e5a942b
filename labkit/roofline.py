"""Roofline and matrix multiplication (lab 05): flop and byte counts, peak FLOP/s, the roofline bound, the
error bound of a matrix product, and Numba matmul kernels (naive, tiled, axpy) for the lab's measurements.

``kernel_counts``, ``peak_gflops``, ``roofline_bound``, ``matmul_error_bound`` and ``matmul_tiled`` are the references
of the lab's tasks (``labkit.grading.TWINS`` keeps them out of the answers); the demos fall back to them when a
task is unfinished. The Numba kernels are compiled on first use, one signature each (C-contiguous float64), so
importing this module costs nothing and the notebook pays for only the kernels it runs.
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from ._arguments import count as _count
from .numerics import gamma
from .platform import _read  # procfs/sysfs text, None when absent

# kernel -> (flops, elements moved) for size n; every operand crosses the memory bus exactly once (perfect reuse,
# no write-allocate): the *minimum* traffic, so flops / bytes is the highest intensity the kernel can have.
_COUNTS = {
    "axpy": (lambda n: 2 * n, lambda n: 3 * n),            # y = a x + y: read x, y; write y
    "dot": (lambda n: 2 * n, lambda n: 2 * n),             # x . y: read x, y (the scalar result is free)
    "gemv": (lambda n: 2 * n * n, lambda n: n * n + 2 * n),  # y = A x, A n x n: read A, x; write y
    "gemm": (lambda n: 2 * n**3, lambda n: 3 * n * n),     # C = A B, all n x n: read A, B; write C
}
KERNELS = tuple(_COUNTS)


def kernel_counts(kernel: str, n: int, itemsize: int = 8) -> tuple[int, int]:
    """(flops, bytes) of one call of ``kernel`` ("axpy", "dot", "gemv" or "gemm") of size n with elements of
    ``itemsize`` bytes, counting the minimum traffic (each operand moved once). A multiply-add is 2 flops."""
    if kernel not in _COUNTS:
        raise ValueError(f"unknown kernel {kernel!r} (known: {', '.join(KERNELS)})")
    n, itemsize = _count(n, "n", 0), _count(itemsize, "itemsize", 1)
    flops, elements = _COUNTS[kernel]
    return flops(n), elements(n) * itemsize


def peak_gflops(ghz: float, vector_bits: int, fma_units: int, cores: int, dtype: object = "float64") -> float:
    """Peak GFLOP/s = GHz x SIMD lanes (vector_bits / element bits) x 2 (an FMA is two flops) x FMA units per
    core x cores. ValueError unless the register holds a whole, positive number of ``dtype`` elements."""
    if isinstance(ghz, bool) or not isinstance(ghz, int | float | np.integer | np.floating) or not ghz > 0:
        raise ValueError(f"ghz must be a positive number, got {ghz!r}")
    vector_bits = _count(vector_bits, "vector_bits", 1)
    fma_units, cores = _count(fma_units, "fma_units", 1), _count(cores, "cores", 1)
    element_bits = np.dtype(dtype).itemsize * 8
    if vector_bits % element_bits:
        raise ValueError(f"a {vector_bits}-bit register does not hold a whole number of {element_bits}-bit elements")
    return float(ghz) * (vector_bits // element_bits) * 2 * fma_units * cores


def roofline_bound(intensity, peak_gflops: float, bandwidth_gbs: float) -> tuple[np.ndarray, np.ndarray]:
    """Williams' roofline: attainable GFLOP/s = min(peak, intensity x bandwidth) for intensities in flop/byte
    and bandwidth in GB/s, and whether each kernel is memory-bound (intensity x bandwidth < peak, i.e. left of
    the ridge point peak / bandwidth). Both arrays have the shape of ``intensity``."""
    i = np.asarray(intensity, dtype=np.float64)
    if not (np.all(i >= 0) and float(peak_gflops) > 0 and float(bandwidth_gbs) > 0):
        raise ValueError("need intensities >= 0 and a positive peak and bandwidth (no NaN)")
    memory_roof = i * float(bandwidth_gbs)
    return np.minimum(memory_roof, float(peak_gflops)), memory_roof < float(peak_gflops)


def matmul_error_bound(A, B, dtype: object = None) -> np.ndarray:
    """Elementwise bound on |fl(A B) - A B| for a product computed in ``dtype`` (default: the floating type of
    A and B, float64 for integers) in any summation order: gamma_k |A| |B| with k the inner dimension and
    gamma_k = k u / (1 - k u) (Higham, Accuracy and Stability, eq. 3.13). Returned as float64."""
    A, B = np.asarray(A), np.asarray(B)
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[0]:
        raise ValueError(f"need 2-D arrays with matching inner dimensions, got shapes {A.shape} and {B.shape}")
    if dtype is None:
        dtype = np.result_type(A, B)
        if not np.issubdtype(dtype, np.floating):
            dtype = np.float64
    return gamma(A.shape[1], dtype) * (np.abs(A.astype(np.float64)) @ np.abs(B.astype(np.float64)))


# -- Numba kernels (compiled lazily) ------------------------------------------------------------------------

def _naive(A, B):
    m, k = A.shape
    n = B.shape[1]
    C = np.zeros((m, n))
    for i in range(m):
        for j in range(n):
            s = 0.0
            for p in range(k):  # B[p, j] walks down a column: a stride of a whole row
                s += A[i, p] * B[p, j]
            C[i, j] = s
    return C


def _tiled(A, B, tile):
    m, k = A.shape
    n = B.shape[1]
    C = np.zeros((m, n))
    for i0 in range(0, m, tile):
        for p0 in range(0, k, tile):
            for j0 in range(0, n, tile):
                j1 = min(j0 + tile, n)
                for i in range(i0, min(i0 + tile, m)):
                    row = C[i, j0:j1]
                    for p in range(p0, min(p0 + tile, k)):
                        a = A[i, p]
                        b = B[p, j0:j1]
                        for j in range(j1 - j0):  # contiguous rows of B and C: SIMD
                            row[j] += a * b[j]
    return C


def _axpy(a, x, y):
    for i in range(x.shape[0]):
        y[i] += a * x[i]


# name -> (Python source function, Numba signature, fastmath). fastmath lets LLVM fuse a * b + c into FMAs and
# vectorise the tiled kernel's row loop without proving that C and B do not overlap; with its 1-D row segments
# (C[i, j0:j1]) that makes it about 10x faster than without, on the course's machine.
_KERNELS = {
    "naive": (_naive, "float64[:, ::1](float64[:, ::1], float64[:, ::1])", False),
    "tiled": (_tiled, "float64[:, ::1](float64[:, ::1], float64[:, ::1], int64)", True),
    "axpy": (_axpy, "void(float64, float64[::1], float64[::1])", True),
}


@functools.cache
def _kernel(name: str):
    """The Numba kernel ``name``, compiled on first use (about 0.5 s each, more under load)."""
    from numba import njit  # a heavy import: only when a kernel is first needed

    function, signature, fastmath = _KERNELS[name]
    return njit(signature, fastmath=fastmath, cache=False)(function)


def _operands(A, B) -> tuple[np.ndarray, np.ndarray]:
    A = np.ascontiguousarray(A, dtype=np.float64)
    B = np.ascontiguousarray(B, dtype=np.float64)
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[0]:
        raise ValueError(f"need 2-D arrays with matching inner dimensions, got shapes {A.shape} and {B.shape}")
    return A, B


def matmul_naive(A, B) -> np.ndarray:
    """C = A B in float64 by the textbook i-j-p loop (Numba): the baseline the tiled kernel has to beat."""
    return _kernel("naive")(*_operands(A, B))


def matmul_tiled(A, B, tile: int = 64) -> np.ndarray:
    """C = A B in float64 by tiles of ``tile`` x ``tile`` (i-p-j order inside a tile, so the innermost loop runs
    along rows of B and C), compiled with Numba. ValueError for mismatched shapes or tile < 1."""
    tile = _count(tile, "tile", 1)
    return _kernel("tiled")(*_operands(A, B), tile)


def axpy(a: float, x: np.ndarray, y: np.ndarray) -> None:
    """y += a x in place, one compiled loop (numpy's a * x + y would make a temporary array and move more bytes)."""
    _kernel("axpy")(float(a), x, y)


def loop_profiles(kernel) -> list[dict[str, int]]:
    """``labkit.listings.loop_profile`` of every innermost loop with floating-point work in the machine code of a
    Numba-compiled function (its first compiled signature), in listing order: is the hot loop vectorised, with
    how many lanes? ``matmul_tiled`` and ``matmul_naive`` of this module stand for their compiled kernels."""
    from . import listings

    kernel = {matmul_tiled: _kernel("tiled"), matmul_naive: _kernel("naive")}.get(kernel, kernel)
    if not hasattr(kernel, "inspect_asm") or not kernel.signatures:
        raise ValueError(f"{kernel!r} is not a Numba function that has been compiled (call it once first)")
    assembly = kernel.inspect_asm(kernel.signatures[0])
    # the compiled function itself, not the cpython/cfunc wrappers Numba adds around it
    body = next(b for name, b in listings.functions(assembly).items() if not name.startswith(("_ZN7cpython", "cfunc.")))
    profiles = [listings.loop_profile(list(loop.instructions)) for loop in listings.loops(body)]
    return [p for p in profiles if p["fp_instructions"]]


# -- this machine -------------------------------------------------------------------------------------------

def nominal_ghz(root: Path = Path("/")) -> float | None:
    """The CPU's clock in GHz as the OS reports it: cpufreq's maximum, else /proc/cpuinfo's "cpu MHz" (x86),
    else None (many ARM kernels and virtual machines report neither). For discussion and plots only."""
    text = _read(root / "sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")
    if text and text.isdigit():
        return int(text) / 1e6  # kHz
    for line in (_read(root / "proc/cpuinfo") or "").splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "cpu MHz":
            try:
                return float(value) / 1000
            except ValueError:
                return None
    return None
