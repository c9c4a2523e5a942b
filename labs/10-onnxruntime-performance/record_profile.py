"""Re-record profile_block.json, the ONNX Runtime profile lab 10 ships: `python record_profile.py` (from here).

labkit.ortperf.block_model() at batch 256 on 1 intra-op thread, 21 runs (the first is the warm-up), with the
per-node memory statistics dropped so the file stays small. The lab grades facts read from this file, never
the machine that reads it.
"""
import json
import platform
import tempfile
from pathlib import Path

import numpy as np
import onnxruntime as ort

from labkit import ortperf

BATCH, RUNS = 256, 21

if __name__ == "__main__":
    X = np.random.default_rng(0).random((BATCH, 64), dtype=np.float32)
    with tempfile.TemporaryDirectory() as folder:
        events = ortperf.load_profile(ortperf.record_profile(ortperf.block_model(), X, folder, RUNS))
    out = Path(__file__).with_name("profile_block.json")
    out.write_text(json.dumps(ortperf.slim_profile(events), separators=(",", ":")))
    print(f"{out.name}: {len(events)} events, onnxruntime {ort.__version__} on {platform.machine()}")
