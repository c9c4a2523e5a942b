"""ONNX Runtime sessions configured for reproducible measurements on a shared classroom machine."""
from __future__ import annotations

import onnxruntime as ort


def session(model: bytes | str, *, threads: int = 1, providers: list[str] | None = None,
            optimization: ort.GraphOptimizationLevel = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            ) -> ort.InferenceSession:
    """An InferenceSession with pinned threads and no spin-waiting.

    Spin-waiting threads and more intra-op threads than free cores make timings 2-3x worse and noisy on a
    busy 2-core machine, so labs start from one thread and change it on purpose.
    ``model`` is a serialized ModelProto (``model.SerializeToString()``) or a path to an ``.onnx`` file.
    """
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.graph_optimization_level = optimization
    return ort.InferenceSession(model, sess_options=options, providers=providers or ["CPUExecutionProvider"])
