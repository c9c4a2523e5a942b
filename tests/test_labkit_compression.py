"""labkit.compression: quantization parameters and round trips, pruning, Pareto fronts, ONNX Runtime's quantizers."""
import numpy as np
import onnx
import pytest

from labkit import compression as c
from labkit.models import digits_mlp
from labkit.numerics import gamma


def test_asymmetric_params_map_the_range_onto_all_integers_and_keep_zero_exact():
    x = np.array([-0.5, 0.25, 2.0])
    scale, zp = c.quant_params(x, bits=8)
    assert scale == pytest.approx(2.5 / 255, rel=1e-15)
    assert zp == round(-128 + 0.5 / scale)
    q = c.quantize_linear([-0.5, 0.0, 2.0], scale, zp)
    assert q.tolist() == [-128, zp, 127]
    assert c.dequantize_linear(q[1], scale, zp) == 0.0


def test_ranges_always_include_zero():
    # all-positive values (pixels, ReLU outputs): the low end is 0, the zero point the lowest integer
    assert c.quant_params([3.0, 16.0]) == (16 / 255, -128)
    assert c.quant_params([-4.0, -1.0], bits=4) == (4 / 15, 7)


def test_symmetric_params_use_qmax_and_zero_point_zero():
    scale, zp = c.quant_params([-3.0, 1.0], bits=8, symmetric=True)
    assert (scale, zp) == (3.0 / 127, 0)
    assert c.quantize_linear([-3.0, 3.0], scale, zp).tolist() == [-127, 127]


@pytest.mark.parametrize("symmetric", [False, True])
def test_all_zero_input_gives_unit_scale(symmetric):
    assert c.quant_params(np.zeros(5), symmetric=symmetric) == (1.0, 0)


@pytest.mark.parametrize("bad", [[], [1.0, np.nan], [np.inf]])
def test_params_reject_empty_or_non_finite(bad):
    with pytest.raises(ValueError):
        c.quant_params(bad)


@pytest.mark.parametrize("bits", [1, 17, True, 8.0])
def test_params_reject_bad_bit_counts(bits):
    with pytest.raises(ValueError):
        c.quant_params([1.0], bits=bits)


@pytest.mark.parametrize("bits,symmetric", [(8, False), (8, True), (4, False), (3, True)])
def test_round_trip_error_is_at_most_half_a_step_inside_the_range(bits, symmetric):
    x = np.random.default_rng(bits).normal(size=2000) * 3
    scale, zp = c.quant_params(x, bits, symmetric)
    error = np.abs(c.dequantize_linear(c.quantize_linear(x, scale, zp, bits), scale, zp) - x)
    bound = scale / 2 + gamma(2, np.float64) * (np.abs(x) + scale)
    assert (error <= bound).all()
    assert error.max() > 0.4 * scale       # the bound is tight: some value lands near half a step


def test_quantize_saturates_and_rounds_half_to_even():
    assert c.quantize_linear([0.5, 1.5, 2.5, -0.5, 1000.0, -1000.0], 1.0, 0).tolist() == [0, 2, 2, 0, 127, -128]
    assert c.quantize_linear([2.0], 1.0, 126).tolist() == [127]


@pytest.mark.parametrize("scale", [0.0, -1.0, np.nan])
def test_quantize_rejects_non_positive_scales(scale):
    with pytest.raises(ValueError):
        c.quantize_linear([1.0], scale, 0)


def test_per_channel_scales_follow_each_columns_largest_magnitude():
    W = np.array([[1.0, -4.0, 0.0], [-2.0, 3.0, 0.0]])
    assert c.per_channel_scales(W, axis=1).tolist() == [2 / 127, 4 / 127, 1.0]
    assert c.per_channel_scales(W, axis=0).tolist() == [4 / 127, 3 / 127]
    assert c.per_channel_scales(W, axis=-1, bits=4).tolist() == [2 / 7, 4 / 7, 1.0]
    with pytest.raises(ValueError):
        c.per_channel_scales(W, axis=2)


def test_per_channel_round_trip_is_never_worse_than_per_tensor_on_any_column():
    W = np.random.default_rng(1).normal(size=(32, 8)) * np.array([0.1, 1, 10, 1, 1, 1, 1, 1])
    scales = c.per_channel_scales(W, axis=1)
    tensor_scale, _ = c.quant_params(W, symmetric=True)
    per_channel = np.abs(c.dequantize_linear(c.quantize_linear(W, scales, 0), scales, 0) - W).max(axis=0)
    per_tensor = np.abs(c.dequantize_linear(c.quantize_linear(W, tensor_scale, 0), tensor_scale, 0) - W).max(axis=0)
    assert (per_channel <= per_tensor + 1e-15).all() and per_channel[0] < per_tensor[0] / 10


