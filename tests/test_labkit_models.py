import math

import numpy as np
import onnx
import pytest

from labkit import models
from labkit.inference import session

U32 = np.finfo(np.float32).eps / 2      # float32 unit roundoff


def random_params(hidden, seed, dtype=np.float32):
    rng = np.random.default_rng(seed)
    shapes = {"W1": (64, hidden), "b1": (hidden,), "W2": (hidden, 10), "b2": (10,)}
    return {k: (rng.standard_normal(s) * 0.3).astype(dtype) for k, s in shapes.items()}


def run(model_bytes, X):
    return session(model_bytes).run([models.OUTPUT_NAME], {models.INPUT_NAME: X})[0]


def test_softmax_rows_sum_to_one_and_ignore_a_shift_of_the_row():
    z = np.random.default_rng(1).standard_normal((5, 10)) * 4
    p = models.softmax(z)
    assert np.allclose(p.sum(axis=1), 1, rtol=0, atol=1e-15)
    assert np.allclose(models.softmax(z + np.arange(5)[:, None] * 300.0), p, rtol=0, atol=1e-14)


def test_softmax_survives_logits_that_overflow_exp_and_keeps_float32():
    z = np.array([[1000.0, 1001.0, 1002.0], [-50.0, 0.0, 50.0]], dtype=np.float32)
    p = models.softmax(z)
    assert p.dtype == np.float32 and np.all(np.isfinite(p))
    e = np.exp(np.array([-2.0, -1.0, 0.0]))
    assert np.allclose(p[0], e / e.sum(), rtol=0, atol=4 * U32)


def test_forward_follows_the_hidden_size_of_the_parameters():
    params = random_params(16, 2)
    hidden, probs = models.forward(params, np.ones((3, 64), np.float32))
    assert hidden.shape == (3, 16) and probs.shape == (3, 10)
    assert hidden.dtype == probs.dtype == np.float32 and hidden.min() >= 0


def test_cross_entropy_of_a_uniform_guess_is_ln_10_and_a_zero_probability_is_clipped():
    assert math.isclose(models.cross_entropy(np.full((4, 10), 0.1), np.array([0, 3, 5, 9])), math.log(10))
    assert math.isclose(models.cross_entropy(np.eye(3)[[1]], np.array([0])), -math.log(1e-12))


def test_backward_matches_finite_differences_of_the_loss():
    rng = np.random.default_rng(3)
    params = random_params(8, 3, dtype=np.float64)
    X, y = rng.random((6, 64)), rng.integers(0, 10, 6)
    hidden, probs = models.forward(params, X)
    grads = models.backward(params, X, hidden, probs, y)
    step = 1e-6
    for name, index in [("W1", (5, 2)), ("b1", (3,)), ("W2", (4, 7)), ("b2", (9,))]:
        bumped = {k: v.copy() for k, v in params.items()}
        bumped[name][index] += step
        numeric = (models.cross_entropy(models.forward(bumped, X)[1], y)
                   - models.cross_entropy(probs, y)) / step
        assert grads[name][index] == pytest.approx(numeric, rel=1e-3, abs=1e-7), name


def test_digits_mlp_is_deterministic_cached_read_only_and_learns():
    model = models.digits_mlp(0)
    assert models.digits_mlp(0) is model
    retrained = models.digits_mlp.__wrapped__(0)
    assert all(np.array_equal(model.params[k], retrained.params[k]) for k in models.PARAM_NAMES)
    assert model.params["W1"].shape == (64, 128) and model.params["W1"].dtype == np.float32
    assert (len(model.X_train), len(model.X_test)) == (1348, 449)
    with pytest.raises(ValueError):
        model.params["W1"][0, 0] = 1.0
    train_loss = model.history["train"]
    assert len(train_loss) == models.SGD().epochs + 1
    assert train_loss[0] > 2.0 > 0.2 > train_loss[-1]
    assert model.accuracy() > 0.93


def test_a_different_seed_gives_a_different_split_and_network():
    a, b = models.digits_mlp(0, hidden=32), models.digits_mlp(1, hidden=32)
    assert not np.array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.params["W1"], b.params["W1"])


