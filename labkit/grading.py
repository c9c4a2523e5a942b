"""Grading helpers for lab notebooks: keep labkit from solving the tasks, keep demos running when a task is not.

``TWINS`` names, per task, the labkit functions that do that task's job. ``forbid_twins(task)`` as the first line
of a test cell makes them raise ``TwinCalled`` until the cell ends, so an answer that just calls labkit earns
nothing. ``with_fallback(name, reference)`` lets a demo or figure use the student's function when it works and
labkit's reference when it does not, so one unfinished task does not blank the rest of the lab.
"""
from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from types import FunctionType
from typing import Any

# Task grade_id -> dotted names of labkit functions (or properties) that solve it. One block per lab, so helpers
# writing different labs add lines in different places.
TWINS: dict[str, tuple[str, ...]] = {
    # -- lab 01 --
    "simd_lanes": ("labkit.platform.simd_lanes",),
    "find_knees": ("labkit.workingset.find_knees",),
    "time_calls": ("labkit.timing.measure", "labkit.timing.time_calls"),
    "interleaved_times": ("labkit.timing.interleaved_ab", "labkit.timing.interleaved_times"),
    "paired_ratio": ("labkit.timing.paired_ratio",),
    # -- lab 02 --
    "softmax": ("labkit.models.softmax",),
    "forward": ("labkit.models.forward",),
    "cross_entropy": ("labkit.models.cross_entropy",),
    "build_onnx_model": ("labkit.models.mlp_onnx",),
    "fold_input_scaling": ("labkit.models.fold_input_scaling",),
    "batch_deviation": ("labkit.models.batch_deviation",),
    # -- lab 03 --
    "stable_softmax": ("labkit.simd.stable_softmax",),
    "pairwise_sq_distances": ("labkit.simd.pairwise_sq_distances",),
    "histogram_counts": ("labkit.simd.histogram_counts",),
    "fp_lanes": ("labkit.listings.fp_lanes",),
    "loop_profile": ("labkit.listings.loop_profile", "labkit.listings.fp_lanes"),
    # -- lab 04 --
    "lines_touched": ("labkit.memory.lines_touched",),
    "match_cache_levels": ("labkit.memory.match_cache_levels",),
    "stream_traffic_bytes": ("labkit.memory.stream_traffic_bytes",),
    "cache_misses": ("labkit.cachesim.cache_misses",),
    "transpose_lines": ("labkit.cachesim.transpose_lines",),
    # -- lab 05 --
    "kernel_counts": ("labkit.roofline.kernel_counts",),
    "peak_gflops": ("labkit.roofline.peak_gflops", "labkit.platform.simd_lanes"),
    "roofline_bound": ("labkit.roofline.roofline_bound",),
    "matmul_error_bound": ("labkit.roofline.matmul_error_bound", "labkit.numerics.gamma"),
    "matmul_tiled": ("labkit.roofline.matmul_tiled", "labkit.roofline.matmul_naive", "labkit.roofline._tiled",
                     "labkit.roofline._naive"),
    # -- lab 06 --
    "amdahl_speedup": ("labkit.scaling.amdahl_speedup", "labkit.scaling.job_seconds"),
    "gustafson_speedup": ("labkit.scaling.gustafson_speedup",),
    "karp_flatt": ("labkit.scaling.karp_flatt",),
    "fit_serial_fraction": ("labkit.scaling.fit_serial_fraction", "labkit.scaling._ols_serial_fraction"),
    "cheapest_offer": ("labkit.scaling.cheapest_offer", "labkit.scaling.job_seconds", "labkit.scaling.job_cost"),
    # -- lab 07 --
    "cpu_wall_report": ("labkit.concurrency.cpu_wall_report",),
    "thread_map": ("labkit.concurrency.thread_map",),
    "spawn_map": ("labkit.concurrency.spawn_map", "labkit.concurrency.spawn_pool"),
    "fill_private_counts": ("labkit.concurrency.fill_private_counts",),
    "run_with_blas_threads": ("labkit.concurrency.run_with_blas_threads",),
    # -- lab 08 --
    "shm_chunk_sums": ("labkit.sharedmem.shm_chunk_sums",),
    "tree_reduce": ("labkit.workspan.tree_reduce",),
    "blelloch_scan": ("labkit.workspan.blelloch_scan",),
    "schedule_loads": ("labkit.workspan.schedule_loads",),
    # -- lab 09 --
    "split_domain": ("labkit.mpi.split_domain",),
    "exchange_halos": ("labkit.mpi.exchange_halos",),
    "heat_halo": ("labkit.mpi.heat_halo", "labkit.mpi.heat_serial"),
    "fit_alpha_beta": ("labkit.mpi.fit_alpha_beta",),
    "halo_step_seconds": ("labkit.mpi.halo_step_seconds",),
    # -- lab 10 --
    "ort_options": ("labkit.ortperf.make_options",),
    "optimized_op_types": ("labkit.ortperf.optimized_op_types",),
    "op_time_totals": ("labkit.ortperf.op_time_totals",),
    "throughput_table": ("labkit.ortperf.throughput_table",),
    "run_with_iobinding": ("labkit.ortperf.run_with_iobinding",),
    # -- lab 11 --
    "quant_params": ("labkit.compression.quant_params",),
    "quantize_linear": ("labkit.compression.quantize_linear", "labkit.compression.dequantize_linear"),
    "per_channel_scales": ("labkit.compression.per_channel_scales",),
    "magnitude_prune": ("labkit.compression.magnitude_prune",),
    "pareto_front": ("labkit.compression.pareto_front",),
    # -- lab 12 --
    "open_with_priority": ("labkit.offload.open_with_priority",),
    "assign_providers": ("labkit.offload.assign_providers", "labkit.offload._node_supported"),
    "partition_graph": ("labkit.offload.partition",),
    "break_even_batch": ("labkit.offload.break_even_batch", "labkit.offload.offload_seconds"),
    # -- lab 13 --
    "fit_service_time": ("labkit.serving.fit_service_time",),
    "simulate_batching": ("labkit.serving.simulate_batching",),
    "littles_law": ("labkit.serving.littles_law",),
    "parallel_predict": ("labkit.serving.parallel_predict",),
}


