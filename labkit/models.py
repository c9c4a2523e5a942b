"""The digits MLP of lab 02, as references and as the shared model of the inference labs (10-13).

A 64-H-10 perceptron in numpy (``params`` is a dict with keys ``W1``, ``b1``, ``W2``, ``b2``), trained by
seeded mini-batch SGD on the shipped UCI digits, and its export to ONNX with ``onnx.helper``. The functions
that match lab 02's tasks are listed in ``labkit.grading.TWINS``: a test cell of that task makes them raise.
"""
from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from labkit.datasets import load_digits, train_test_split

Params = dict[str, np.ndarray]
PARAM_NAMES = ("W1", "b1", "W2", "b2")
PIXEL_MAX = 16          # a digit's pixel is the number of inked cells in a 4x4 block: 0..16
INPUT_NAME = "pixels"
OUTPUT_NAME = "probabilities"
OPSET = 17
# The oldest file format that can hold opset 17, so older ONNX Runtime releases read the files too.
IR_VERSION = helper.find_min_ir_version_for([helper.make_opsetid("", OPSET)])


def init_params(hidden: int, rng: np.random.Generator, n_in: int = 64, n_out: int = 10) -> Params:
    """He-initialised float32 weights (scaled by sqrt(2 / fan-in), suited to ReLU) and zero biases."""
    return {
        "W1": (rng.standard_normal((n_in, hidden)) * np.sqrt(2 / n_in)).astype(np.float32),
        "b1": np.zeros(hidden, dtype=np.float32),
        "W2": (rng.standard_normal((hidden, n_out)) * np.sqrt(2 / hidden)).astype(np.float32),
        "b2": np.zeros(n_out, dtype=np.float32),
    }


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0)


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax along the last axis, shifted by each row's maximum so nothing overflows; keeps dtype."""
    exps = np.exp(z - z.max(axis=-1, keepdims=True))
    return exps / exps.sum(axis=-1, keepdims=True)


