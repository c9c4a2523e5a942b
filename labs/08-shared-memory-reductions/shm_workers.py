"""Worker functions for lab 08's process pool, attached to shared memory by name.

They live in this importable module, not in the notebook, because the pool's workers are started with
``spawn``: a fresh interpreter receives the function by name (module and attribute) and imports this module.
A task is a tuple ``(x_name, n, sums_name, parts, p)``: the names of two shared-memory segments, one holding
the n int64 values of x, the other the ``parts`` int64 chunk sums. A worker only *closes* the segments it
attached to; unlinking (deleting) them is the job of the process that created them.
"""
from multiprocessing.shared_memory import SharedMemory

import numpy as np


def chunk_sum(task):
    """sums[p] = x[p * n // parts:(p + 1) * n // parts].sum(), reading x from and writing into shared memory."""
    x_name, n, sums_name, parts, p = task
    data, sums = SharedMemory(name=x_name), SharedMemory(name=sums_name)
    try:
        x = np.ndarray((n,), np.int64, buffer=data.buf)
        out = np.ndarray((parts,), np.int64, buffer=sums.buf)
        out[p] = x[p * n // parts:(p + 1) * n // parts].sum()
        del x, out  # views of a segment must go before it can be closed
    finally:
        data.close()
        sums.close()
    return p


def chunk_sum_fails_on_last(task):
    """Like chunk_sum, but the task of the last chunk raises (a worker that fails half-way)."""
    _, _, _, parts, p = task
    if p == parts - 1:
        raise RuntimeError(f"worker for chunk {p} failed")
    return chunk_sum(task)
