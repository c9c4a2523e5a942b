"""Heterogeneous execution (lab 12): provider priority lists, which nodes an NPU provider takes, how the graph
splits into subgraphs, and a transfer-vs-compute cost model for offloading a batch.

No NPU exists on a classroom machine, so nothing here pretends to run one: node assignment follows a provider's
*published* supported-operator list (the lab ships the CANN execution provider's list as data), and the offload
cost is arithmetic on published link bandwidths and device throughputs. The graphs are built here, seeded, so
every graded result is the same on any machine.
"""
from __future__ import annotations

import csv
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

NPU, CPU = "NPU", "CPU"
OPSET = 17
# Operators whose CANN support is restricted in the published list's "Note" column.
POOLS = ("AveragePool", "MaxPool")


def read_supported_ops(path: str | Path) -> dict[str, str]:
    """``{"ai.onnx:Conv": "Only 2D Conv is supported. ...", ...}`` from a CSV with columns operator,note
    (lines starting with '#' are the file's provenance)."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = csv.DictReader(line for line in handle if not line.startswith("#"))
        return {row["operator"]: row["note"] for row in rows}


def open_with_priority(model: bytes, providers: Sequence) -> tuple[ort.InferenceSession, list[str], list[str]]:
    """Session on `providers` (names or (name, options) pairs, highest priority first), one thread, errors-only
    log; returns (session, requested names the session does not use, warning messages ONNX Runtime raised)."""
    if not providers:
        raise ValueError("need at least one execution provider")
    names = [entry if isinstance(entry, str) else entry[0] for entry in providers]
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    with warnings.catch_warnings(record=True) as caught:
        # "always": a warning raised from the same line before would otherwise be swallowed by the registry
        warnings.simplefilter("always")
        sess = ort.InferenceSession(model, sess_options=options, providers=list(providers))
    used = sess.get_providers()
    return sess, [name for name in names if name not in used], [str(w.message) for w in caught]


def _op_key(node: onnx.NodeProto) -> str:
    return f"{node.domain or 'ai.onnx'}:{node.op_type}"


def _node_supported(node: onnx.NodeProto, supported: Mapping[str, str] | set[str],
                    initializers: Mapping[str, onnx.TensorProto]) -> bool:
    if _op_key(node) not in supported:
        return False
    if node.domain not in ("", "ai.onnx"):
        return False
    if node.op_type == "Conv":
        weight = initializers.get(node.input[1])
        bias_ok = len(node.input) < 3 or node.input[2] == "" or node.input[2] in initializers
        return weight is not None and len(weight.dims) == 4 and bias_ok
    if node.op_type in POOLS:
        kernel = next((list(a.ints) for a in node.attribute if a.name == "kernel_shape"), [])
        return len(kernel) == 2
    return True


def assign_providers(model: bytes, supported: Mapping[str, str] | set[str]) -> list[str]:
    """NPU or CPU for every node, in graph order, by the CANN list's rules: the op (domain:type) is listed;
    Conv only 2D with constant weights and bias; AveragePool/MaxPool only 2D."""
    graph = onnx.load_from_string(model).graph
    initializers = {t.name: t for t in graph.initializer}
    return [NPU if _node_supported(node, supported, initializers) else CPU for node in graph.node]


def partition(model: bytes, assignment: Sequence[str]) -> list[tuple[str, tuple[int, ...]]]:
    """Subgraphs as (provider, sorted node indices), ordered by their first node.

    A node's *stage* is the largest number of provider changes on any path into it (graph inputs and
    initializers count as none). Nodes on one provider, at one stage, linked by a tensor, form one subgraph:
    merging across stages could make a subgraph wait for itself through a node of the other provider.
    """
    graph = onnx.load_from_string(model).graph
    if len(assignment) != len(graph.node):
        raise ValueError(f"{len(assignment)} providers for {len(graph.node)} nodes")
    producer = {out: i for i, node in enumerate(graph.node) for out in node.output}
    parents = [[producer[name] for name in node.input if name in producer] for node in graph.node]
    stage = [0] * len(graph.node)
    for j in range(len(graph.node)):          # ONNX stores nodes in topological order
        stage[j] = max((stage[i] + (assignment[i] != assignment[j]) for i in parents[j]), default=0)
    group = list(range(len(graph.node)))

    def root(i: int) -> int:
        while group[i] != i:
            group[i] = group[group[i]]
            i = group[i]
        return i

    for j, inputs in enumerate(parents):
        for i in inputs:
            if assignment[i] == assignment[j] and stage[i] == stage[j]:
                group[root(i)] = root(j)
    members: dict[int, list[int]] = {}
    for i in range(len(graph.node)):
        members.setdefault(root(i), []).append(i)
    return sorted(((assignment[m[0]], tuple(m)) for m in members.values()), key=lambda part: part[1][0])


def boundary_tensors(model: bytes, assignment: Sequence[str]) -> list[tuple[str, str]]:
    """Tensors that cross between host and device per run: (name, "to_device" | "to_host"). Graph inputs live
    on the host; graph outputs must end on the host; a tensor is copied once per direction it is needed."""
    graph = onnx.load_from_string(model).graph
    initializers = {t.name for t in graph.initializer}
    where = {v.name: CPU for v in graph.input}
    for node, side in zip(graph.node, assignment, strict=True):
        for out in node.output:
            where[out] = side
    crossings: list[tuple[str, str]] = []
    for node, side in zip(graph.node, assignment, strict=True):
        for name in node.input:
            if name and name not in initializers and where.get(name, side) != side:
                crossing = (name, "to_device" if side == NPU else "to_host")
                if crossing not in crossings:
                    crossings.append(crossing)
    for value in graph.output:
        if where.get(value.name) == NPU and (value.name, "to_host") not in crossings:
            crossings.append((value.name, "to_host"))
    return crossings


def offload_seconds(batch: int, *, flops_per_sample: float, bytes_per_sample: float, link_bytes_per_s: float,
                    device_flops_per_s: float, fixed_s: float) -> float:
    """Copy in, compute, copy out, one after the other: fixed_s + batch * (bytes/link + flops/device)."""
    return fixed_s + batch * (bytes_per_sample / link_bytes_per_s + flops_per_sample / device_flops_per_s)


def break_even_batch(*, cpu_s_per_sample: float, flops_per_sample: float, bytes_per_sample: float,
                     link_bytes_per_s: float, device_flops_per_s: float, fixed_s: float) -> int | None:
    """Smallest batch >= 1 whose offload time is strictly below batch * cpu_s_per_sample; None if none is."""
    for name, value in (("cpu_s_per_sample", cpu_s_per_sample), ("link_bytes_per_s", link_bytes_per_s),
                        ("device_flops_per_s", device_flops_per_s)):
        if not value > 0:
            raise ValueError(f"{name} must be > 0, got {value!r}")
    for name, value in (("flops_per_sample", flops_per_sample), ("bytes_per_sample", bytes_per_sample),
                        ("fixed_s", fixed_s)):
        if not value >= 0:
            raise ValueError(f"{name} must be >= 0, got {value!r}")
    saving = cpu_s_per_sample - (bytes_per_sample / link_bytes_per_s + flops_per_sample / device_flops_per_s)
    if saving <= 0:
        return None
    return int(np.floor(fixed_s / saving)) + 1


# -- the lab's graphs: small, seeded, built here so every machine grades the same bytes --

def _model(nodes: list, inputs: list, outputs: list, initializers: dict[str, np.ndarray], name: str,
           extra_domains: Sequence[str] = ()) -> bytes:
    opsets = [helper.make_opsetid("", OPSET)] + [helper.make_opsetid(d, 1) for d in extra_domains]
    graph = helper.make_graph(nodes, name, inputs, outputs,
                              [numpy_helper.from_array(v, name=k) for k, v in initializers.items()])
    model = helper.make_model(graph, opset_imports=opsets, producer_name="substrate-labs",
                              ir_version=helper.find_min_ir_version_for(opsets[:1]))
    onnx.checker.check_model(model)
    return model.SerializeToString()


def _weights(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return (rng.standard_normal(shape) / np.sqrt(np.prod(shape[1:]))).astype(np.float32)


def _io(name: str, shape: list) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def digits_cnn(seed: int = 0) -> bytes:
    """A small CNN on 8x8 digits: Conv, LeakyRelu (not on the CANN list), Conv, Relu, MaxPool, Flatten, Gemm,
    Softmax (not on the list either): 'pixels' [batch, 1, 8, 8] -> 'probabilities' [batch, 10]."""
    rng = np.random.default_rng(seed)
    init = {"c1_w": _weights(rng, 8, 1, 3, 3), "c1_b": np.zeros(8, np.float32),
            "c2_w": _weights(rng, 8, 8, 3, 3), "c2_b": np.zeros(8, np.float32),
            "fc_w": _weights(rng, 128, 10), "fc_b": np.zeros(10, np.float32)}
    nodes = [
        helper.make_node("Conv", ["pixels", "c1_w", "c1_b"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node("LeakyRelu", ["c1"], ["a1"], name="leaky1", alpha=0.1),
        helper.make_node("Conv", ["a1", "c2_w", "c2_b"], ["c2"], name="conv2", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["a2"], name="relu2"),
        helper.make_node("MaxPool", ["a2"], ["p2"], name="pool2", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p2"], ["flat"], name="flatten"),
        helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"], name="dense"),
        helper.make_node("Softmax", ["logits"], ["probabilities"], name="softmax", axis=-1),
    ]
    return _model(nodes, [_io("pixels", ["batch", 1, 8, 8])], [_io("probabilities", ["batch", 10])], init,
                  "digits_cnn")


def residual_block(seed: int = 0) -> bytes:
    """A residual block whose two branches meet again: MatMul, then Tanh (not listed) on one branch and Erf on
    the other, Add, a layer-norm-like tail with ReduceMean (not listed): 'x' [batch, 16] -> 'y' [batch, 16]."""
    rng = np.random.default_rng(seed)
    init = {"w_in": _weights(rng, 16, 16), "w_out": _weights(rng, 16, 16), "half": np.array(0.5, np.float32)}
    nodes = [
        helper.make_node("MatMul", ["x", "w_in"], ["h"], name="proj_in"),
        helper.make_node("Tanh", ["h"], ["t"], name="tanh_branch"),
        helper.make_node("Erf", ["h"], ["e"], name="erf_branch"),
        helper.make_node("Mul", ["t", "half"], ["t_half"], name="scale_tanh"),
        helper.make_node("Add", ["t_half", "e"], ["mixed"], name="merge"),
        helper.make_node("MatMul", ["mixed", "w_out"], ["o"], name="proj_out"),
        helper.make_node("Add", ["o", "x"], ["res"], name="residual"),
        helper.make_node("ReduceMean", ["res"], ["mean"], name="mean", axes=[-1], keepdims=1),
        helper.make_node("Sub", ["res", "mean"], ["y"], name="centre"),
    ]
    return _model(nodes, [_io("x", ["batch", 16])], [_io("y", ["batch", 16])], init, "residual_block")


def edge_case_models() -> dict[str, bytes]:
    """One- or two-node graphs for the restrictions in the published list's notes, by name: a 1D and a 3D Conv,
    a Conv whose weights or bias arrive as graph inputs, a Conv without bias, 2D and 3D pools, a global pool,
    and a node in a custom domain that borrows a listed op's name."""
    rng = np.random.default_rng(1)
    w1d, w2d, w3d = _weights(rng, 4, 1, 3), _weights(rng, 4, 1, 3, 3), _weights(rng, 4, 1, 3, 3, 3)
    bias = np.zeros(4, np.float32)
    x3, x4, x5 = _io("x", ["n", 1, 8]), _io("x", ["n", 1, 8, 8]), _io("x", ["n", 1, 8, 8, 8])
    y = _io("y", ["n", 4])   # the rank is not checked here; the checker wants a shape

    def conv(inputs: list[str]) -> onnx.NodeProto:
        return helper.make_node("Conv", ["x", *inputs], ["y"], name="conv")

    def pool(op: str, kernel: list[int]) -> onnx.NodeProto:
        return helper.make_node(op, ["x"], ["y"], name="pool", kernel_shape=kernel)

    return {
        "conv1d": _model([conv(["w", "b"])], [x3], [y], {"w": w1d, "b": bias}, "conv1d"),
        "conv3d": _model([conv(["w", "b"])], [x5], [y], {"w": w3d, "b": bias}, "conv3d"),
        "conv2d_no_bias": _model([conv(["w"])], [x4], [y], {"w": w2d}, "conv2d_no_bias"),
        "conv2d_weight_input": _model([conv(["w", "b"])], [x4, _io("w", [4, 1, 3, 3])], [y], {"b": bias},
                                      "conv2d_weight_input"),
        "conv2d_bias_input": _model([conv(["w", "b"])], [x4, _io("b", [4])], [y], {"w": w2d},
                                    "conv2d_bias_input"),
        "maxpool2d": _model([pool("MaxPool", [2, 2])], [x4], [y], {}, "maxpool2d"),
        "avgpool3d": _model([pool("AveragePool", [2, 2, 2])], [x5], [y], {}, "avgpool3d"),
        "global_avgpool3d": _model([helper.make_node("GlobalAveragePool", ["x"], ["y"], name="gap")], [x5], [y],
                                   {}, "global_avgpool3d"),
        "custom_relu": _model([helper.make_node("Relu", ["x"], ["r"], name="custom", domain="custom.ops"),
                               helper.make_node("Relu", ["r"], ["y"], name="standard")], [x4], [y], {},
                              "custom_relu", extra_domains=["custom.ops"]),
    }
