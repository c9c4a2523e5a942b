"""OpenBLAS and numpy dispatch on both ISAs: the census (``labkit.platform.census``) run natively and under
emulation, checked against what labkit predicts from the same ``/proc/cpuinfo``.

qemu cannot pretend to be a Kunpeng 920 (it has no TaiShan V110 model), so the Kunpeng case asks the aarch64
OpenBLAS for its ``TSV110`` kernels (``OPENBLAS_CORETYPE``) and checks the census names the core that the
``kunpeng-920`` recording predicts.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
from dataclasses import dataclass, replace

from labkit.platform import load, recorded, recording_info

KUNPENG = "kunpeng-920"
PROBE = """
import json, platform, time
from pathlib import Path
start = time.perf_counter()
import numpy, onnxruntime
imported = time.perf_counter() - start
from labkit.platform import census, openblas_core, read_cpuinfo
report = census()
cpu = (read_cpuinfo(Path("/proc/cpuinfo")) or [{}])[0]
flags = frozenset((cpu.get("flags") or cpu.get("Features") or "").split())
print(json.dumps({"machine": platform.machine(), "isa": report.isa, "model": report.model,
                  "openblas_core": report.openblas_core, "predicted": openblas_core(cpu, flags),
                  "simd": sorted(report.cpu_features), "onnxruntime": report.onnxruntime,
                  "import_seconds": imported}))
"""


class ProbeError(RuntimeError):
    """The interpreter could not import the lab stack or run the census."""


@dataclass(frozen=True)
class Census:
    label: str
    machine: str
    isa: str
    model: str
    openblas_core: str | None  # what OpenBLAS chose, as threadpoolctl reports it
    predicted: str | None  # what labkit.platform.openblas_core predicts from /proc/cpuinfo
    simd: list[str]
    onnxruntime: str
    import_seconds: float  # import numpy, onnxruntime

    def __str__(self) -> str:
        return (f"{self.label:<28} {self.machine:<8} {self.model:<28} OpenBLAS core {self.openblas_core or 'none'} "
                f"(predicted {self.predicted or 'unknown'}); {len(self.simd)} numpy SIMD features; "
                f"import numpy+onnxruntime {self.import_seconds:.1f} s")


def _exit_reason(code: int) -> str:
    return f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit {code}"


def probe(label: str, python: list[str], env: dict[str, str], timeout: float = 600) -> Census:
    """Run the census in ``python`` (a command) with ``env`` added to this environment."""
    try:
        done = subprocess.run([*python, "-c", PROBE], capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, **env})
    except subprocess.TimeoutExpired as error:
        raise ProbeError(f"{label}: the census did not finish in {timeout:g} s") from error
    if done.returncode != 0:
        raise ProbeError(f"{label}: the interpreter could not import numpy and onnxruntime or run the census "
                         f"({_exit_reason(done.returncode)}): {done.stderr.strip()[-400:]}")
    return Census(label, **json.loads(done.stdout.strip().splitlines()[-1]))


def recordings() -> list[str]:
    """One line per recorded platform: what labkit reads from it, and where it comes from."""
    lines = []
    for name in recorded():
        report, info = load(name), recording_info(name)
        vector = f"SVE {report.sve_bits} bits" if report.sve_bits else "no SVE"
        lines.append(f"{name:<17} {report.model:<28} {report.cpu_count:>3} CPUs, {vector}, OpenBLAS core "
                     f"{report.openblas_core or 'unknown'}; {info.get('source', 'no source')} "
                     f"({info.get('licence', 'no licence')})")
    return lines


def as_kunpeng(census: Census) -> Census:
    """The census of the emulated core with OpenBLAS asked for TSV110: its prediction is the Kunpeng recording's."""
    return replace(census, predicted=load(KUNPENG).openblas_core)


def problems(native: Census, emulated: Census, kunpeng: Census) -> list[str]:
    """What the three censuses must show: each ISA named right, OpenBLAS's choice reported on both, and on the
    emulated core the one labkit predicts (from its /proc/cpuinfo, or from the Kunpeng recording)."""
    found = []
    for census, isa in ((native, "x86-64"), (emulated, "arm64"), (kunpeng, "arm64")):
        if census.isa != isa:
            found.append(f"{census.label}: the census says ISA {census.isa!r}, expected {isa!r}")
        if not census.openblas_core:
            found.append(f"{census.label}: the census reports no OpenBLAS core")
    for census in (emulated, kunpeng):
        if (census.openblas_core or "").lower() != (census.predicted or "").lower():
            found.append(f"{census.label}: OpenBLAS chose {census.openblas_core!r}, labkit predicts "
                         f"{census.predicted!r}")
    return found