def test_magnitude_prune_zeroes_the_smallest_entries_exactly_and_copies():
    W = np.array([[0.3, -0.1, 2.0], [-0.2, 0.05, -5.0]], dtype=np.float32)
    pruned = c.magnitude_prune(W, 0.5)
    assert pruned.dtype == np.float32 and pruned.shape == W.shape
    assert np.array_equal(pruned, np.array([[0.3, 0, 2.0], [0, 0, -5.0]], dtype=np.float32))
    assert W[0, 1] == np.float32(-0.1)          # the input is untouched
    assert np.count_nonzero(c.magnitude_prune(W, 0)) == 6 and np.count_nonzero(c.magnitude_prune(W, 1)) == 0


def test_magnitude_prune_breaks_ties_by_position():
    assert c.magnitude_prune(np.array([1.0, -1.0, 1.0, 2.0]), 0.5).tolist() == [0.0, 0.0, 1.0, 2.0]


@pytest.mark.parametrize("sparsity", [-0.1, 1.5, True, "0.5"])
def test_magnitude_prune_rejects_bad_sparsity(sparsity):
    with pytest.raises(ValueError):
        c.magnitude_prune(np.ones(4), sparsity)


def test_pareto_front_keeps_the_non_dominated_rows_by_size():
    rows = [("big", 100, 0.97), ("mid", 50, 0.97), ("small", 10, 0.80), ("worse", 60, 0.90), ("tiny", 5, 0.5),
            ("twin", 50, 0.97)]
    assert c.pareto_front(rows) == ["tiny", "small", "mid", "twin"]
    assert c.pareto_front([]) == []


def test_stored_bytes_counts_dense_packed_sparse_and_scales():
    params = {"W1": np.array([[0.0, 1.0], [2.0, 0.0], [0.0, 3.0]], np.float32), "b1": np.zeros(2, np.float32)}
    assert c.stored_bytes(params) == 6 * 4 + 8
    assert c.stored_bytes(params, 8, scales=2) == 6 + 8 + 8
    assert c.stored_bytes(params, 4) == 3 + 8                   # two 4-bit values per byte
    assert c.stored_bytes(params, 3) == 3 + 8                   # 18 bits round up to 3 bytes
    assert c.stored_bytes(params, 32, sparse=True) == 3 * 4 + 1 + 8


def test_array_reader_yields_the_rows_in_order_then_none_and_rewinds():
    X = np.arange(10 * 2, dtype=np.float64).reshape(10, 2)
    reader = c.ArrayReader(X, batch=4)
    batches = [reader.get_next() for _ in range(4)]
    assert [len(b["pixels"]) for b in batches[:3]] == [4, 4, 2] and batches[3] is None
    assert batches[0]["pixels"].dtype == np.float32
    reader.rewind()
    assert np.array_equal(reader.get_next()["pixels"], X[:4])


def test_ort_quantizers_store_int8_weights_with_the_hand_computed_scales(capfd):
    mlp = digits_mlp()
    model = mlp.onnx()
    dynamic = c.quantize_dynamic_model(model)
    static = c.quantize_static_model(model, mlp.X_train[:128])
    per_channel = c.quantize_static_model(model, mlp.X_train[:128], per_channel=True)
    assert capfd.readouterr().err == ""            # the quantizers' warnings are silenced at source
    assert "MatMulInteger" in [n.op_type for n in onnx.load_from_string(dynamic).graph.node]
    ops = [n.op_type for n in onnx.load_from_string(static).graph.node]
    assert ops.count("QuantizeLinear") >= 4 and ops.count("Gemm") == 2
    tensors = c.initializers(static)
    W1 = np.asarray(mlp.raw_params["W1"], np.float64)
    assert tensors["W1_quantized"].dtype == np.int8
    assert float(tensors["W1_scale"]) == pytest.approx(c.quant_params(W1, symmetric=True)[0], rel=2 ** -23)
    assert c.quant_params(mlp.X_train[:128]) == pytest.approx((float(tensors["pixels_scale"]), -128), rel=2 ** -23)
    assert np.array_equal(c.quantize_linear(W1, float(tensors["W1_scale"]), 0), tensors["W1_quantized"])
    channel_scales = c.initializers(per_channel)["W1_scale"]
    assert np.allclose(channel_scales, c.per_channel_scales(W1, axis=1), rtol=2 ** -23, atol=0)
    assert c.parameter_bytes(static) < c.parameter_bytes(model) / 3


def test_fake_quantized_weights_stay_within_half_a_step_and_keep_biases():
    params = digits_mlp().raw_params
    fq = c.fake_quantized(params, bits=4)
    assert np.array_equal(fq["b1"], params["b1"]) and fq["W1"].dtype == np.float32
    scales = c.per_channel_scales(params["W1"], axis=1, bits=4)
    assert (np.abs(fq["W1"] - params["W1"]) <= scales / 2 * (1 + 1e-6)).all()
    assert len(np.unique(fq["W1"][:, 0])) <= 15


def test_quiet_logging_restores_the_previous_level():
    import logging
    before = logging.root.manager.disable
    with c.quiet_logging():
        assert logging.root.manager.disable == logging.WARNING
    assert logging.root.manager.disable == before