class TwinCalled(AssertionError):
    """An answer called the labkit function that does its task's job (an AssertionError, so nbgrader scores 0)."""


def _raise_twin_called(*args: Any, **kwargs: Any) -> None:
    # Runs as the body of a guarded labkit function; its code object is renamed to the guarded name, so the frame
    # knows which twin was called. Imports here because it runs with the guarded module's globals.
    import sys

    from labkit.grading import TwinCalled

    raise TwinCalled(f"solve this task without calling {sys._getframe().f_code.co_name}")


def resolve(dotted: str) -> FunctionType:
    """The function object behind a dotted name: a module function, or a class's method or property getter."""
    parts = dotted.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:split]))
        except ModuleNotFoundError:
            continue
        for attr in parts[split:]:
            # the class __dict__ holds the property / staticmethod itself, not what attribute access makes of it
            obj = obj.__dict__[attr] if isinstance(obj, type) and attr in obj.__dict__ else getattr(obj, attr)
        obj = getattr(obj, "fget", None) or getattr(obj, "__func__", None) or obj
        if not isinstance(obj, FunctionType):
            raise TypeError(f"{dotted} is a {type(obj).__name__}, not a Python function that can be guarded")
        if obj.__closure__:
            raise TypeError(f"{dotted} is a closure; only plain functions can be guarded")
        return obj
    raise ModuleNotFoundError(f"no module in {dotted!r}")


# id(function) -> [function, its real code, how many active guards]; nested guards of one function stack.
_guarded: dict[int, list] = {}


@contextmanager
def _guard(dotted: str) -> Iterator[None]:
    function = resolve(dotted)
    entry = _guarded.setdefault(id(function), [function, function.__code__, 0])
    if entry[2] == 0:
        function.__code__ = _raise_twin_called.__code__.replace(co_name=dotted)
    entry[2] += 1
    try:
        yield
    finally:
        entry[2] -= 1
        if entry[2] == 0:
            function.__code__ = entry[1]
            del _guarded[id(function)]


def twins_of(task: str) -> tuple[str, ...]:
    if task not in TWINS:
        raise KeyError(f"task {task!r} has no entry in labkit.grading.TWINS (known: {', '.join(sorted(TWINS))})")
    return TWINS[task]


@contextmanager
def forbidden(task: str) -> Iterator[None]:
    """Inside the block every twin of ``task`` raises ``TwinCalled``, however it was imported (the function
    object's code is swapped, so ``from labkit.timing import measure`` is caught too); restored on exit."""
    with ExitStack() as stack:
        for dotted in twins_of(task):
            stack.enter_context(_guard(dotted))
        yield


def _ipython() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def forbid_twins(task: str) -> None:
    """First line of a test cell: until the current IPython cell ends (even by an exception), the twins of
    ``task`` raise ``TwinCalled``. Outside IPython use ``with forbidden(task):`` instead."""
    shell = _ipython()
    if shell is None:
        raise RuntimeError("forbid_twins works in an IPython cell; elsewhere use `with forbidden(task):`")
    stack = ExitStack()
    stack.enter_context(forbidden(task))

    def undo(*_: object) -> None:
        # post_execute fires after every execution, silent ones included, and also when the cell raised
        shell.events.unregister("post_execute", undo)
        stack.close()

    shell.events.register("post_execute", undo)


def _name_of(function: Callable) -> str:
    return f"{getattr(function, '__module__', '?')}.{getattr(function, '__qualname__', repr(function))}"


@dataclass
class Fallback:
    """What ``with_fallback`` returns: call it like the student's function."""

    name: str
    student: Any
    reference: Callable
    accept: Callable[[Any], bool] | None = None
    using_reference: bool = False

    def _fall_back(self, reason: str) -> None:
        self.using_reference = True
        print(f"Note: `{self.name}` is unfinished ({reason}), so labkit's reference {_name_of(self.reference)} "
              f"is used here; your grade is unaffected.")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not self.using_reference:
            if not callable(self.student):
                self._fall_back("it is not defined")
                return self.reference(*args, **kwargs)
            try:
                result = self.student(*args, **kwargs)
                if self.accept is None or self.accept(result):
                    return result
                self._fall_back("its result failed a sanity check")
            except Exception as error:  # any failure of unfinished student code means: use the reference
                self._fall_back(f"it raised {type(error).__name__}")
        return self.reference(*args, **kwargs)


def with_fallback(name: str, reference: Callable, accept: Callable[[Any], bool] | None = None) -> Fallback:
    """A callable for demos and figures: the notebook's function ``name`` (looked up in the IPython namespace,
    else the caller's globals) while it works -- returns without an exception and, if given, ``accept(result)``
    is true -- else ``reference``. The first fallback prints one line to stdout saying so; from then on the
    reference is used (so one figure never mixes the two)."""
    shell = _ipython()
    namespace = shell.user_ns if shell is not None else sys._getframe(1).f_globals
    return Fallback(name, namespace.get(name), reference, accept)
