"""Vectorisation and SIMD (lab 03): reference kernels, numpy's SIMD dispatch, throughput, cross-compilation.

- ``stable_softmax``, ``pairwise_sq_distances``, ``histogram_counts``: reference versions of lab tasks, used by
  the notebook's demos when a task is unfinished (``labkit.grading.TWINS`` keeps them out of the answers).
- ``dispatch_targets``: which SIMD target numpy runs per loop, in a fresh interpreter, optionally with CPU
  features disabled through ``NPY_DISABLE_CPU_FEATURES`` (it is read once, at numpy's import).
- ``elements_per_second``: throughput of a kernel over array sizes, for plots only (never graded).
- ``cross_compile``: LLVM IR (e.g. Numba's) to assembly for another CPU with llvmlite, which is how the
  shipped listings of ``labs/03-vectorisation-simd/listings`` are made (see its ``regenerate_listings.py``).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from labkit.timing import Clock, measure

# -- reference kernels -------------------------------------------------------------------------------------

def stable_softmax(x, axis: int = -1) -> np.ndarray:
    """softmax along ``axis``, shifted by the maximum so exp never overflows; float dtypes are kept.

    -inf entries get probability 0; a slice that is all -inf has no distribution and raises ValueError.
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    top = np.max(x, axis=axis, keepdims=True)
    if np.any(np.isneginf(top)):
        raise ValueError("a slice of all -inf logits has no softmax")
    e = np.exp(x - top)
    return e / np.sum(e, axis=axis, keepdims=True)


def pairwise_sq_distances(X, Y) -> np.ndarray:
    """(n, m) float64 array of squared Euclidean distances between the rows of X (n, d) and Y (m, d).

    Uses |x|^2 + |y|^2 - 2 x.y (one matrix product) on centred data, so points far from the origin keep
    their precision; rounding can make that expression slightly negative, hence the clamp at 0.
    """
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    if X.ndim != 2 or Y.ndim != 2 or X.shape[1] != Y.shape[1]:
        raise ValueError(f"need 2-D arrays with the same number of columns, got shapes {X.shape} and {Y.shape}")
    if X.size and Y.size:
        centre = np.concatenate([X, Y]).mean(axis=0)
        X, Y = X - centre, Y - centre
    d2 = (X * X).sum(axis=1)[:, None] + (Y * Y).sum(axis=1)[None, :] - 2.0 * (X @ Y.T)
    return np.maximum(d2, 0.0)


def histogram_counts(x, lo: float, hi: float, bins: int) -> np.ndarray:
    """Counts of x in ``bins`` equal bins over [lo, hi] with edges np.linspace(lo, hi, bins + 1).

    Bin k holds edges[k] <= v < edges[k + 1]; the last bin also holds v == hi; values outside [lo, hi] and
    NaN are not counted. The index comes from one multiply (vectorised), then a comparison with the edges
    moves the values that rounding put one bin off; np.bincount does the scatter-add.
    """
    if bins < 1 or not lo < hi:
        raise ValueError(f"need bins >= 1 and lo < hi (got bins={bins}, lo={lo}, hi={hi})")
    v = np.asarray(x, dtype=np.float64).ravel()
    v = v[(v >= lo) & (v <= hi)]
    edges = np.linspace(lo, hi, bins + 1)
    k = np.minimum(((v - lo) * (bins / (hi - lo))).astype(np.int64), bins - 1)
    k -= v < edges[k]
    k += (v >= edges[k + 1]) & (k < bins - 1)
    return np.bincount(k, minlength=bins).astype(np.int64)


_HISTOGRAMS = ("histogram", "histogram2d", "histogramdd")


def _histogram_disabled(*args, **kwargs):
    raise AssertionError("np.histogram is the answer key of this task: count with your own code")


@contextmanager
def without_numpy_histogram() -> Iterator[None]:
    """Inside the block np.histogram (and histogram2d/dd) fail like a test: lab 03's histogram task uses them
    as its answer key. Restored on exit, also after an error."""
    saved = {name: getattr(np, name) for name in _HISTOGRAMS}
    try:
        for name in _HISTOGRAMS:
            setattr(np, name, _histogram_disabled)
        yield
    finally:
        for name, function in saved.items():
            setattr(np, name, function)


# -- numpy's SIMD dispatch, in a fresh interpreter ---------------------------------------------------------

@dataclass(frozen=True)
class DispatchReport:
    """What one fresh numpy chose: func -> signature -> target, and ns per element of a few loops."""

    disabled: tuple[str, ...]
    targets: dict[str, dict[str, str]]
    ns_per_element: dict[str, float]
    error: str | None = None


_DISPATCH_PROBE = r"""
import json, sys, time
import numpy as np
from numpy.lib.introspect import opt_func_info
func_name, signature, n, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
info = opt_func_info(func_name=func_name, signature=signature)
targets = {f: {s: t["current"] for s, t in sigs.items()} for f, sigs in info.items()}
x = np.linspace(0.0, 1.0, n, dtype=np.float32)
out = np.empty_like(x)
timed = {"exp": lambda: np.exp(x, out=out), "add": lambda: np.add(x, x, out=out),
         "sqrt": lambda: np.sqrt(x, out=out)}
ns = {}
for name, fn in timed.items():
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter(); fn(); best = min(best, time.perf_counter() - start)
    ns[name] = best / n * 1e9
print(json.dumps({"targets": targets, "ns": ns}))
"""