def forward(params: Params, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(hidden, probs)``: ``relu(X @ W1 + b1)`` of shape (n, H) and ``softmax(hidden @ W2 + b2)``, (n, 10)."""
    hidden = relu(X @ params["W1"] + params["b1"])
    return hidden, softmax(hidden @ params["W2"] + params["b2"])


def cross_entropy(probs: np.ndarray, y: np.ndarray, eps: float = 1e-12) -> float:
    """Mean negative log-probability (nats) of the true labels, probabilities clipped to >= eps."""
    p_true = probs[np.arange(len(y)), y]
    return float(-np.mean(np.log(np.clip(p_true, eps, 1.0))))


def accuracy(scores: np.ndarray, y: np.ndarray) -> float:
    """Fraction of rows whose highest score is in the column of the true label."""
    return float(np.mean(np.argmax(scores, axis=1) == y))


def backward(params: Params, X: np.ndarray, hidden: np.ndarray, probs: np.ndarray, y: np.ndarray) -> Params:
    """Gradients of the mean cross-entropy with respect to every parameter (same keys and shapes)."""
    n = len(X)
    d_logits = probs.copy()
    d_logits[np.arange(n), y] -= 1          # softmax followed by cross-entropy: P - one_hot(y)
    d_logits /= n
    d_hidden = d_logits @ params["W2"].T
    d_hidden[hidden <= 0] = 0               # ReLU passes gradient only where it was active
    return {"W1": X.T @ d_hidden, "b1": d_hidden.sum(axis=0),
            "W2": hidden.T @ d_logits, "b2": d_logits.sum(axis=0)}


@dataclass(frozen=True)
class SGD:
    """Mini-batch SGD settings; the step size shrinks by ``decay`` after every epoch."""

    epochs: int = 20
    batch: int = 32
    learning_rate: float = 0.5
    decay: float = 0.9


Forward = Callable[[Params, np.ndarray], tuple[np.ndarray, np.ndarray]]


def train(params: Params, X: np.ndarray, y: np.ndarray, rng: np.random.Generator, sgd: SGD = SGD(),
          after_epoch: Callable[[Params], None] | None = None, forward: Forward = forward) -> Params:
    """Trains a copy of ``params`` on (X, y) and returns it; ``after_epoch`` sees the parameters each epoch.

    ``forward`` can be swapped for another implementation of the forward pass (a lab trains with its
    student's own); the batch order depends only on ``rng``."""
    params = {name: value.copy() for name, value in params.items()}
    for epoch in range(sgd.epochs):
        step = sgd.learning_rate * sgd.decay ** epoch
        order = rng.permutation(len(X))
        for first in range(0, len(X), sgd.batch):
            batch = order[first:first + sgd.batch]
            hidden, probs = forward(params, X[batch])
            grads = backward(params, X[batch], hidden, probs, y[batch])
            for name in params:
                params[name] -= step * grads[name].astype(params[name].dtype)
        if after_epoch is not None:
            after_epoch(params)
    return params


@dataclass(frozen=True)
class DigitsMLP:
    """A trained digits MLP and the split it was trained on; arrays are read-only (the object is shared).

    ``params`` expect pixels scaled to 0..1 (divided by ``PIXEL_MAX``); ``raw_params`` are the same network
    with the scaling folded into the first layer, for raw pixel counts 0..16 such as ``X_test``.
    ``history`` holds the mean training and test loss before training and after every epoch.
    """

    params: Params
    raw_params: Params
    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    history: dict[str, tuple[float, ...]]

    def onnx(self, batch: str | int = "batch") -> bytes:
        """The network as ONNX bytes that take raw pixel counts: 'pixels' [batch, 64] -> 'probabilities'."""
        return mlp_onnx(self.raw_params, batch=batch)

    def accuracy(self) -> float:
        """Held-out accuracy of the numpy model on the test split."""
        return accuracy(forward(self.raw_params, self.X_test)[1], self.y_test)


def _read_only(array: np.ndarray) -> np.ndarray:
    array = np.array(array)
    array.flags.writeable = False
    return array


@functools.lru_cache(maxsize=8)
def digits_mlp(seed: int = 0, hidden: int = 128, sgd: SGD = SGD()) -> DigitsMLP:
    """The 64-``hidden``-10 MLP trained on a seeded 75/25 split of the shipped digits (about 0.3 s, cached).

    The same seed gives the same split, initialisation and batch order, so the same network on a machine.
    """
    X_all, y_all = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(X_all, y_all, test_fraction=0.25, seed=seed)
    rng = np.random.default_rng(seed)
    history: dict[str, list[float]] = {"train": [], "test": []}

    def record(params: Params) -> None:
        history["train"].append(cross_entropy(forward(params, X_train / PIXEL_MAX)[1], y_train))
        history["test"].append(cross_entropy(forward(params, X_test / PIXEL_MAX)[1], y_test))

    start = init_params(hidden, rng)
    record(start)
    params = train(start, X_train / PIXEL_MAX, y_train, rng, sgd, after_epoch=record)
    raw = fold_input_scaling(params, 1 / PIXEL_MAX)
    return DigitsMLP(
        params={k: _read_only(v) for k, v in params.items()},
        raw_params={k: _read_only(v) for k, v in raw.items()},
        X_train=_read_only(X_train), X_test=_read_only(X_test),
        y_train=_read_only(y_train), y_test=_read_only(y_test),
        history={k: tuple(v) for k, v in history.items()})


def fold_input_scaling(params: Params, scale: float | np.ndarray, shift: float | np.ndarray = 0.0) -> Params:
    """Parameters for raw inputs ``x`` of a network trained on ``(x - shift) * scale`` (per feature or scalar).

    ``((x - shift) * scale) @ W1 + b1 = x @ (scale[:, None] * W1) + (b1 - (shift * scale) @ W1)``, so the
    preprocessing disappears into the first layer and the exported graph needs no extra nodes.
    The arithmetic runs in float64 and is rounded once to the parameters' dtype; ``params`` is not modified.
    """
    W1 = np.asarray(params["W1"])
    n_in = W1.shape[0]
    scale64 = np.broadcast_to(np.asarray(scale, dtype=np.float64), (n_in,))
    shift64 = np.broadcast_to(np.asarray(shift, dtype=np.float64), (n_in,))
    folded = {name: np.array(value, copy=True) for name, value in params.items()}
    folded["W1"] = (scale64[:, None] * W1).astype(W1.dtype)
    b1 = np.asarray(params["b1"])
    folded["b1"] = (b1 - (shift64 * scale64) @ W1.astype(np.float64)).astype(b1.dtype)
    return folded


def mlp_onnx(params: Params, *, batch: str | int = "batch", opset: int = OPSET,
             name: str = "digits_mlp") -> bytes:
    """The MLP as serialised ONNX: 'pixels' float32 [batch, n_in] -> Gemm, Relu, Gemm, Softmax ->
    'probabilities' float32 [batch, n_out]. ``batch`` is a symbol (any batch size) or a fixed number
    (what a static-shape compiler such as Ascend's ATC wants). Weights are stored as float32 initializers."""
    weights = {k: np.asarray(params[k], dtype=np.float32) for k in PARAM_NAMES}
    n_in, n_out = weights["W1"].shape[0], weights["W2"].shape[1]
    nodes = [
        helper.make_node("Gemm", [INPUT_NAME, "W1", "b1"], ["hidden_linear"], name="dense1"),
        helper.make_node("Relu", ["hidden_linear"], ["hidden"], name="relu1"),
        helper.make_node("Gemm", ["hidden", "W2", "b2"], ["logits"], name="dense2"),
        helper.make_node("Softmax", ["logits"], [OUTPUT_NAME], name="softmax", axis=-1),
    ]
    graph = helper.make_graph(
        nodes, name,
        inputs=[helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, [batch, n_in])],
        outputs=[helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, [batch, n_out])],
        initializer=[numpy_helper.from_array(weights[k], name=k) for k in PARAM_NAMES])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              ir_version=helper.find_min_ir_version_for([helper.make_opsetid("", opset)]),
                              producer_name="substrate-labs")
    onnx.checker.check_model(model, full_check=True)
    return model.SerializeToString()