@pytest.mark.parametrize("scale, shift", [(1 / 16, 0.0), (np.linspace(0.5, 2, 64), np.arange(64) / 8.0)])
def test_folded_parameters_on_raw_inputs_equal_the_network_on_preprocessed_inputs(scale, shift):
    params = random_params(32, 4)
    before = {k: v.copy() for k, v in params.items()}
    X = np.random.default_rng(4).integers(0, 17, (20, 64)).astype(np.float32)
    folded = models.fold_input_scaling(params, scale, shift)
    assert all(np.array_equal(params[k], before[k]) for k in params), "params must not change"
    assert all(folded[k].dtype == np.float32 for k in folded)
    assert np.array_equal(folded["W2"], params["W2"]) and folded["W2"] is not params["W2"]
    raw = models.forward(folded, X)[1]
    preprocessed = models.forward(params, ((X - shift) * scale).astype(np.float32))[1]
    assert np.max(np.abs(raw - preprocessed)) < 1e-5


def test_mlp_onnx_matches_numpy_for_any_batch_and_stores_float32():
    params = random_params(32, 5, dtype=np.float64)
    model_bytes = models.mlp_onnx(params)
    model = onnx.load_from_string(model_bytes)
    assert [t.data_type for t in model.graph.initializer] == [onnx.TensorProto.FLOAT] * 4
    assert [n.op_type for n in model.graph.node] == ["Gemm", "Relu", "Gemm", "Softmax"]
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    rng = np.random.default_rng(5)
    for n in (1, 37):
        X = rng.random((n, 64), dtype=np.float32)
        expected = models.forward({k: v.astype(np.float32) for k, v in params.items()}, X)[1]
        assert np.max(np.abs(run(model_bytes, X) - expected)) < 1e-6


def test_mlp_onnx_with_a_fixed_batch_rejects_other_sizes():
    model_bytes = models.mlp_onnx(random_params(8, 6), batch=4)
    assert run(model_bytes, np.zeros((4, 64), np.float32)).shape == (4, 10)
    with pytest.raises(Exception, match="Got invalid dimensions"):
        run(model_bytes, np.zeros((3, 64), np.float32))


def test_the_shared_model_exports_a_graph_for_raw_pixel_counts():
    model = models.digits_mlp(0)
    probs = run(model.onnx(), np.ascontiguousarray(model.X_test))
    assert models.accuracy(probs, model.y_test) == model.accuracy()
    assert np.max(np.abs(probs - models.forward(model.params, model.X_test / models.PIXEL_MAX)[1])) < 1e-5


def batch_mixing_model(X):
    # A softmax over the batch axis: every row's output depends on the other rows of its batch.
    return models.softmax(X[:, :10].T).T


def test_batch_deviation_is_zero_for_independent_rows_and_large_for_mixed_rows():
    X = np.random.default_rng(7).random((10, 64), dtype=np.float32)
    sess = session(models.mlp_onnx(random_params(16, 7)))
    good = models.batch_deviation(lambda chunk: sess.run(None, {"pixels": chunk})[0], X, [1, 3, 10, 64])
    assert list(good) == [1, 3, 10, 64] and good[1] == 0.0
    assert max(good.values()) < 1e-6
    mixed = models.batch_deviation(batch_mixing_model, X, [1, 3])
    assert mixed[1] == 0.0 and mixed[3] > 0.1


def test_batch_deviation_is_infinite_for_rejected_sizes_and_wrong_shapes():
    X = np.zeros((6, 64), np.float32)
    sess = session(models.mlp_onnx(random_params(8, 8), batch=1))
    fixed = models.batch_deviation(lambda chunk: sess.run(None, {"pixels": chunk})[0], X, [1, 2])
    assert fixed == {1: 0.0, 2: math.inf}
    first_row_only = models.batch_deviation(lambda chunk: chunk[:1, :10], X, [1, 4])
    assert first_row_only == {1: 0.0, 4: math.inf}


@pytest.mark.parametrize("sizes", [[], [0], [2.5], [-1]])
def test_batch_deviation_rejects_batch_sizes_that_are_not_positive_integers(sizes):
    with pytest.raises(ValueError, match="positive integers"):
        models.batch_deviation(lambda chunk: chunk, np.zeros((2, 3)), sizes)


def test_train_uses_the_forward_pass_it_is_given_and_leaves_the_start_untouched():
    calls = []

    def counting_forward(params, X):
        calls.append(len(X))
        return models.forward(params, X)

    start = random_params(8, 9)
    X, y = np.random.default_rng(9).random((40, 64), dtype=np.float32), np.arange(40) % 10
    trained = models.train(start, X, y, np.random.default_rng(0), models.SGD(epochs=2, batch=16),
                           forward=counting_forward)
    assert calls == [16, 16, 8] * 2
    assert not np.array_equal(trained["W1"], start["W1"])
    assert np.array_equal(start["W1"], random_params(8, 9)["W1"])
