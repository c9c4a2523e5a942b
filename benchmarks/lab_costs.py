"""Wall time and peak memory of every lab, executed top to bottom as a student (or nbval) runs it.

Targets (docs/authoring-labs.md): at most 30 s and under 1 GiB peak on a 2-core machine. Each lab runs in its
own child process, so the peak resident memory of that child's kernel is the lab's alone.
Run: ``make bench`` (or ``python benchmarks/lab_costs.py [LAB ...]``).
"""
from __future__ import annotations

import json
import subprocess
import sys
import time

from autograder.labs import discover

LIMIT_SECONDS, LIMIT_MIB = 30, 1024

CHILD = """
import json, resource, sys, time
import nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
started = time.perf_counter()
NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": sys.argv[2]}}).execute()
seconds = time.perf_counter() - started
kernel_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"seconds": seconds, "kernel_mib": kernel_kib / 1024}))
"""


def measure(lab) -> dict:
    run = subprocess.run([sys.executable, "-c", CHILD, str(lab.notebook), str(lab.folder)],
                         capture_output=True, text=True, check=True)
    return json.loads(run.stdout.strip().splitlines()[-1])


def main(names: list[str]) -> int:
    print(f"{'lab':<28} {'wall s':>7} {'peak MiB':>9}  within {LIMIT_SECONDS} s / {LIMIT_MIB} MiB")
    over = 0
    for lab in discover(only=names or None):
        started = time.perf_counter()
        figures = measure(lab)
        ok = figures["seconds"] <= LIMIT_SECONDS and figures["kernel_mib"] < LIMIT_MIB
        over += not ok
        print(f"{lab.assignment_id:<28} {figures['seconds']:7.1f} {figures['kernel_mib']:9.0f}  "
              f"{'yes' if ok else 'NO'}  (with kernel start-up: {time.perf_counter() - started:.1f} s)")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
