"""Model compression for lab 11: linear quantization by hand, ONNX Runtime's quantizers, magnitude pruning, Pareto.

The references of the lab's tasks (``quant_params``, ``quantize_linear``/``dequantize_linear``,
``per_channel_scales``, ``magnitude_prune``, ``pareto_front``) are listed in ``labkit.grading.TWINS``. Integers
are signed, as ONNX Runtime's int8 quantizer uses them: ``bits`` bits hold ``-2**(bits-1) .. 2**(bits-1)-1``,
and a symmetric scheme leaves the most negative value unused so that ``+a`` and ``-a`` are both representable.
All arithmetic runs in float64, so the results are the same on every CPU.
"""
from __future__ import annotations

import logging
import math
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import onnx
from numpy.lib.array_utils import normalize_axis_index
from onnx import numpy_helper
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_dynamic,
    quantize_static,
)

from labkit.models import INPUT_NAME, Params


def int_range(bits: int) -> tuple[int, int]:
    """``(qmin, qmax)`` of a signed ``bits``-bit integer; ``bits`` must be an int from 2 to 16."""
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or not 2 <= bits <= 16:
        raise ValueError(f"bits must be an int from 2 to 16, got {bits!r}")
    return -(2 ** (int(bits) - 1)), 2 ** (int(bits) - 1) - 1


def _finite(x: Any, what: str) -> np.ndarray:
    values = np.asarray(x, dtype=np.float64)
    if values.size == 0 or not np.isfinite(values).all():
        raise ValueError(f"{what} must be a non-empty array of finite numbers")
    return values


def quant_params(x: Any, bits: int = 8, symmetric: bool = False) -> tuple[float, int]:
    """Per-tensor ``(scale, zero_point)`` mapping the range of ``x`` onto signed ``bits``-bit integers.

    Asymmetric: the range ``[min(x, 0), max(x, 0)]`` (it always holds 0, so 0 is exact) spans the whole
    integer range; ``zero_point = round(qmin - lo / scale)``. Symmetric: ``scale = max|x| / qmax`` and
    ``zero_point = 0``. An all-zero ``x`` gives ``(1.0, 0)``. Rounding is half to even (``np.rint``), as in
    ONNX's QuantizeLinear and ONNX Runtime's calibrator.
    """
    values = _finite(x, "x")
    qmin, qmax = int_range(bits)
    if symmetric:
        scale = float(np.max(np.abs(values))) / qmax
        return (scale, 0) if scale > 0 else (1.0, 0)
    lo, hi = min(float(values.min()), 0.0), max(float(values.max()), 0.0)
    scale = (hi - lo) / (qmax - qmin)
    if scale == 0:
        return 1.0, 0
    return scale, int(np.clip(np.rint(qmin - lo / scale), qmin, qmax))


def quantize_linear(x: Any, scale: Any, zero_point: Any, bits: int = 8) -> np.ndarray:
    """``clip(rint(x / scale) + zero_point, qmin, qmax)`` as int64; ``scale``/``zero_point`` broadcast
    (per-channel). Scales must be positive and finite."""
    values = _finite(x, "x")
    scales = np.asarray(scale, dtype=np.float64)
    if not (np.isfinite(scales).all() and (scales > 0).all()):
        raise ValueError("scale must be positive and finite")
    qmin, qmax = int_range(bits)
    return np.clip(np.rint(values / scales) + np.asarray(zero_point, dtype=np.int64), qmin, qmax).astype(np.int64)


def dequantize_linear(q: Any, scale: Any, zero_point: Any) -> np.ndarray:
    """``(q - zero_point) * scale`` in float64 (broadcasting as ``quantize_linear``)."""
    return (np.asarray(q, dtype=np.int64) - np.asarray(zero_point, dtype=np.int64)) * np.asarray(scale, np.float64)


def per_channel_scales(W: Any, axis: int, bits: int = 8) -> np.ndarray:
    """Symmetric scales, one per index along ``axis`` (an output channel): ``max|W|`` over the other axes / qmax,
    1.0 for an all-zero channel; float64 of shape ``(W.shape[axis],)``."""
    values = _finite(W, "W")
    _, qmax = int_range(bits)
    axis = normalize_axis_index(axis, values.ndim)     # AxisError (a ValueError) when out of range
    others = tuple(a for a in range(values.ndim) if a != axis)
    absmax = np.max(np.abs(values), axis=others) if others else np.abs(values)
    return np.where(absmax > 0, absmax / qmax, 1.0)


def magnitude_prune(W: Any, sparsity: float) -> np.ndarray:
    """A copy of ``W`` (same dtype and shape) with its ``round(sparsity * W.size)`` smallest-magnitude entries
    set to 0; ties go to the earlier entry in C order. ``sparsity`` must be a number in [0, 1]."""
    if isinstance(sparsity, bool) or not isinstance(sparsity, (int, float, np.floating, np.integer)) \
            or not 0 <= sparsity <= 1:
        raise ValueError(f"sparsity must be a number in [0, 1], got {sparsity!r}")
    weights = np.array(W, copy=True)
    count = round(float(sparsity) * weights.size)
    order = np.argsort(np.abs(weights), axis=None, kind="stable")
    weights.reshape(-1)[order[:count]] = 0
    return weights