def batch_deviation(predict: Callable[[np.ndarray], np.ndarray], X: np.ndarray,
                    batch_sizes: Iterable[int]) -> dict[int, float]:
    """How far batched predictions stray from one-row-at-a-time predictions, per batch size.

    For each size ``b``, ``X`` goes through ``predict`` in consecutive chunks of ``b`` rows (the last one may
    be shorter); the value is the largest absolute difference from the rows predicted one per call, or
    ``math.inf`` when ``predict`` raises or returns a result of the wrong shape for that batch size.
    A model whose rows influence each other (e.g. a softmax over the batch axis) shows up here, while any
    test that only ever sends one row, or only one batch size, passes it.
    """
    sizes = list(batch_sizes)
    if not sizes or any(int(b) != b or b < 1 for b in sizes):
        raise ValueError(f"batch sizes must be positive integers, got {sizes}")
    if len(X) == 0:
        raise ValueError("X must hold at least one row")
    one_by_one = np.concatenate([np.asarray(predict(X[i:i + 1])) for i in range(len(X))])
    deviations = {}
    for b in sizes:
        try:    # a model may reject a batch size (ONNX Runtime raises InvalidArgument) or mangle its shape
            batched = np.concatenate([np.asarray(predict(X[j:j + b])) for j in range(0, len(X), b)])
        except Exception:
            batched = None
        if batched is None or batched.shape != one_by_one.shape:
            deviations[int(b)] = math.inf
        else:
            deviations[int(b)] = float(np.max(np.abs(batched.astype(np.float64) - one_by_one)))
    return deviations
