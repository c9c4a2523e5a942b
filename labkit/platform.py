"""A census of the machine a lab runs on, and of recorded real machines it can be compared with.

``census()`` describes this machine: ISA, CPU model, SIMD features, caches, topology, NUMA, BLAS, ONNX Runtime.
``recorded()`` names the machines recorded in ``datasets/platforms/`` (a Kunpeng 920, an AVX-512 Xeon, an AMD
EPYC, a Graviton3, ...) and ``load(name)`` describes one of them with the same ``PlatformReport``, read by the same
code from the same files (``/proc/cpuinfo``, ``/sys/devices/system/...``) copied from that machine. So a function a
student writes for this machine runs unchanged on a Kunpeng server they never touched::

    from labkit.platform import census, load, recorded
    print(census())                       # this machine
    for name in recorded():
        print(load(name))                 # kunpeng-920, graviton3, ...

``record(folder)`` makes a new recording of this machine (or of a dump under ``root``), for instructors who have
servers of their own: ``python -m labkit.platform record my-server``.

Everything degrades to "unknown" where an OS does not tell (macOS has no sysfs, containers hide parts of it).
"""
from __future__ import annotations

import argparse
import ctypes
import json
import os
import platform as _platform
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path("/")
SYSFS_CPU = Path("sys/devices/system/cpu")
SYSFS_NODE = Path("sys/devices/system/node")
SYSFS_CACHE = ROOT / SYSFS_CPU / "cpu0" / "cache"
RECORDING_INFO = "recording.json"
LSCPU = "lscpu.txt"
_SIZE_SUFFIX = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}
_ISA_FAMILIES = {"x86_64": "x86-64", "amd64": "x86-64", "aarch64": "arm64", "arm64": "arm64"}
_CACHE_FILES = ("level", "type", "size", "coherency_line_size", "ways_of_associativity", "number_of_sets",
                "shared_cpu_list")
_TOPOLOGY_FILES = ("thread_siblings_list", "core_siblings_list", "package_cpus_list", "cluster_cpus_list")


def isa_family(machine: str) -> str:
    """Name the instruction-set family of a ``platform.machine()`` string: 'x86-64', 'arm64' or the string."""
    return _ISA_FAMILIES.get(machine.strip().lower(), machine)


def simd_lanes(register_bits: int, dtype: object) -> int:
    """Elements of ``dtype`` in one SIMD register of ``register_bits`` bits; ValueError unless the register is a
    positive whole number of elements (lab 01's Task 1, the reference its demos fall back to)."""
    element_bits = np.dtype(dtype).itemsize * 8
    if register_bits <= 0 or register_bits % element_bits:
        raise ValueError(f"a {register_bits}-bit register does not hold a whole number of {element_bits}-bit elements")
    return register_bits // element_bits


_SSE_128 = {"SSE", "SSE2", "SSE3", "SSSE3", "SSE41", "SSE42", "X86_V2", "SVE"}


def widest_vector_bits(features: set[str] | frozenset[str] | list[str]) -> int:
    """Width of the widest SIMD register that numpy feature names imply (0 if none). SVE counts as 128 bits,
    the width every implementation guarantees; the real length is a run-time fact (``PlatformReport.sve_bits``)."""
    def bits(name: str) -> int:
        if name.startswith("AVX512") or name == "X86_V4":
            return 512
        if name in {"AVX", "AVX2", "X86_V3"}:
            return 256
        if name in _SSE_128 or name.startswith(("NEON", "ASIMD")):
            return 128
        return 64 if name == "MMX" else 0
    return max((bits(name) for name in features), default=0)


def parse_size(text: str) -> int:
    """Bytes in a sysfs size such as '32K', '1024K' or '32M'."""
    text = text.strip().upper().removesuffix("B")
    number, suffix = (text[:-1], text[-1]) if text and text[-1] in _SIZE_SUFFIX else (text, "")
    if not number.isdigit():
        raise ValueError(f"not a cache size: {text!r}")
    return int(number) * _SIZE_SUFFIX[suffix]


def parse_cpulist(text: str) -> tuple[int, ...]:
    """CPU numbers in a sysfs list such as '0-3,8,10-11' (an empty string is no CPUs)."""
    cpus: list[int] = []
    for part in text.strip().split(","):
        if not part:
            continue
        first, _, last = part.partition("-")
        cpus.extend(range(int(first), int(last or first) + 1))
    return tuple(cpus)


