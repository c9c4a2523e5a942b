"""ONNX Runtime performance engineering (lab 10): session options, graph optimisation levels, the profiler,
batching arithmetic and IOBinding, with references for the lab's tasks."""
from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

LEVELS = {
    "disable": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
    "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
    "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
    "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
}
INPUT_NAME, OUTPUT_NAME = "pixels", "probabilities"
OPSET = 17
SPINNING_KEY = "session.intra_op.allow_spinning"


def make_options(threads: int = 1, *, parallel: bool = False, level: str = "all",
                 profile_prefix: str | Path | None = None,
                 optimized_path: str | Path | None = None) -> ort.SessionOptions:
    """SessionOptions for measurements: ``threads`` intra-op threads, no spin-waiting, errors-only logging.

    ``parallel`` selects ORT_PARALLEL (independent branches run side by side on ``threads`` inter-op threads)
    instead of ORT_SEQUENTIAL (1 inter-op thread); ``level`` is a key of ``LEVELS``.
    """
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be an int >= 1 (got {threads!r})")
    if level not in LEVELS:
        raise ValueError(f"unknown optimisation level {level!r}; choose one of {', '.join(LEVELS)}")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.execution_mode = ort.ExecutionMode.ORT_PARALLEL if parallel else ort.ExecutionMode.ORT_SEQUENTIAL
    options.inter_op_num_threads = threads if parallel else 1
    options.add_session_config_entry(SPINNING_KEY, "0")
    options.graph_optimization_level = LEVELS[level]
    options.log_severity_level = 3  # warnings go to fd 2, which nbgrader counts as a failed test cell
    if profile_prefix is not None:
        options.enable_profiling = True
        options.profile_file_prefix = str(profile_prefix)
    if optimized_path is not None:
        options.optimized_model_filepath = str(optimized_path)
    return options


def block_model(seed: int = 0, *, features: int = 64, hidden: int = 128, classes: int = 10,
                batch: str | int = "batch") -> bytes:
    """A small transformer-style block written the long way, so the optimiser has patterns to fuse.

    pixels -> x = pixels * (2 * 0.5) [a constant sub-expression] -> MatMul+Add -> GELU spelled out with Erf
    -> MatMul+Add -> residual Add -> layer norm spelled out (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div,
    Mul, Add) -> MatMul+Add -> Softmax. Weights are seeded float32.
    """
    rng = np.random.default_rng(seed)

    def const(name: str, value) -> onnx.TensorProto:
        return numpy_helper.from_array(np.asarray(value, dtype=np.float32), name)

    initializers = [
        const("W1", rng.normal(0, features ** -0.5, (features, hidden))), const("b1", rng.normal(0, 0.1, hidden)),
        const("W2", rng.normal(0, hidden ** -0.5, (hidden, features))), const("b2", rng.normal(0, 0.1, features)),
        const("W3", rng.normal(0, features ** -0.5, (features, classes))), const("b3", np.zeros(classes)),
        const("gamma", np.ones(features)), const("beta", np.zeros(features)),
        const("scale_a", 2.0), const("scale_b", 0.5), const("sqrt2", np.sqrt(2.0)), const("one", 1.0),
        const("half", 0.5), const("two", 2.0), const("eps", 1e-5),
    ]
    node = helper.make_node
    nodes = [
        node("Mul", ["scale_a", "scale_b"], ["scale"]),
        node("Mul", [INPUT_NAME, "scale"], ["x"]),
        node("MatMul", ["x", "W1"], ["h_mm"]), node("Add", ["h_mm", "b1"], ["h"]),
        node("Div", ["h", "sqrt2"], ["g_div"]), node("Erf", ["g_div"], ["g_erf"]),
        node("Add", ["g_erf", "one"], ["g_add"]), node("Mul", ["h", "g_add"], ["g_mul"]),
        node("Mul", ["g_mul", "half"], ["g"]),
        node("MatMul", ["g", "W2"], ["m_mm"]), node("Add", ["m_mm", "b2"], ["m"]),
        node("Add", ["m", "x"], ["r"]),
        node("ReduceMean", ["r"], ["mu"], axes=[-1]), node("Sub", ["r", "mu"], ["d"]),
        node("Pow", ["d", "two"], ["d2"]), node("ReduceMean", ["d2"], ["var"], axes=[-1]),
        node("Add", ["var", "eps"], ["var_eps"]), node("Sqrt", ["var_eps"], ["sd"]),
        node("Div", ["d", "sd"], ["n"]), node("Mul", ["n", "gamma"], ["n_g"]), node("Add", ["n_g", "beta"], ["ln"]),
        node("MatMul", ["ln", "W3"], ["l_mm"]), node("Add", ["l_mm", "b3"], ["logits"]),
        node("Softmax", ["logits"], [OUTPUT_NAME], axis=-1),
    ]
    graph = helper.make_graph(
        nodes, "block", [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, [batch, features])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, [batch, classes])], initializers)
    opsets = [helper.make_opsetid("", OPSET)]
    model = helper.make_model(graph, opset_imports=opsets,
                              ir_version=helper.find_min_ir_version_for(opsets))
    onnx.checker.check_model(model)
    return model.SerializeToString()