def dispatch_targets(disable: Sequence[str] = (), *, func_name: str = "^(add|exp|sqrt)$",
                     signature: str = "^(f|d)+$", n: int = 100_000, repeats: int = 20,
                     timeout: float = 120.0) -> DispatchReport:
    """Ask a fresh interpreter which SIMD target numpy dispatches to, with ``disable`` switched off.

    numpy reads NPY_DISABLE_CPU_FEATURES once at import and refuses (import error) to disable a baseline
    feature: that refusal comes back as ``error`` (its message), never as an exception.
    Also times float32 exp/add/sqrt on n elements (min of ``repeats``; for discussion, not grading).
    """
    env = {k: v for k, v in os.environ.items() if k != "NPY_DISABLE_CPU_FEATURES"}
    if disable:
        env["NPY_DISABLE_CPU_FEATURES"] = " ".join(disable)
    done = subprocess.run([sys.executable, "-c", _DISPATCH_PROBE, func_name, signature, str(n), str(repeats)],
                          capture_output=True, text=True, env=env, timeout=timeout)
    if done.returncode != 0:
        lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
        start = next((i for i, line in enumerate(lines) if "Error" in line.split(":")[0]), max(len(lines) - 3, 0))
        return DispatchReport(tuple(disable), {}, {}, " ".join(lines[start:]) or f"exit status {done.returncode}")
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return DispatchReport(tuple(disable), found["targets"], found["ns"])


# -- throughput for plots ----------------------------------------------------------------------------------

def elements_per_second(kernel: Callable[[np.ndarray], object], sizes: Sequence[int],
                        make_input: Callable[[int], np.ndarray], *, batch_seconds: float = 2e-3,
                        repeats: int = 5, clock: Clock = time.perf_counter) -> np.ndarray:
    """Elements per second of kernel(x) for each size: best of ``repeats`` batches of about batch_seconds.

    Batching many calls per clock reading keeps the clock's resolution and call overhead out of small sizes.
    """
    rates = []
    for n in sizes:
        x = make_input(n)
        start = clock()
        kernel(x)  # warm-up, and a first estimate of the cost of one call
        once = max(clock() - start, 1e-7)
        number = max(1, int(batch_seconds / once))
        best = measure(lambda x=x: kernel(x), repeats=repeats, warmup=0, number=number, clock=clock).min
        rates.append(n / best)
    return np.array(rates)


# -- cross-compilation of LLVM IR with llvmlite ------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """An LLVM target: triple, CPU name and feature string as llc spells them."""

    name: str
    triple: str
    cpu: str
    features: str = ""
    description: str = ""


TARGETS = (
    Target("avx2", "x86_64-unknown-linux-gnu", "haswell", "", "x86-64, AVX2 + FMA (Intel Haswell)"),
    Target("avx512", "x86_64-unknown-linux-gnu", "skylake-avx512", "",
           "AVX-512 Xeon (Skylake-SP) as LLVM tunes it by default (prefers 256-bit vectors)"),
    Target("avx512zmm", "x86_64-unknown-linux-gnu", "skylake-avx512", "-prefer-256-bit",
           "the same Xeon with LLVM's prefer-256-bit tuning switched off (512-bit zmm vectors)"),
    Target("neon", "aarch64-unknown-linux-gnu", "tsv110", "",
           "Kunpeng 920 (HiSilicon TaiShan V110), ARMv8.2-A, 128-bit NEON"),
)


def cross_compile(llvm_ir: str, target: Target) -> str:
    """Optimise LLVM IR at -O3 for ``target`` (loop and SLP vectorisers on) and return its assembly.

    Give it unoptimised IR (Numba's with NUMBA_OPT=0): IR already optimised for the host was vectorised with
    the host's vector width. Numba's reference-count pruning runs too, as in Numba's own pipeline.
    """
    import llvmlite.binding as llvm  # Numba's backend; imported here so labkit.simd stays light

    llvm.initialize_all_targets()
    llvm.initialize_all_asmprinters()
    machine = llvm.Target.from_triple(target.triple).create_target_machine(
        cpu=target.cpu, features=target.features, opt=3)
    module = llvm.parse_assembly(llvm_ir)
    module.triple = target.triple
    module.data_layout = str(machine.target_data)
    options = llvm.create_pipeline_tuning_options(speed_level=3)
    options.loop_vectorization = options.slp_vectorization = True
    options.loop_interleaving = options.loop_unrolling = True
    builder = llvm.create_pass_builder(machine, options)
    passes = builder.getModulePassManager()
    passes.add_refprune_pass()
    passes.run(module, builder)
    module.verify()
    return machine.emit_assembly(module)


def function_text(assembly: str, name: str) -> str:
    """The lines of one function of an assembly listing, from its label to its end marker, without CFI."""
    lines = assembly.splitlines()
    try:
        start = lines.index(f"{name}:")
    except ValueError:
        raise ValueError(f"no function {name!r} in this listing") from None
    kept = []
    for line in lines[start:]:
        if line.startswith(".Lfunc_end"):
            break
        if not line.strip().startswith(".cfi_"):
            kept.append(line)
    return "\n".join(kept) + "\n"
