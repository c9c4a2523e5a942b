"""Re-record service_times.json, the latency-batch table lab 13 fits: `python record_service_times.py` (from here).

Lab 10's protocol on lab 02's digits MLP (labkit.models.digits_mlp(), ONNX, 1 intra-op thread, no spinning):
every batch size is run once to warm up, then ROUNDS interleaved rounds time one call of each batch size, in a
rotating order so slow periods of the machine hit every size alike. The lab grades facts read from this file,
never the machine that reads it.
"""
import json
import os
import platform
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import onnxruntime as ort

from labkit.inference import session
from labkit.models import INPUT_NAME, digits_mlp

BATCHES = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
ROUNDS = 41

if __name__ == "__main__":
    sess = session(digits_mlp().onnx(), threads=1)
    inputs = {b: np.random.default_rng(b).random((b, 64), dtype=np.float32) * 16 for b in BATCHES}
    for b in BATCHES:
        sess.run(None, {INPUT_NAME: inputs[b]})
    samples = {b: [] for b in BATCHES}
    for r in range(ROUNDS):
        for b in BATCHES[r % len(BATCHES):] + BATCHES[:r % len(BATCHES)]:
            start = time.perf_counter()
            sess.run(None, {INPUT_NAME: inputs[b]})
            samples[b].append(round((time.perf_counter() - start) * 1e3, 5))
    out = Path(__file__).with_name("service_times.json")
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    meta = {"model": "labkit.models.digits_mlp() (64-128-10 MLP, ONNX opset 17)", "threads": 1,
            "rounds": ROUNDS, "onnxruntime": ort.__version__, "machine": platform.machine(), "cpu": cpu,
            "load_average_1min": round(os.getloadavg()[0], 2),
            "recorded": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
    out.write_text(json.dumps({"meta": meta, "latencies_ms": {str(b): v for b, v in samples.items()}}, indent=1))
    print(f"{out.name}: {len(BATCHES)} batch sizes x {ROUNDS} runs, onnxruntime {ort.__version__} on {cpu}")
