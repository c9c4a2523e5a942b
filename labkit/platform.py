"""A census of the machine a lab runs on: ISA, SIMD extensions, caches, BLAS, ONNX Runtime providers.

Everything is read from public interfaces (``platform``, numpy's build/runtime config, Linux sysfs,
threadpoolctl, onnxruntime) and degrades to "unknown" where an OS does not tell, so the same notebook runs on
x86-64 laptops, ARM64 servers such as Kunpeng, and macOS.
"""
from __future__ import annotations

import os
import platform as _platform
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SYSFS_CACHE = Path("/sys/devices/system/cpu/cpu0/cache")
_SIZE_SUFFIX = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}
_ISA_FAMILIES = {"x86_64": "x86-64", "amd64": "x86-64", "aarch64": "arm64", "arm64": "arm64"}


def isa_family(machine: str) -> str:
    """Name the instruction-set family of a ``platform.machine()`` string: 'x86-64', 'arm64' or the string."""
    return _ISA_FAMILIES.get(machine.strip().lower(), machine)


def parse_size(text: str) -> int:
    """Bytes in a sysfs size such as '32K', '1024K' or '32M'."""
    text = text.strip().upper().removesuffix("B")
    number, suffix = (text[:-1], text[-1]) if text and text[-1] in _SIZE_SUFFIX else (text, "")
    if not number.isdigit():
        raise ValueError(f"not a cache size: {text!r}")
    return int(number) * _SIZE_SUFFIX[suffix]


@dataclass(frozen=True)
class CacheLevel:
    level: int
    kind: str  # Data, Instruction or Unified
    size_bytes: int
    line_bytes: int | None


def read_caches(root: Path = SYSFS_CACHE) -> list[CacheLevel]:
    """Caches of CPU 0 as Linux reports them; an empty list where sysfs does not say (macOS, containers)."""
    caches = []
    for index in sorted(root.glob("index[0-9]*")):
        try:
            level = int((index / "level").read_text())
            kind = (index / "type").read_text().strip()
            size = parse_size((index / "size").read_text())
        except (OSError, ValueError):
            continue
        line_file = index / "coherency_line_size"
        line = int(line_file.read_text()) if line_file.exists() else None
        caches.append(CacheLevel(level, kind, size, line))
    return caches


@dataclass
class PlatformReport:
    machine: str
    isa: str
    cpu_count: int
    python: str
    numpy: str
    simd_baseline: list[str]
    simd_found: list[str]
    caches: list[CacheLevel]
    blas: list[dict] = field(default_factory=list)
    onnxruntime: str = "not installed"
    ort_providers: list[str] = field(default_factory=list)

    def rows(self) -> list[tuple[str, str]]:
        caches = ", ".join(f"L{c.level} {c.kind[0]} {c.size_bytes // 1024} KiB" for c in self.caches) or "unknown"
        lines = {c.line_bytes for c in self.caches if c.line_bytes}
        blas = ", ".join(f"{b.get('internal_api')} {b.get('version')} ({b.get('num_threads')} threads)"
                         for b in self.blas) or "none found"
        return [
            ("machine (ISA)", f"{self.machine} ({self.isa})"),
            ("logical CPUs", str(self.cpu_count)),
            ("Python / numpy", f"{self.python} / {self.numpy}"),
            ("SIMD baseline", " ".join(self.simd_baseline) or "none"),
            ("SIMD found at run time", " ".join(self.simd_found) or "none"),
            ("caches (CPU 0)", caches),
            ("cache line", " / ".join(f"{n} B" for n in sorted(lines)) or "unknown"),
            ("BLAS", blas),
            ("ONNX Runtime", f"{self.onnxruntime}: {', '.join(self.ort_providers) or 'no providers'}"),
        ]

    def __str__(self) -> str:
        width = max(len(k) for k, _ in self.rows())
        return "\n".join(f"{k:<{width}}  {v}" for k, v in self.rows())


def cpu_features() -> set[str]:
    """CPU features numpy detected at run time, e.g. {'SSE2', 'AVX2', 'AVX512F'} or {'ASIMD', 'SVE'}.

    numpy keeps this table in a private module; an empty set means this numpy does not expose it.
    """
    try:
        from numpy._core._multiarray_umath import __cpu_features__
    except ImportError:
        return set()
    return {name for name, present in __cpu_features__.items() if present}


def _numpy_simd() -> tuple[list[str], list[str]]:
    simd = np.show_config(mode="dicts").get("SIMD Extensions", {})
    return list(simd.get("baseline", [])), list(simd.get("found", []))


def _blas() -> list[dict]:
    from threadpoolctl import threadpool_info
    return [info for info in threadpool_info() if info.get("user_api") == "blas"]


def _onnxruntime() -> tuple[str, list[str]]:
    try:
        import onnxruntime as ort
    except ImportError:
        return "not installed", []
    return ort.__version__, list(ort.get_available_providers())


def census() -> PlatformReport:
    """Describe this machine; ``print(census())`` gives a table for the top of every lab."""
    machine = _platform.machine()
    baseline, found = _numpy_simd()
    ort_version, providers = _onnxruntime()
    return PlatformReport(
        machine=machine, isa=isa_family(machine), cpu_count=os.cpu_count() or 1,
        python=_platform.python_version(), numpy=np.__version__,
        simd_baseline=baseline, simd_found=found, caches=read_caches(), blas=_blas(),
        onnxruntime=ort_version, ort_providers=providers,
    )