def parse_cpumask(text: str) -> tuple[int, ...]:
    """CPU numbers in a sysfs hex mask such as '00000000,00010000,00000001' (CPUs 0 and 48)."""
    bits = int(text.strip().replace(",", "") or "0", 16)
    return tuple(cpu for cpu in range(bits.bit_length()) if bits >> cpu & 1)


def _read(path: Path) -> str | None:
    """A procfs/sysfs file's text without surrounding whitespace (and the NUL some dump tools append)."""
    try:
        return path.read_text().strip().strip("\x00").strip()
    except (OSError, UnicodeDecodeError):
        return None


# --- caches, topology, NUMA: sysfs ---------------------------------------------------------------------------

@dataclass(frozen=True)
class CacheLevel:
    level: int
    kind: str  # Data, Instruction or Unified
    size_bytes: int
    line_bytes: int | None
    ways: int | None = None
    sets: int | None = None
    shared_cpus: tuple[int, ...] = ()


def _optional_int(path: Path) -> int | None:
    text = _read(path)
    return int(text) if text and text.isdigit() else None


def read_caches(root: Path = SYSFS_CACHE) -> list[CacheLevel]:
    """Caches of CPU 0 as Linux reports them under ``root``; an empty list where sysfs does not say (macOS,
    containers). Associativity, set count and sharing are None/() where the kernel leaves them out."""
    caches = []
    for index in sorted(root.glob("index[0-9]*")):
        try:
            level = int((index / "level").read_text())
            kind = (index / "type").read_text().strip()
            size = parse_size((index / "size").read_text())
        except (OSError, ValueError):
            continue
        shared = _read(index / "shared_cpu_list")
        caches.append(CacheLevel(level, kind, size, _optional_int(index / "coherency_line_size"),
                                 _optional_int(index / "ways_of_associativity"),
                                 _optional_int(index / "number_of_sets"),
                                 parse_cpulist(shared) if shared else ()))
    return caches


@dataclass(frozen=True)
class NumaNode:
    node: int
    cpus: tuple[int, ...]
    distances: tuple[int, ...] = ()  # to every node, in node order; () where the kernel does not say


def read_numa(root: Path = ROOT) -> list[NumaNode]:
    """NUMA nodes under ``root``/sys/devices/system/node (``cpulist``, or the older hex ``cpumap``)."""
    nodes = []
    for folder in (root / SYSFS_NODE).glob("node[0-9]*"):
        listed, mask = _read(folder / "cpulist"), _read(folder / "cpumap")
        cpus = parse_cpulist(listed) if listed is not None else parse_cpumask(mask) if mask is not None else ()
        distance = _read(folder / "distance")
        nodes.append(NumaNode(int(folder.name[4:]), cpus, tuple(int(d) for d in distance.split()) if distance else ()))
    return sorted(nodes, key=lambda n: n.node)


@dataclass(frozen=True)
class Topology:
    sockets: int | None
    cores_per_socket: int | None
    threads_per_core: int | None


