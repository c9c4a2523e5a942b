"""The Numba kernels of lab 07, compiled when this module is imported (explicit signatures, about 1-2 s).

No numpy allocation happens inside the ``parallel=True`` kernel: Numba turns array expressions in a parallel
function into parallel loops of their own, and compiling those costs several seconds more. The caller passes the
output array in.
"""
import time

from numba import njit, prange


@njit("void(int64[::1], int64[::1])", parallel=True, cache=False)
def racy_histogram(x, counts):
    """counts[v] += 1 for every value v of x, with the loop split over Numba's threads by prange.

    WRONG ON PURPOSE: ``counts[x[i]] += 1`` is a read, an add and a write. Two threads that update the same bin
    at once both read the old value and both write old + 1: one increment is lost. Numba recognises a scalar
    ``total += ...`` in a prange loop as a reduction and gives each thread its own copy; an update of an array
    *element* it does not, so this is a data race.
    """
    for i in prange(x.shape[0]):
        counts[x[i]] += 1


@njit("int64(int64[::1])", nogil=True, cache=False)
def sum_squares_nogil(x):
    """The sum of x[i] * x[i], compiled to machine code that runs without holding the GIL (nogil=True), so
    several Python threads can run it at once."""
    total = 0
    for i in range(x.shape[0]):
        total += x[i] * x[i]
    return total


def nogil_task(x):
    """sum_squares_nogil(x) twice for a pool, returning the CPU seconds this thread spent on it."""
    start = time.thread_time()
    for _ in range(2):
        sum_squares_nogil(x)
    return time.thread_time() - start
