"""A small LRU set-associative cache simulator and the blocked transpose it checks (lab 04).

``cache_misses`` counts the misses of a trace of byte addresses exactly (the lab's reference for the simulator
the student completes). ``transpose_trace`` is the address trace of a (blocked) transpose B = A.T of two n x n
arrays; ``transpose_lines`` is the analytic count of the lines a blocked transpose loads when no line survives
from one block to the next (the lab's reference), which the simulator confirms, beats (reuse between blocks)
or exceeds (conflict misses).
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .memory import _positive_int


def sets_of(size_bytes: int, line_bytes: int, ways: int) -> int:
    """Number of sets of a cache of ``size_bytes`` with ``line_bytes`` lines and ``ways`` lines per set."""
    size, line, ways = (_positive_int(v, w) for v, w in ((size_bytes, "size_bytes"), (line_bytes, "line_bytes"),
                                                          (ways, "ways")))
    if size % (line * ways):
        raise ValueError(f"size_bytes ({size}) must be a multiple of line_bytes * ways ({line} * {ways})")
    return size // (line * ways)


def cache_misses(addresses: Iterable[int], size_bytes: int, line_bytes: int = 64, ways: int = 8) -> int:
    """Misses of an initially empty LRU set-associative cache for a trace of byte addresses: line = address //
    line_bytes, set = line % sets; a miss in a full set evicts the set's least recently used line."""
    sets = sets_of(size_bytes, line_bytes, ways)
    trace = np.asarray(list(addresses) if not isinstance(addresses, np.ndarray) else addresses)
    if trace.size and (trace.ndim != 1 or not np.issubdtype(trace.dtype, np.integer) or trace.min() < 0):
        raise ValueError("addresses must be a one-dimensional sequence of non-negative integers")
    contents: list[list[int]] = [[] for _ in range(sets)]  # each set's lines, least recently used first
    misses = 0
    for line in (trace // line_bytes).tolist():
        resident = contents[line % sets]
        if line in resident:
            resident.remove(line)
        else:
            misses += 1
            if len(resident) == ways:
                del resident[0]
        resident.append(line)
    return misses


def transpose_trace(n: int, block: int, itemsize: int = 8) -> np.ndarray:
    """Byte addresses of B = A.T for two C-order n x n arrays, A at byte 0 and B right after it (byte
    n * n * itemsize): blocks of block x block in row-major block order, and inside a block, for each i then j,
    a read of A[i, j] followed by a write of B[j, i]. block >= n is the naive transpose."""
    n, block, itemsize = _positive_int(n, "n"), _positive_int(block, "block"), _positive_int(itemsize, "itemsize")
    starts = np.arange(0, n, block)
    i_blocks, j_blocks = np.meshgrid(starts, starts, indexing="ij")
    pieces = []
    for i0, j0 in zip(i_blocks.ravel().tolist(), j_blocks.ravel().tolist(), strict=True):
        i, j = np.meshgrid(np.arange(i0, min(i0 + block, n)), np.arange(j0, min(j0 + block, n)), indexing="ij")
        i, j = i.ravel(), j.ravel()
        pieces.append(np.stack([(i * n + j) * itemsize, (n * n + j * n + i) * itemsize], axis=1).ravel())
    return np.concatenate(pieces).astype(np.int64)


def transpose_lines(n: int, block: int, itemsize: int = 8, line_bytes: int = 64) -> int:
    """Cache lines a blocked transpose (layout of ``transpose_trace``) loads when each block loads every line it
    touches once and nothing survives from one block to the next: summed over blocks, the distinct lines of A's
    block plus the distinct lines of B's block (A's and B's lines counted separately)."""
    n, block = _positive_int(n, "n"), _positive_int(block, "block")
    itemsize, line_bytes = _positive_int(itemsize, "itemsize"), _positive_int(line_bytes, "line_bytes")
    # every block row is one contiguous run of bytes (row r, columns c0 .. c0 + width - 1), and B's block rows are
    # the same runs shifted by n * n * itemsize bytes. Within a block the runs go up row by row, so a run's lines
    # are new except those it shares with the run above it (rows need not start on a line boundary).
    rows, c0 = np.meshgrid(np.arange(n), np.arange(0, n, block), indexing="ij")
    width = np.minimum(block, n - c0)
    total = 0
    for base in (0, n * n * itemsize):
        first = (base + (rows * n + c0) * itemsize) // line_bytes
        last = (base + (rows * n + c0 + width) * itemsize - 1) // line_bytes
        above = np.vstack([np.full((1, first.shape[1]), -1), last[:-1]])
        above[rows % block == 0] = -1                          # the first row of a block shares with nothing
        total += int(np.clip(last - np.maximum(first, above + 1) + 1, 0, None).sum())
    return total