def pareto_front(rows: Iterable[tuple[str, float, float]]) -> list[str]:
    """Names of the ``(name, size, accuracy)`` rows no other row dominates (no larger and no less accurate,
    better in one), by increasing size; rows tied on both values are all kept, in input order."""
    table = list(rows)
    front = [(size, index, name) for index, (name, size, acc) in enumerate(table)
             if not any(s <= size and a >= acc and (s < size or a > acc) for _, s, a in table)]
    return [name for _, _, name in sorted(front)]


# ---- ONNX Runtime's quantizers, made quiet and file-free ----

@contextmanager
def quiet_logging() -> Iterator[None]:
    """onnxruntime.quantization warns through the root logger ("Please consider to run pre-processing ..."),
    which goes to stderr, where nbgrader fails a test cell; switch WARNING and below off for the block."""
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(previous)


class ArrayReader(CalibrationDataReader):
    """Calibration data for ``quantize_static``: the rows of ``X`` (float32) in consecutive batches, in order."""

    def __init__(self, X: np.ndarray, batch: int = 64, input_name: str = INPUT_NAME) -> None:
        if batch < 1:
            raise ValueError(f"batch must be >= 1, got {batch}")
        self.X = np.ascontiguousarray(X, dtype=np.float32)
        self.batch = batch
        self.input_name = input_name
        self.position = 0

    def get_next(self) -> dict[str, np.ndarray] | None:
        if self.position >= len(self.X):
            return None
        rows = self.X[self.position:self.position + self.batch]
        self.position += self.batch
        return {self.input_name: rows}

    def rewind(self) -> None:
        self.position = 0


def _through_files(model: bytes, quantize: Any) -> bytes:
    # onnxruntime.quantization reads and writes paths (and leaves augmented models next to them): use a temp folder.
    with tempfile.TemporaryDirectory() as folder, quiet_logging():
        source, target = os.path.join(folder, "model.onnx"), os.path.join(folder, "quantized.onnx")
        with open(source, "wb") as file:
            file.write(model)
        quantize(source, target)
        with open(target, "rb") as file:
            return file.read()


def quantize_dynamic_model(model: bytes, *, per_channel: bool = False) -> bytes:
    """Dynamic quantization: int8 weights stored, activations quantized per call (DynamicQuantizeLinear +
    MatMulInteger)."""
    return _through_files(model, lambda src, dst: quantize_dynamic(src, dst, per_channel=per_channel,
                                                                   weight_type=QuantType.QInt8))


def quantize_static_model(model: bytes, calibration: np.ndarray, *, per_channel: bool = False,
                          batch: int = 64) -> bytes:
    """Static quantization in QDQ format, int8 activations and weights, MinMax ranges from ``calibration``."""
    return _through_files(model, lambda src, dst: quantize_static(
        src, dst, ArrayReader(calibration, batch), quant_format=QuantFormat.QDQ, per_channel=per_channel,
        activation_type=QuantType.QInt8, weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax,
        extra_options={"CalibTensorRangeSymmetric": False}))


def initializers(model: bytes) -> dict[str, np.ndarray]:
    """The model's stored tensors by name (weights, biases, scales, zero points)."""
    return {t.name: numpy_helper.to_array(t) for t in onnx.load_from_string(model).graph.initializer}


def parameter_bytes(model: bytes) -> int:
    """Bytes of the stored tensors of an ONNX model (what the weights cost, without the graph's protobuf)."""
    return sum(int(a.nbytes) for a in initializers(model).values())


def stored_bytes(params: Params, bits: int = 32, *, sparse: bool = False, scales: int = 0) -> int:
    """Bytes to store the weight matrices with ``bits`` per value, packed (biases stay float32), plus ``scales``
    float32 scales. ``sparse``: only the non-zero weights plus a 1-bit-per-entry bitmap of where they are."""
    total = 4 * scales
    for name, value in params.items():
        array = np.asarray(value)
        if name.startswith("b"):
            total += 4 * array.size
        elif sparse:
            total += math.ceil(bits * int(np.count_nonzero(array)) / 8) + math.ceil(array.size / 8)
        else:
            total += math.ceil(bits * array.size / 8)
    return total


def logits(params: Params, X: np.ndarray) -> np.ndarray:
    """The MLP's float32 logits (no softmax: its exp can differ by an ulp between CPUs; argmax needs none)."""
    hidden = np.maximum(np.asarray(X, np.float32) @ params["W1"] + params["b1"], 0)
    return hidden @ params["W2"] + params["b2"]


def fake_quantized(params: Params, *, bits: int = 8, per_channel: bool = True) -> Params:
    """Weights quantized symmetrically (per output channel, or per tensor) and dequantized back to float32."""
    out = {name: np.array(value, copy=True) for name, value in params.items()}
    for name in ("W1", "W2"):
        W = np.asarray(params[name])
        scale = per_channel_scales(W, axis=1, bits=bits) if per_channel else quant_params(W, bits, True)[0]
        out[name] = dequantize_linear(quantize_linear(W, scale, 0, bits), scale, 0).astype(np.float32)
    return out
