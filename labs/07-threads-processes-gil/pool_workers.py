"""Worker functions for lab 07's thread and process pools.

They live in this importable module, not in the notebook, because a process started with ``spawn`` is a fresh
Python interpreter: it receives the function *by name* (module and attribute) and imports this module to find
it. A function defined in a notebook cell lives in ``__main__`` of the kernel, which a spawned worker cannot
import. Keep imports here light: every spawned worker pays for them when it starts.

Each task returns the CPU seconds its own thread used (``time.thread_time``), so the notebook can add up CPU
time that happened in other processes, where its own ``time.process_time`` cannot see it.
"""
import os
import time

# The notebook changes this after importing the module. A forked worker would inherit the change; a spawned
# worker imports the module afresh and sees this value.
MARK = "fresh import"


def py_work(n):
    """Pure-Python CPU work: the sum of i * i for i < n (holds the GIL all the time)."""
    total = 0
    for i in range(n):
        total += i * i
    return total


def py_task(n):
    """py_work(n), returning the CPU seconds it took instead of the sum."""
    start = time.thread_time()
    py_work(n)
    return time.thread_time() - start


def numpy_task(n):
    """CPU work inside numpy: n x n float64 matrix products (numpy releases the GIL while BLAS runs)."""
    import numpy as np

    start = time.thread_time()
    a = np.full((n, n), 1.0 / n)
    for _ in range(4):
        a = a @ a
    return time.thread_time() - start


def sleep_task(seconds):
    """I/O-like waiting: sleep (releases the GIL, uses no CPU); returns the CPU seconds used (about 0)."""
    start = time.thread_time()
    time.sleep(seconds)
    return time.thread_time() - start


def io_task(seconds):
    """Sleep for ``seconds`` and return them (a stand-in for a download or a disk read)."""
    time.sleep(seconds)
    return seconds


def read_mark(_):
    """This worker's value of MARK (tells a spawned worker from a forked one)."""
    return MARK


def worker_pid(_):
    """The process id of the worker that ran this task."""
    return os.getpid()
