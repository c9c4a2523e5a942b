"""The Numba kernel of lab 08's false-sharing experiment (compiled when this module is imported, about 1 s).

``bump`` runs without the GIL (``nogil=True``), so two Python threads really execute it at the same time on two
cores. Each thread increments its own counter many times: no data is shared, and the result is exact. Whether
the two counters sit in the same 64-byte cache line decides how fast it runs.
"""
from numba import njit


@njit("void(int64[::1], int64[::1], int64)", nogil=True, cache=False)
def bump(counters, slots, times):
    """counters[slots[i % len(slots)]] += 1 for i < times. Taking the index from an array keeps the compiler
    from holding the counter in a register: every iteration loads it from memory and stores it back."""
    m = slots.shape[0]
    for i in range(times):
        counters[slots[i % m]] += 1
