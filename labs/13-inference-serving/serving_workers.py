"""The worker side of lab 13's data-parallel inference server: one ONNX Runtime session per worker process.

It lives in this importable module, not in the notebook, because a process started with ``spawn`` is a fresh
Python interpreter that finds its function by module and name. A worker never receives the images themselves:
the parent puts them in a block of shared memory (``multiprocessing.shared_memory``) and sends a small
``RowsJob`` naming the block, the block for the results, the shapes and the rows to do. Pickling a name costs
nothing; pickling 10,000 images would copy them into every worker and back.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from multiprocessing import shared_memory

import numpy as np

# One session per process and model file, built on the first job: later jobs reuse it, as a server would.
_SESSIONS: dict = {}


@dataclass(frozen=True)
class RowsJob:
    """Rows [start, stop) of the float32 matrix in shared memory block ``in_name`` (n_rows x n_features) go
    through the model at ``model_path``; their outputs go to the same rows of block ``out_name``
    (n_rows x n_classes, float32)."""

    model_path: str
    in_name: str
    out_name: str
    n_rows: int
    n_features: int
    n_classes: int
    start: int
    stop: int


def _session(model_path: str):
    if model_path not in _SESSIONS:
        from labkit.inference import session  # imported here: the parent only needs RowsJob

        _SESSIONS[model_path] = session(model_path, threads=1)
    return _SESSIONS[model_path]


def predict_rows(job: RowsJob) -> tuple[int, int, int]:
    """Run the job's rows through this process's session, write the outputs in place; ``(pid, start, stop)``."""
    sess = _session(job.model_path)
    inputs = shared_memory.SharedMemory(name=job.in_name)
    outputs = shared_memory.SharedMemory(name=job.out_name)
    try:
        X = np.ndarray((job.n_rows, job.n_features), dtype=np.float32, buffer=inputs.buf)
        Y = np.ndarray((job.n_rows, job.n_classes), dtype=np.float32, buffer=outputs.buf)
        Y[job.start:job.stop] = sess.run(None, {sess.get_inputs()[0].name: X[job.start:job.stop]})[0]
        del X, Y                                  # views into the blocks must go before the blocks close
    finally:
        inputs.close()
        outputs.close()
    return os.getpid(), job.start, job.stop