def optimized_op_types(model: bytes, level: str) -> list[str]:
    """Op types, in graph order, of the model ONNX Runtime's CPU provider produces at optimisation ``level``
    (read back from the optimised model the session saves)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "optimized.onnx"
        ort.InferenceSession(model, sess_options=make_options(level=level, optimized_path=path),
                             providers=["CPUExecutionProvider"])
        return [node.op_type for node in onnx.load(str(path)).graph.node]


def load_profile(path: str | Path) -> list[dict]:
    """The events of an ONNX Runtime profile (a JSON list of Chrome-trace events)."""
    events = json.loads(Path(path).read_text())
    if not isinstance(events, list):
        raise ValueError(f"{path}: expected a JSON list of profiler events, got {type(events).__name__}")
    return events


def op_time_totals(events: Iterable[Mapping], skip_runs: int = 0) -> list[tuple[str, int, float]]:
    """Kernel time per operator type: [(op_type, total microseconds, share of all kernel time)], largest first
    (ties by op type). Counts only 'Node' events named '..._kernel_time'; a node event belongs to the
    'model_run' event whose interval holds its start, and the first ``skip_runs`` runs (warm-up) are left out."""
    if isinstance(skip_runs, bool) or not isinstance(skip_runs, int) or skip_runs < 0:
        raise ValueError(f"skip_runs must be an int >= 0 (got {skip_runs!r})")
    events = list(events)
    runs = sorted((e["ts"], e["ts"] + e["dur"]) for e in events
                  if e.get("cat") == "Session" and e.get("name") == "model_run")
    skipped = runs[:skip_runs]
    totals: dict[str, int] = {}
    for event in events:
        if event.get("cat") != "Node" or not str(event.get("name", "")).endswith("_kernel_time"):
            continue
        if any(start <= event["ts"] <= end for start, end in skipped):
            continue
        op = event["args"]["op_name"]
        totals[op] = totals.get(op, 0) + int(event["dur"])
    grand = sum(totals.values())
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    return [(op, total, total / grand) for op, total in ranked]


def record_profile(model: bytes, X: np.ndarray, folder: str | Path, runs: int, threads: int = 1) -> Path:
    """Run ``model`` on ``X`` ``runs`` times with ORT's profiler on; the path of the JSON profile it wrote."""
    options = make_options(threads, profile_prefix=Path(folder) / "ort_profile")
    sess = ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])
    for _ in range(runs):
        sess.run(None, {sess.get_inputs()[0].name: X})
    return Path(sess.end_profiling())


def slim_profile(events: Iterable[Mapping]) -> list[dict]:
    """The fields op_time_totals and a reader need (drops the per-node memory statistics) to ship a profile."""
    keep = ("cat", "name", "ts", "dur", "ph")
    slim = []
    for event in events:
        entry = {key: event[key] for key in keep if key in event}
        args = event.get("args", {})
        entry["args"] = {key: args[key] for key in ("op_name", "provider", "output_type_shape") if key in args}
        slim.append(entry)
    return slim


def seeded_latencies(seed: int, batch_sizes: Sequence[int], runs: int, *, fixed_ms: float = 0.05,
                     per_sample_ms: float = 0.004, noise: float = 0.15) -> dict[int, list[float]]:
    """A seeded table of per-run latencies (ms) for each batch size: (fixed + per_sample * b) times a
    log-normal factor, plus rare 10x stalls (a descheduled thread), rounded to 0.1 µs."""
    rng = np.random.default_rng(seed)
    table = {}
    for b in batch_sizes:
        base = (fixed_ms + per_sample_ms * b) * rng.lognormal(0.0, noise, runs)
        stalls = rng.random(runs) < 0.05
        table[int(b)] = [round(float(v), 4) for v in np.where(stalls, base * 10, base)]
    return table


def throughput_table(latencies_ms: Mapping[int, Sequence[float]]) -> list[tuple[int, float, float]]:
    """[(batch, median latency ms, throughput samples/s)] in ascending batch order; throughput is
    batch / median latency."""
    rows = []
    for batch in sorted(latencies_ms):
        samples = latencies_ms[batch]
        if isinstance(batch, bool) or not isinstance(batch, (int, np.integer)) or batch < 1:
            raise ValueError(f"batch sizes must be ints >= 1 (got {batch!r})")
        if len(samples) == 0:
            raise ValueError(f"no latencies for batch size {batch}")
        median = float(np.median(np.asarray(samples, dtype=np.float64)))
        if median <= 0:
            raise ValueError(f"median latency for batch size {batch} is {median} ms; latencies must be > 0")
        rows.append((int(batch), median, batch / median * 1000.0))
    return rows


def run_with_iobinding(sess: ort.InferenceSession, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Run ``sess`` through an IOBinding: bind every input from CPU memory, let ORT allocate every output on
    the CPU, run, copy out; {output name: array} in the session's output order."""
    names = [value.name for value in sess.get_inputs()]
    missing = [name for name in names if name not in feeds]
    if missing:
        raise KeyError(f"no value for input(s) {', '.join(missing)}")
    binding = sess.io_binding()
    for name in names:
        binding.bind_cpu_input(name, np.ascontiguousarray(feeds[name]))
    outputs = [value.name for value in sess.get_outputs()]
    for name in outputs:
        binding.bind_output(name, "cpu")
    sess.run_with_iobinding(binding)
    return dict(zip(outputs, binding.copy_outputs_to_cpu(), strict=True))
