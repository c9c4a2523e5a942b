"""Distributed memory with MPI (lab 09): launching mpi4py programs, block decomposition, a 1-D heat equation
with halo exchange, and the alpha-beta (latency-bandwidth) cost model.

``split_domain``, ``exchange_halos``, ``heat_halo``, ``fit_alpha_beta`` and ``halo_step_seconds`` are the lab's
reference solutions (``labkit.grading.TWINS`` keeps an answer from delegating to them). The MPI programs in the
lab folder use ``split_domain`` and ``heat_update``, so the in-process simulation and the real distributed run
do the same floating-point operations in the same order: their results agree bit for bit.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._arguments import count as _count


class MPIError(RuntimeError):
    """An MPI program failed; the message ends with the last lines it wrote to stderr."""


@dataclass(frozen=True)
class MPIRun:
    command: tuple[str, ...]
    stdout: str
    seconds: float  # wall time of the whole launch (start-up included), for discussion only


def mpiexec_path() -> str:
    """The mpiexec next to this Python (the ``mpich`` wheel installs it there), else the one on PATH."""
    here = Path(sys.executable).with_name("mpiexec")
    found = str(here) if here.exists() else shutil.which("mpiexec")
    if not found:
        raise MPIError("mpiexec not found: install the project's dependencies (pip install mpich mpi4py)")
    return found


def mpi_command(script: str | os.PathLike, ranks: int, *args: str) -> list[str]:
    """``mpiexec -n ranks python script args...`` with every rank started on this machine (no ssh, no hosts file)."""
    if isinstance(ranks, bool) or not isinstance(ranks, (int, np.integer)) or ranks < 1:
        raise ValueError(f"ranks must be an integer >= 1, got {ranks!r}")
    return [mpiexec_path(), "-launcher", "fork", "-host", "localhost", "-n", str(int(ranks)),
            sys.executable, str(script), *map(str, args)]


def run_mpi(script: str | os.PathLike, ranks: int, *args: str, cwd: str | os.PathLike | None = None,
            timeout: float = 120.0) -> MPIRun:
    """Run an MPI program on `ranks` local processes; its stdout, or MPIError with the tail of its stderr."""
    command = mpi_command(script, ranks, *args)
    # One thread per rank: ranks already fill the cores, BLAS pools on top would oversubscribe them. No CMA:
    # MPICH's single-copy transfers (process_vm_readv) need ptrace rights that container seccomp profiles and
    # qemu-user (make test-arm64) lack, and a rank that hits it dies mid-message; the shared-memory path works
    # everywhere.
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "MPIR_CVAR_CH4_CMA_ENABLE": "0"}
    start = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env)
    except subprocess.TimeoutExpired as timed_out:
        raise MPIError(f"{Path(script).name} on {ranks} ranks ran past {timeout:g} s and was stopped") from timed_out
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-6:])
        raise MPIError(f"{Path(script).name} on {ranks} ranks failed (exit status {done.returncode}):\n{tail}")
    return MPIRun(tuple(command), done.stdout, seconds)


# -- domain decomposition -------------------------------------------------------------------------------------

def split_domain(n: int, parts: int) -> list[tuple[int, int]]:
    """Split range(n) into `parts` contiguous blocks (start, stop); the first n % parts blocks get one more item."""
    n, parts = _count(n, "n", 0), _count(parts, "parts", 1)
    if parts > n:
        raise ValueError(f"cannot give each of {parts} parts at least one of {n} items")
    base, extra = divmod(n, parts)
    ranges, start = [], 0
    for p in range(parts):
        stop = start + base + (p < extra)
        ranges.append((start, stop))
        start = stop
    return ranges


# -- the 1-D heat equation ------------------------------------------------------------------------------------

def heat_update(left: np.ndarray, centre: np.ndarray, right: np.ndarray, r: float) -> np.ndarray:
    """One explicit (FTCS) step for interior points: centre + r * (left - 2 centre + right), in that order."""
    return centre + r * (left - 2.0 * centre + right)


def heat_serial(u0, r: float, steps: int) -> np.ndarray:
    """`steps` explicit steps of the 1-D heat equation on one array; both end points stay fixed (Dirichlet)."""
    u = np.array(u0, dtype=np.float64)
    for _ in range(_count(steps, "steps", 0)):
        u[1:-1] = heat_update(u[:-2], u[1:-1], u[2:], r)
    return u


def exchange_halos(blocks: Sequence[np.ndarray]) -> None:
    """Fill each block's ghost cells (its first and last element) from its neighbours' edge values, in place.

    Block p's left ghost gets block p-1's last interior value, its right ghost block p+1's first one; the outer
    ghosts of the first and last block are left alone (they hold the fixed boundary values).
    """
    for p in range(len(blocks) - 1):
        left, right = blocks[p], blocks[p + 1]
        if left.size < 3 or right.size < 3:
            raise ValueError("every block needs at least one interior value between its two ghost cells")
        left[-1], right[0] = right[1], left[-2]


def heat_halo(u0, r: float, steps: int, parts: int) -> list[np.ndarray]:
    """The serial run, decomposed: `parts` blocks (split_domain) with one ghost cell each side, halos exchanged
    before every step. Returns each part's final values; their concatenation equals heat_serial bit for bit."""
    u = np.array(u0, dtype=np.float64)
    if u.ndim != 1 or u.size < 2:
        raise ValueError(f"need a 1-D array of at least 2 points, got shape {u.shape}")
    steps = _count(steps, "steps", 0)
    ranges = split_domain(u.size, parts)
    # A block is [left ghost, u[start:stop], right ghost]; the two outermost ghosts are never read (the end
    # points of the domain are fixed), so they hold 0.
    blocks = [np.concatenate([[u[a - 1] if a > 0 else 0.0], u[a:b], [u[b] if b < u.size else 0.0]])
              for a, b in ranges]
    for _ in range(steps):
        exchange_halos(blocks)
        for (a, b), block in zip(ranges, blocks, strict=True):
            lo, hi = (2 if a == 0 else 1), (block.size - 2 if b == u.size else block.size - 1)
            block[lo:hi] = heat_update(block[lo - 1:hi - 1], block[lo:hi], block[lo + 1:hi + 1], r)
    return [block[1:-1].copy() for block in blocks]


