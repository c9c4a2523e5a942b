"""The three Numba kernels of lab 03: the notebook times them and reads their assembly.

Each has one explicit signature, so it is compiled once, when this module is imported (about 0.2 s each),
with contiguous arrays (``[::1]``) so that LLVM knows the elements are adjacent and can vectorise.
``regenerate_listings.py`` compiles the same functions for other CPUs; keep the two in step.
"""
from numba import njit


@njit("float64(float64[::1])", cache=False)
def sum_strict(x):
    """Sum in exactly the order written: IEEE rules forbid reordering, so no SIMD for the additions."""
    total = 0.0
    for i in range(x.shape[0]):
        total += x[i]
    return total


@njit("float64(float64[::1])", fastmath=True, cache=False)
def sum_fast(x):
    """The same loop with fastmath: additions may be reassociated, so several vector accumulators run."""
    total = 0.0
    for i in range(x.shape[0]):
        total += x[i]
    return total


@njit("void(float32, float32[::1], float32[::1])", fastmath=True, cache=False)
def axpy(a, x, y):
    """y += a * x in float32; fastmath lets LLVM fuse the multiply and add into one FMA instruction."""
    for i in range(x.shape[0]):
        y[i] += a * x[i]


KERNELS = {"sum_strict": sum_strict, "sum_fast": sum_fast, "axpy": axpy}