def read_topology(root: Path, cpu_count: int) -> Topology:
    """Sockets, cores and hardware threads from CPU 0's sysfs topology, assuming every socket is alike."""
    topology = root / SYSFS_CPU / "cpu0" / "topology"
    threads = _read(topology / "thread_siblings_list")
    package = _read(topology / "package_cpus_list") or _read(topology / "core_siblings_list")
    if not threads or not package:
        return Topology(None, None, None)
    per_core, per_socket = len(parse_cpulist(threads)), len(parse_cpulist(package))
    return Topology(max(cpu_count // per_socket, 1), per_socket // per_core, per_core)


# --- the CPU itself: /proc/cpuinfo ---------------------------------------------------------------------------

def read_cpuinfo(path: Path) -> list[dict[str, str]]:
    """One ``{field: value}`` dict per processor in a ``/proc/cpuinfo`` (``[]`` if there is none)."""
    text = _read(path)
    processors = []
    for block in (text or "").split("\n\n"):
        fields = {}
        for line in block.splitlines():
            key, sep, value = line.partition(":")
            if sep:
                fields[key.strip()] = value.strip()
        if "processor" in fields:
            processors.append(fields)
    return processors


# MIDR implementer and part numbers, as Linux's cputype.h and util-linux's lscpu name them.
_ARM_VENDORS = {0x41: "ARM", 0x42: "Broadcom", 0x43: "Cavium", 0x46: "Fujitsu", 0x48: "HiSilicon", 0x4e: "NVIDIA",
                0x50: "APM", 0x51: "Qualcomm", 0x61: "Apple", 0xc0: "Ampere"}
_ARM_PARTS = {(0x41, 0xd03): "Cortex-A53", (0x41, 0xd05): "Cortex-A55", (0x41, 0xd07): "Cortex-A57",
              (0x41, 0xd08): "Cortex-A72", (0x41, 0xd09): "Cortex-A73", (0x41, 0xd0b): "Cortex-A76",
              (0x41, 0xd0c): "Neoverse-N1", (0x41, 0xd40): "Neoverse-V1", (0x41, 0xd49): "Neoverse-N2",
              (0x41, 0xd4f): "Neoverse-V2", (0x43, 0x0af): "ThunderX2", (0x46, 0x001): "A64FX",
              (0x48, 0xd01): "Kunpeng-920 (TaiShan v110)", (0xc0, 0xac3): "Ampere-1"}


def _hex(text: str | None) -> int | None:
    try:
        return int(text, 16) if text else None
    except ValueError:
        return None


def cpu_model(cpu: dict[str, str]) -> str:
    """The CPU's name: x86 cpuinfo's 'model name', or the ARM core decoded from its MIDR implementer and part."""
    if "model name" in cpu and "CPU part" not in cpu:
        return cpu["model name"]
    implementer, part = _hex(cpu.get("CPU implementer")), _hex(cpu.get("CPU part"))
    if implementer is None or part is None:
        return cpu.get("model name", "unknown")
    vendor = _ARM_VENDORS.get(implementer, f"implementer {implementer:#x}")
    return f"{vendor} {_ARM_PARTS.get((implementer, part), f'part {part:#x}')}"


# numpy's names for the features Linux lists in /proc/cpuinfo (numpy/_core/src/common/npy_cpu_features.c).
_ARM_BASE = {"NEON", "NEON_FP16", "NEON_VFPV4", "ASIMD"}
_ARM_FLAGS = {"fphp": "FPHP", "asimdhp": "ASIMDHP", "asimddp": "ASIMDDP", "asimdfhm": "ASIMDFHM", "sve": "SVE"}
_X86_FLAGS = {"mmx": "MMX", "sse": "SSE", "sse2": "SSE2", "pni": "SSE3", "ssse3": "SSSE3", "sse4_1": "SSE41",
              "popcnt": "POPCNT", "sse4_2": "SSE42", "f16c": "F16C", "lahf_lm": "LAHF", "cx16": "CX16",
              "movbe": "MOVBE", "bmi1": "BMI", "bmi2": "BMI2", "abm": "LZCNT"}
_X86_AVX_FLAGS = {"avx": "AVX", "fma": "FMA3", "xop": "XOP", "fma4": "FMA4", "gfni": "GFNI",
                  "vpclmulqdq": "VPCLMULQDQ", "vaes": "VAES"}
_X86_AVX512_FLAGS = {"avx512f": "AVX512F", "avx512cd": "AVX512CD", "avx512er": "AVX512ER", "avx512pf": "AVX512PF",
                     "avx512_4fmaps": "AVX5124FMAPS", "avx512_4vnniw": "AVX5124VNNIW",
                     "avx512_vpopcntdq": "AVX512VPOPCNTDQ", "avx512vl": "AVX512VL", "avx512bw": "AVX512BW",
                     "avx512dq": "AVX512DQ", "avx512_vnni": "AVX512VNNI", "avx512ifma": "AVX512IFMA",
                     "avx512vbmi": "AVX512VBMI", "avx512_vbmi2": "AVX512VBMI2", "avx512_bitalg": "AVX512BITALG",
                     "avx512_fp16": "AVX512FP16", "avx512_bf16": "AVX512BF16"}
# numpy's feature groups: a group is present when all of its members are.
_X86_GROUPS = [
    ("X86_V2", {"SSE", "SSE2", "SSE3", "SSSE3", "SSE41", "SSE42", "POPCNT", "LAHF", "CX16"}),
    ("X86_V3", {"X86_V2", "AVX", "AVX2", "F16C", "FMA3", "MOVBE", "BMI", "BMI2", "LZCNT"}),
    ("AVX512_KNL", {"AVX512F", "AVX512CD", "AVX512ER", "AVX512PF"}),
    ("AVX512_KNM", {"AVX512_KNL", "AVX5124FMAPS", "AVX5124VNNIW", "AVX512VPOPCNTDQ"}),
    ("AVX512_SKX", {"AVX512F", "AVX512CD", "AVX512BW", "AVX512DQ", "AVX512VL"}),
    ("X86_V4", {"X86_V3", "AVX512_SKX"}),
    ("AVX512_CLX", {"AVX512_SKX", "AVX512VNNI"}),
    ("AVX512_CNL", {"AVX512_SKX", "AVX512IFMA", "AVX512VBMI"}),
    ("AVX512_ICL", {"AVX512_CLX", "AVX512_CNL", "AVX512VBMI2", "AVX512BITALG", "AVX512VPOPCNTDQ"}),
    ("AVX512_SPR", {"AVX512_ICL", "AVX512FP16"}),
]


def numpy_features(flags: set[str] | frozenset[str], isa: str) -> frozenset[str]:
    """numpy's names (``ASIMD``, ``SVE``, ``AVX2``, ``AVX512_SKX``, ...) for the CPU features in cpuinfo ``flags``:
    what ``cpu_features()`` would report on that machine. Follows numpy's rules, e.g. no FMA3 without AVX."""
    if isa == "arm64":
        if not flags & {"fp", "asimd"}:
            return frozenset()
        return frozenset(_ARM_BASE | {name for flag, name in _ARM_FLAGS.items() if flag in flags})
    if isa != "x86-64":
        return frozenset()
    found = {name for flag, name in _X86_FLAGS.items() if flag in flags}
    if "avx" in flags:
        found |= {name for flag, name in _X86_AVX_FLAGS.items() if flag in flags}
        if "avx2" in flags and "fma" in flags:
            found.add("AVX2")
            found |= {name for flag, name in _X86_AVX512_FLAGS.items() if flag in flags}
    for group, members in _X86_GROUPS:
        if members <= found:
            found.add(group)
    return frozenset(found)


def cpu_features() -> set[str]:
    """CPU features numpy detected at run time, e.g. {'SSE2', 'AVX2', 'AVX512F'} or {'ASIMD', 'SVE'}.

    numpy keeps this table in a private module; an empty set means this numpy does not expose it.
    """
    try:
        from numpy._core._multiarray_umath import __cpu_features__
    except ImportError:
        return set()
    return {name for name, present in __cpu_features__.items() if present}


# OpenBLAS picks its kernels from the CPU id at start-up (driver/others/dynamic_arm64.c and dynamic.c). These are
# the names its openblas_get_corename() (threadpoolctl's "architecture") gives, for a build with every target.
_OPENBLAS_ARM = {(0x41, 0xd03): "cortexa53", (0x41, 0xd05): "cortexa53", (0x41, 0xd07): "cortexa57",
                 (0x41, 0xd08): "cortexa57", (0x41, 0xd09): "cortexa57", (0x41, 0xd0c): "neoversen1",
                 (0x42, 0x516): "thunderx2t99", (0x43, 0x0a1): "thunderx", (0x43, 0x0af): "thunderx2t99",
                 (0x43, 0x0b8): "thunderx3t110", (0x48, 0xd01): "tsv110", (0x50, 0x000): "emag8180",
                 (0x51, 0xc00): "cortexa57"}
_OPENBLAS_ARM_SVE = {(0x41, 0xd40): "neoversev1", (0x41, 0xd49): "neoversen2", (0x41, 0xd4f): "neoversev1",
                     (0x46, 0x001): "a64fx"}


def openblas_core(cpu: dict[str, str], flags: set[str] | frozenset[str]) -> str | None:
    """The kernel set OpenBLAS's run-time detection picks for this CPU (its corename: 'tsv110', 'neoversen1',
    'SkylakeX', 'Zen', ...), or None where this table does not know the CPU.

    A given OpenBLAS build may merge targets: the one in numpy's x86-64 wheels runs Zen on its Haswell kernels and
    reports 'Haswell'. Ask a build what it does with a target with ``OPENBLAS_CORETYPE=<name>``.
    """
    implementer, part = _hex(cpu.get("CPU implementer")), _hex(cpu.get("CPU part"))
    if implementer is not None and part is not None:
        key, sve = (implementer, part), "sve" in flags
        if key in _OPENBLAS_ARM_SVE:
            return _OPENBLAS_ARM_SVE[key] if sve else "neoversen1" if implementer == 0x41 else "armv8"
        if implementer == 0x61:  # Apple
            return "neoversen1"
        return _OPENBLAS_ARM.get(key, "armv8sve" if sve else "armv8")
    try:
        vendor, family, model = cpu["vendor_id"], int(cpu["cpu family"]), int(cpu["model"])
    except (KeyError, ValueError):
        return None
    avx512 = {"avx", "avx2", "avx512vl"} <= flags
    if vendor in ("AuthenticAMD", "HygonGenuine") and family in (0x17, 0x18, 0x19):
        if family == 0x19 and avx512:
            return "Cooperlake" if "avx512_bf16" in flags else "SkylakeX"
        return "Zen" if "avx" in flags else "Barcelona"
    if vendor == "GenuineIntel" and family == 6 and model in (0x55, 0x6a, 0x6c, 0x8f, 0xcf):
        if avx512:
            return "Cooperlake" if "avx512_bf16" in flags and model == 0x55 else "SkylakeX"
        return "Haswell" if "avx2" in flags else "Sandybridge"
    return None


def _sve_bits(root: Path, flags: frozenset[str]) -> int | None:
    """SVE vector length: the kernel's default for new processes, else (live, on aarch64) this thread's."""
    if "sve" not in flags:
        return None
    default = _read(root / "proc/sys/abi/sve_default_vector_length")
    if default and default.isdigit():
        return int(default) * 8
    if root == ROOT and _platform.machine() == "aarch64":
        vl = ctypes.CDLL(None, use_errno=True).prctl(51, 0, 0, 0, 0)  # PR_SVE_GET_VL
        return (vl & 0xFFFF) * 8 if vl > 0 else None
    return None


# --- the report ----------------------------------------------------------------------------------------------

@dataclass
class PlatformReport:
    machine: str
    isa: str
    cpu_count: int
    python: str | None  # None: a recording describes hardware, not the software on it
    numpy: str | None
    simd_baseline: list[str]
    simd_found: list[str]
    caches: list[CacheLevel]
    blas: list[dict] = field(default_factory=list)
    onnxruntime: str = "not installed"
    ort_providers: list[str] = field(default_factory=list)
    source: str = "this machine"
    model: str = "unknown"
    cpu_flags: frozenset[str] = frozenset()
    cpu_features: frozenset[str] = frozenset()  # numpy's names, as cpu_features() gives them
    topology: Topology = Topology(None, None, None)
    numa: list[NumaNode] = field(default_factory=list)
    sve_bits: int | None = None
    openblas_core: str | None = None  # live: what OpenBLAS chose; recorded: what its detection picks

    @property
    def recorded(self) -> bool:
        return self.python is None

    def rows(self) -> list[tuple[str, str]]:
        caches = ", ".join(f"L{c.level} {c.kind[0]} {c.size_bytes // 1024} KiB" for c in self.caches) or "unknown"
        lines = {c.line_bytes for c in self.caches if c.line_bytes}
        t = self.topology
        shape = (f"{t.sockets} socket(s) x {t.cores_per_socket} cores x {t.threads_per_core} thread(s)"
                 if t.sockets else "unknown")
        numa = (f"{len(self.numa)} ({'; '.join(f'node {n.node}: {len(n.cpus)} CPUs' for n in self.numa)})"
                if self.numa else "unknown")
        rows = [("platform", self.source), ("machine (ISA)", f"{self.machine} ({self.isa})"),
                ("CPU model", self.model), ("logical CPUs", str(self.cpu_count)), ("topology", shape),
                ("NUMA nodes", numa)]
        if self.recorded:
            rows.append(("SIMD features (numpy names)", " ".join(sorted(self.cpu_features)) or "none"))
        else:
            rows += [("Python / numpy", f"{self.python} / {self.numpy}"),
                     ("SIMD baseline", " ".join(self.simd_baseline) or "none"),
                     ("SIMD found at run time", " ".join(self.simd_found) or "none")]
        if self.sve_bits:
            rows.append(("SVE vector length", f"{self.sve_bits} bits"))
        rows += [("caches (CPU 0)", caches), ("cache line", " / ".join(f"{n} B" for n in sorted(lines)) or "unknown")]
        if self.recorded:
            rows.append(("OpenBLAS core (detection)", self.openblas_core or "not known for this CPU"))
        else:
            blas = ", ".join(f"{b.get('internal_api')} {b.get('version')} ({b.get('num_threads')} threads, "
                             f"core {b.get('architecture', 'n/a')})" for b in self.blas) or "none found"
            rows += [("BLAS", blas),
                     ("ONNX Runtime", f"{self.onnxruntime}: {', '.join(self.ort_providers) or 'no providers'}")]
        return rows

    def __str__(self) -> str:
        width = max(len(k) for k, _ in self.rows())
        return "\n".join(f"{k:<{width}}  {v}" for k, v in self.rows())


def _hardware(root: Path, machine: str | None = None) -> dict:
    """The fields of a report that come from procfs and sysfs under ``root``: the same for a live machine
    (root '/') and for a recording."""
    processors = read_cpuinfo(root / "proc/cpuinfo")
    cpu = processors[0] if processors else {}
    machine = machine or _read(root / "proc/sys/kernel/arch") or "unknown"
    isa = isa_family(machine)
    flags = frozenset((cpu.get("flags") or cpu.get("Features") or "").split())
    online = _read(root / SYSFS_CPU / "online")
    cpu_count = len(parse_cpulist(online)) if online else len(processors) or (os.cpu_count() or 1)
    return dict(machine=machine, isa=isa, cpu_count=cpu_count, caches=read_caches(root / SYSFS_CPU / "cpu0/cache"),
                model=cpu_model(cpu) if cpu else "unknown", cpu_flags=flags, cpu_features=numpy_features(flags, isa),
                topology=read_topology(root, cpu_count), numa=read_numa(root), sve_bits=_sve_bits(root, flags),
                openblas_core=openblas_core(cpu, flags) if cpu else None)


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
    hardware = _hardware(ROOT, machine=_platform.machine())
    baseline, found = _numpy_simd()
    ort_version, providers = _onnxruntime()
    blas = _blas()
    hardware["cpu_features"] = frozenset(cpu_features()) or hardware["cpu_features"]
    hardware["openblas_core"] = next((b.get("architecture") for b in blas if b.get("internal_api") == "openblas"),
                                     None)
    return PlatformReport(python=_platform.python_version(), numpy=np.__version__, simd_baseline=baseline,
                          simd_found=found, blas=blas, onnxruntime=ort_version, ort_providers=providers, **hardware)


# --- recordings ----------------------------------------------------------------------------------------------

class RecordingError(LookupError):
    """No recorded platform by that name, or a recording that is not a readable sysroot."""


def recordings_dir() -> Path:
    from .datasets import data_root
    return data_root() / "platforms"


def recorded() -> list[str]:
    """Names of the recorded platforms shipped with the kit, e.g. ['epyc-7451', 'graviton3', 'kunpeng-920', ...]."""
    folder = recordings_dir()
    return sorted(p.name for p in folder.iterdir() if (p / "proc/cpuinfo").is_file()) if folder.is_dir() else []


def _checked_recording(name: str) -> Path:
    """The folder of a shipped recording, after checking each of its files against the datasets manifest."""
    from .datasets import checked_path, data_root, manifest
    folder = recordings_dir() / name
    if not (folder / "proc/cpuinfo").is_file():
        raise RecordingError(f"no recorded platform {name!r}; recorded: {', '.join(recorded()) or 'none'}")
    root = data_root()
    listed = {n for n in manifest(root) if n.startswith(f"platforms/{name}/")}
    for path in folder.rglob("*"):
        if path.is_file():
            relative = path.relative_to(root).as_posix()
            if relative not in listed:
                raise RecordingError(f"{path} is not listed in the datasets manifest; restore the recording")
            checked_path(relative, root)
    return folder


def recording_info(name_or_folder: str | Path) -> dict:
    """What ``recording.json`` says about a recording: title, source, licence."""
    folder = Path(name_or_folder) if Path(name_or_folder).is_dir() else recordings_dir() / str(name_or_folder)
    text = _read(folder / RECORDING_INFO)
    return json.loads(text) if text else {}


def load(name_or_folder: str | Path) -> PlatformReport:
    """Describe a recorded machine: a name from ``recorded()`` or the folder of a recording made by ``record()``.
    The report has no software fields (Python, numpy, BLAS threads): a recording describes the hardware."""
    folder = Path(name_or_folder)
    if not (folder.is_dir() and (folder / "proc/cpuinfo").is_file()):
        folder = _checked_recording(str(name_or_folder))
    info = recording_info(folder)
    hardware = _hardware(folder)
    if not hardware["cpu_flags"]:
        raise RecordingError(f"{folder / 'proc/cpuinfo'} lists no CPU features; is it a /proc/cpuinfo?")
    return PlatformReport(python=None, numpy=None, simd_baseline=[], simd_found=[], onnxruntime="not recorded",
                          source=f"{folder.name}: {info.get('title', 'recorded')}", **hardware)


def record(destination: Path, root: Path = ROOT, *, title: str = "", source: str = "",
           machine: str | None = None) -> Path:
    """Copy the procfs and sysfs files ``load()`` reads from ``root`` (this machine, or an unpacked dump of another)
    into ``destination``, with ``lscpu``'s view where lscpu is installed. Returns ``destination``."""
    destination = Path(destination)
    if destination.exists():
        raise FileExistsError(f"{destination} exists; record into a new folder")
    wanted = [Path("proc/cpuinfo"), Path("proc/sys/abi/sve_default_vector_length"), SYSFS_NODE / "online"]
    wanted += [SYSFS_CPU / name for name in ("online", "possible", "present")]
    wanted += [SYSFS_CPU / "cpu0/topology" / name for name in _TOPOLOGY_FILES]
    for index in sorted((root / SYSFS_CPU / "cpu0/cache").glob("index[0-9]*")):
        wanted += [index.relative_to(root) / name for name in _CACHE_FILES]
    for node in sorted((root / SYSFS_NODE).glob("node[0-9]*")):
        wanted += [node.relative_to(root) / name for name in ("cpulist", "cpumap", "distance")]
    if not (root / "proc/cpuinfo").is_file():
        raise RecordingError(f"{root / 'proc/cpuinfo'} does not exist: nothing to record")
    for relative in wanted:
        text = _read(root / relative)
        if text is not None:
            (destination / relative).parent.mkdir(parents=True, exist_ok=True)
            (destination / relative).write_text(text + "\n")
    arch = machine or _read(root / "proc/sys/kernel/arch") or (_platform.machine() if root == ROOT else None)
    if arch:
        (destination / "proc/sys/kernel").mkdir(parents=True, exist_ok=True)
        (destination / "proc/sys/kernel/arch").write_text(arch + "\n")
    lscpu = shutil.which("lscpu")
    if lscpu and (root == ROOT or arch == _platform.machine()):  # lscpu --sysroot takes the ISA from the host
        command = [lscpu] if root == ROOT else [lscpu, "--sysroot", str(root)]
        run = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "LC_ALL": "C"})
        if run.returncode == 0:
            (destination / LSCPU).write_text(run.stdout)
    info = {"title": title or cpu_model(read_cpuinfo(root / "proc/cpuinfo")[0]), "source": source}
    (destination / RECORDING_INFO).write_text(json.dumps(info, indent=2) + "\n")
    return destination


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m labkit.platform", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="the recorded platforms")
    show = commands.add_parser("show", help="describe this machine, or a recorded one")
    show.add_argument("name", nargs="?", help="a recorded platform or a recording's folder (default: this machine)")
    rec = commands.add_parser("record", help="record this machine (or a dump) into a new folder")
    rec.add_argument("destination", type=Path)
    rec.add_argument("--root", type=Path, default=ROOT, help="an unpacked /proc + /sys dump instead of this machine")
    rec.add_argument("--title", default="")
    rec.add_argument("--source", default="")
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            for name in recorded():
                print(f"{name:<18} {recording_info(name).get('title', '')}")
        elif args.command == "show":
            print(load(args.name) if args.name else census())
        else:
            print(f"recorded {record(args.destination, args.root, title=args.title, source=args.source)}")
    except (RecordingError, FileExistsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