# -- the alpha-beta model -------------------------------------------------------------------------------------

def synthetic_pingpong(seed: int, alpha: float, beta: float, sizes: Sequence[int], repeats: int,
                       jitter: float) -> tuple[np.ndarray, np.ndarray]:
    """Seeded one-way ping-pong times alpha + beta * m plus one-sided noise (delays only ever add time).

    The noise of each repeat is exponential with mean `jitter` times the model time; returns (bytes, seconds),
    each size repeated `repeats` times.
    """
    m = np.repeat(np.asarray(sizes, dtype=np.float64), _count(repeats, "repeats", 1))
    model = alpha + beta * m
    rng = np.random.default_rng(seed)
    return m, model * (1.0 + rng.exponential(jitter, m.size))


def _sample(values, name: str) -> np.ndarray:
    a = np.asarray(values, dtype=np.float64)
    if a.ndim != 1 or not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ValueError(f"{name} must be a 1-D sequence of finite values >= 0")
    return a


def fit_alpha_beta(nbytes, seconds) -> tuple[float, float]:
    """Fit t = alpha + beta * m to the FASTEST time of each message size (noise only adds time), by least squares
    on relative errors (weights 1/t): sizes span decades, and unweighted, the largest messages would decide alpha."""
    m, t = _sample(nbytes, "nbytes"), _sample(seconds, "seconds")
    if np.any(t == 0):
        raise ValueError("a message cannot take 0 seconds")
    if m.shape != t.shape:
        raise ValueError(f"nbytes and seconds differ in length ({m.size} vs {t.size})")
    sizes = np.unique(m)
    if sizes.size < 2:
        raise ValueError("need at least two different message sizes to separate latency from bandwidth")
    fastest = np.array([t[m == s].min() for s in sizes])
    beta, alpha = np.polyfit(sizes, fastest, 1, w=1.0 / fastest)
    return float(alpha), float(beta)


def halo_step_seconds(points: int, parts: int, alpha: float, beta: float, point_seconds: float,
                      value_bytes: int = 8) -> dict[str, float]:
    """Predicted time of one step of the decomposed heat equation, set by the busiest rank.

    compute: the largest block's points times `point_seconds`; communication: one Sendrecv of one value with
    each neighbour, alpha + beta * value_bytes each (an inner rank has two neighbours, an end rank one).
    """
    largest = max(b - a for a, b in split_domain(points, parts))
    if not all(np.isfinite(x) and x >= 0 for x in (alpha, beta, point_seconds)):
        raise ValueError("alpha, beta and point_seconds must be finite and >= 0")
    neighbours = min(parts - 1, 2)
    compute = largest * point_seconds
    comm = neighbours * (alpha + beta * _count(value_bytes, "value_bytes", 1))
    return {"compute_s": float(compute), "comm_s": float(comm), "total_s": float(compute + comm)}
