"""labkit.ortperf: session options, the fusable block model, profiler parsing, batching arithmetic, IOBinding."""
import json

import numpy as np
import onnxruntime as ort
import pytest

from labkit import ortperf


def test_make_options_sets_threads_mode_level_and_no_spinning(tmp_path):
    options = ortperf.make_options(3, parallel=True, level="basic", profile_prefix=tmp_path / "p",
                                   optimized_path=tmp_path / "m.onnx")
    assert options.intra_op_num_threads == 3 and options.inter_op_num_threads == 3
    assert options.execution_mode == ort.ExecutionMode.ORT_PARALLEL
    assert options.graph_optimization_level == ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    assert options.get_session_config_entry(ortperf.SPINNING_KEY) == "0"
    assert options.enable_profiling and options.log_severity_level == 3
    assert options.optimized_model_filepath == str(tmp_path / "m.onnx")
    sequential = ortperf.make_options()
    assert sequential.inter_op_num_threads == 1 and not sequential.enable_profiling
    assert sequential.execution_mode == ort.ExecutionMode.ORT_SEQUENTIAL


@pytest.mark.parametrize("kwargs", [{"threads": 0}, {"threads": True}, {"threads": 1.5}, {"level": "max"}])
def test_make_options_rejects_bad_settings(kwargs):
    with pytest.raises(ValueError):
        ortperf.make_options(**kwargs)


def test_optimisation_levels_fuse_the_spelled_out_patterns():
    model = ortperf.block_model()
    none = ortperf.optimized_op_types(model, "disable")
    basic = ortperf.optimized_op_types(model, "basic")
    extended = ortperf.optimized_op_types(model, "extended")
    assert len(none) == 24 and none.count("MatMul") == 3
    # basic: constant folding (scale_a * scale_b), MatMul+Add -> Gemm, the layer-norm chain -> LayerNormalization
    assert basic.count("Gemm") == 3 and "MatMul" not in basic and basic.count("LayerNormalization") == 1
    assert basic.count("Mul") == 3 and "Erf" in basic
    # extended: the Erf GELU chain -> com.microsoft Gelu
    assert extended == ["Mul", "Gemm", "Gelu", "Gemm", "Add", "LayerNormalization", "Gemm", "Softmax"]


def test_optimised_graphs_compute_the_same_probabilities():
    model = ortperf.block_model(seed=3)
    X = np.random.default_rng(0).random((7, 64), dtype=np.float32)
    outs = {level: ort.InferenceSession(model, ortperf.make_options(level=level)).run(None, {"pixels": X})[0]
            for level in ortperf.LEVELS}
    for level, out in outs.items():
        np.testing.assert_allclose(out, outs["disable"], atol=1e-6, err_msg=level)
    np.testing.assert_allclose(outs["disable"].sum(axis=1), 1.0, rtol=1e-6)


def _event(cat, name, ts, dur, op=None):
    return {"cat": cat, "name": name, "ts": ts, "dur": dur, "ph": "X", "args": {"op_name": op} if op else {}}


def test_op_time_totals_groups_kernels_skips_fences_and_warmup():
    events = [
        _event("Node", "a_kernel_time", 1, 50, "Gemm"), _event("Node", "b_kernel_time", 60, 30, "Relu"),
        _event("Session", "model_run", 0, 100),
        _event("Node", "a_fence_before", 200, 9, "Gemm"),
        _event("Node", "a_kernel_time", 201, 6, "Gemm"), _event("Node", "b_kernel_time", 210, 2, "Relu"),
        _event("Node", "c_kernel_time", 215, 2, "Add"),
        _event("Session", "model_run", 200, 20),
    ]
    assert ortperf.op_time_totals(events) == [("Gemm", 56, 0.62222222222222222), ("Relu", 32, 32 / 90),
                                              ("Add", 2, 2 / 90)]
    assert ortperf.op_time_totals(events, skip_runs=1) == [("Gemm", 6, 0.6), ("Add", 2, 0.2), ("Relu", 2, 0.2)]
    assert ortperf.op_time_totals([]) == []
    with pytest.raises(ValueError):
        ortperf.op_time_totals(events, skip_runs=-1)


def test_recorded_profile_round_trips_through_slim_profile(tmp_path):
    model = ortperf.block_model()
    X = np.ones((4, 64), dtype=np.float32)
    path = ortperf.record_profile(model, X, tmp_path, runs=3)
    events = ortperf.load_profile(path)
    slim = tmp_path / "slim.json"
    slim.write_text(json.dumps(ortperf.slim_profile(events)))
    full, small = ortperf.op_time_totals(events, skip_runs=1), ortperf.op_time_totals(ortperf.load_profile(slim), 1)
    assert full == small and {op for op, _, _ in full} == {"Mul", "Gemm", "Gelu", "Add", "LayerNormalization",
                                                            "Softmax"}
    assert sum(share for _, _, share in full) == pytest.approx(1.0)
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    with pytest.raises(ValueError):
        ortperf.load_profile(bad)


def test_shipped_profile_is_dominated_by_gemm():
    from pathlib import Path
    shipped = Path(__file__).parents[1] / "labs" / "10-onnxruntime-performance" / "profile_block.json"
    ranked = ortperf.op_time_totals(ortperf.load_profile(shipped), skip_runs=1)
    assert ranked[0][0] == "Gemm" and ranked[0][2] > 0.5


def test_seeded_latencies_are_reproducible_and_grow_with_batch():
    a = ortperf.seeded_latencies(1, [1, 64], runs=41)
    assert a == ortperf.seeded_latencies(1, [1, 64], runs=41) and a != ortperf.seeded_latencies(2, [1, 64], 41)
    assert np.median(a[64]) > 3 * np.median(a[1])


def test_throughput_table_uses_the_median():
    rows = ortperf.throughput_table({8: [2.0, 1.0, 100.0, 3.0], 1: [0.5, 0.25, 0.75]})
    assert rows == [(1, 0.5, 2000.0), (8, 2.5, 3200.0)]
    for bad in ({0: [1.0]}, {2: []}, {2: [0.0, 0.0, 1.0]}):
        with pytest.raises(ValueError):
            ortperf.throughput_table(bad)


def test_run_with_iobinding_equals_run_and_names_missing_inputs():
    sess = ort.InferenceSession(ortperf.block_model(), ortperf.make_options())
    X = np.random.default_rng(1).random((5, 64), dtype=np.float32)
    bound = ortperf.run_with_iobinding(sess, {"pixels": X})
    assert list(bound) == ["probabilities"]
    np.testing.assert_array_equal(bound["probabilities"], sess.run(None, {"pixels": X})[0])
    with pytest.raises(KeyError, match="pixels"):
        ortperf.run_with_iobinding(sess, {"x": X})
