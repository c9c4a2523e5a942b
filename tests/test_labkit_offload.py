"""labkit.offload: provider fallback, node assignment by the shipped CANN list, partitioning, the cost model."""
from pathlib import Path

import numpy as np
import onnx
import pytest

from labkit import offload
from labkit.inference import session
from labkit.models import init_params, mlp_onnx

OPS_FILE = Path(__file__).parents[1] / "labs" / "12-npu-offload" / "cann_supported_ops.csv"


@pytest.fixture(scope="module")
def ops():
    return offload.read_supported_ops(OPS_FILE)


@pytest.fixture(scope="module")
def graphs():
    mlp = mlp_onnx(init_params(16, np.random.default_rng(0)))
    return {"mlp": mlp, "cnn": offload.digits_cnn(), "residual": offload.residual_block()}


def test_the_shipped_list_keeps_its_provenance_and_notes(ops):
    header = [line for line in OPS_FILE.read_text().splitlines() if line.startswith("#")]
    assert any("onnxruntime.ai/docs/execution-providers" in line for line in header)
    assert any("commit" in line for line in header) and any("CANN 6.0.0" in line for line in header)
    assert all(key.startswith("ai.onnx:") for key in ops)
    assert "2D" in ops["ai.onnx:Conv"] and "constant" in ops["ai.onnx:Conv"]
    assert "ai.onnx:Softmax" not in ops and "ai.onnx:Gemm" in ops


def test_asking_for_cann_on_a_cpu_build_falls_back_with_a_recorded_warning(graphs, capfd):
    providers = [("CANNExecutionProvider", {"device_id": 0, "npu_mem_limit": 2 << 30}), "CPUExecutionProvider"]
    for _ in range(2):      # recorded every time, not only the first time the line warns
        sess, dropped, messages = offload.open_with_priority(graphs["mlp"], providers)
        assert sess.get_providers() == ["CPUExecutionProvider"] and dropped == ["CANNExecutionProvider"]
        assert len(messages) == 1 and "CANNExecutionProvider" in messages[0]
    assert capfd.readouterr().err == ""
    X = np.random.default_rng(1).random((3, 64), dtype=np.float32)
    assert np.array_equal(sess.run(None, {"pixels": X})[0], session(graphs["mlp"]).run(None, {"pixels": X})[0])
    _, dropped, messages = offload.open_with_priority(graphs["mlp"], ["CPUExecutionProvider"])
    assert dropped == [] and messages == []
    with pytest.raises(ValueError):
        offload.open_with_priority(graphs["mlp"], [])


def test_assignment_follows_the_list_and_its_notes(ops, graphs):
    for model in graphs.values():
        nodes = onnx.load_from_string(model).graph.node
        for node, side in zip(nodes, offload.assign_providers(model, ops), strict=True):
            listed = f"ai.onnx:{node.op_type}" in ops
            assert side == (offload.NPU if listed else offload.CPU), node.name
    on_cpu = {"conv1d", "conv3d", "conv2d_weight_input", "conv2d_bias_input", "avgpool3d"}
    for name, model in offload.edge_case_models().items():
        sides = offload.assign_providers(model, set(ops))
        assert sides[0] == (offload.CPU if name in on_cpu or name == "custom_relu" else offload.NPU), name
    assert offload.assign_providers(offload.edge_case_models()["custom_relu"], ops) == [offload.CPU, offload.NPU]


def _group_graph_is_acyclic(model, parts):
    nodes = onnx.load_from_string(model).graph.node
    group_of = {i: g for g, (_, members) in enumerate(parts) for i in members}
    producer = {out: i for i, node in enumerate(nodes) for out in node.output}
    edges = {(group_of[producer[name]], group_of[j]) for j, node in enumerate(nodes)
             for name in node.input if name in producer and group_of[producer[name]] != group_of[j]}
    order, pending = [], set(range(len(parts)))
    while pending:
        ready = [g for g in pending if not any(a in pending and b == g for a, b in edges)]
        if not ready:
            return False
        order += ready
        pending -= set(ready)
    return True


def test_partitions_cover_every_node_once_on_one_provider_without_cycles(ops, graphs):
    for name, model in graphs.items():
        assignment = offload.assign_providers(model, ops)
        parts = offload.partition(model, assignment)
        members = sorted(i for _, group in parts for i in group)
        assert members == list(range(len(assignment))), name
        assert all(all(assignment[i] == side for i in group) for side, group in parts), name
        assert [group[0] for _, group in parts] == sorted(group[0] for _, group in parts)
        assert _group_graph_is_acyclic(model, parts), name
    # the residual block: joining every connected NPU node would make a subgraph wait for itself via the CPU
    residual = graphs["residual"]
    parts = offload.partition(residual, offload.assign_providers(residual, ops))
    assert len([p for p in parts if p[0] == offload.NPU]) == 3
    assert offload.partition(residual, [offload.CPU] * 9) == [(offload.CPU, tuple(range(9)))]
    with pytest.raises(ValueError):
        offload.partition(residual, [offload.CPU] * 8)


def test_boundary_tensors_are_the_copies_a_split_costs(ops, graphs):
    mlp = graphs["mlp"]
    assert offload.boundary_tensors(mlp, [offload.CPU] * 4) == []
    assert offload.boundary_tensors(mlp, [offload.NPU] * 4) == [("pixels", "to_device"),
                                                                  ("probabilities", "to_host")]
    crossings = offload.boundary_tensors(mlp, offload.assign_providers(mlp, ops))
    assert crossings == [("pixels", "to_device"), ("logits", "to_host")]


def test_break_even_batch_is_the_first_batch_where_offload_wins():
    kwargs = dict(flops_per_sample=18944.0, bytes_per_sample=296.0, link_bytes_per_s=31.5e9,
                  device_flops_per_s=70e12, fixed_s=50e-6)
    for cpu in (1e-6, 3.3e-7, 2e-8):
        b = offload.break_even_batch(cpu_s_per_sample=cpu, **kwargs)
        assert offload.offload_seconds(b, **kwargs) < b * cpu
        assert b == 1 or offload.offload_seconds(b - 1, **kwargs) >= (b - 1) * cpu
    assert offload.break_even_batch(cpu_s_per_sample=5e-9, **kwargs) is None
    # an exact tie is not a win: 8 * 2**-20 s of fixed cost saved back at 2**-20 s per sample
    exact = dict(flops_per_sample=0.0, bytes_per_sample=0.0, link_bytes_per_s=1.0, device_flops_per_s=1.0)
    assert offload.break_even_batch(cpu_s_per_sample=2.0**-20, fixed_s=8 * 2.0**-20, **exact) == 9
    assert offload.break_even_batch(cpu_s_per_sample=1e-6, fixed_s=0.0, **exact) == 1
    for bad in ({"link_bytes_per_s": 0.0}, {"fixed_s": -1e-6}, {"device_flops_per_s": -1.0}):
        with pytest.raises(ValueError):
            offload.break_even_batch(cpu_s_per_sample=1e-6, **{**kwargs, **bad})
