"""Worker functions for lab 08's process pool, attached to shared memory by name.

They live in this importable module, not in the notebook, because the pool's workers are started with
``spawn``: a fresh interpreter receives the function by name (module and attribute) and imports this module.
A task is a tuple ``(x_name, n, sums_name, parts, p)``: the names of two shared-memory segments, one holding
the n int64 values of x, the other the ``parts`` int64 chunk sums. A worker only *closes* the segments it
attached to; unlinking (deleting) them is the job of the process that created them.
"""
import os
import threading
import time
from multiprocessing.shared_memory import SharedMemory

import numpy as np


def exit_with_parent(parent_pid, poll_s=0.2):
    """Pool initializer: end this worker as soon as the process that started it is gone. A pool's workers hold
    their own task queue open, so without this they would wait for tasks forever after a kernel crash."""
    def watch():
        while os.getppid() == parent_pid:
            time.sleep(poll_s)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def chunk_sum(task):
    """sums[p] = x[p * n // parts:(p + 1) * n // parts].sum(), reading x from and writing into shared memory."""
    x_name, n, sums_name, parts, p = task
    data, sums = SharedMemory(name=x_name), SharedMemory(name=sums_name)
    try:
        x = np.ndarray((n,), np.int64, buffer=data.buf)
        out = np.ndarray((parts,), np.int64, buffer=sums.buf)
        out[p] = x[p * n // parts:(p + 1) * n // parts].sum()
        del x, out  # drop the views before closing: afterwards they would point at unmapped memory
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
