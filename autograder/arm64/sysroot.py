"""The aarch64 side, set up once and cached under ``build/arm64/`` (each step is skipped when its stamp says it is
done, and redone from scratch when it was interrupted):

- ``sysroot/``: Debian bookworm arm64 with Python 3.11 (``debootstrap --variant=minbase --include=python3``; root,
  and binfmt_misc for its second stage); another checkout's can be shared (``--sysroot``), it is only read
- ``site/``: the project's dependencies and ipykernel as aarch64 wheels (``pip install --target`` with manylinux
  aarch64 platform tags, binary wheels only); redone when the dependencies change. ``pip --target`` drops a
  wheel's data files under ``lib/`` (the ``mpich`` wheel's libmpi.so): they are unpacked into ``site/lib``, which
  the emulated kernel's LD_LIBRARY_PATH names
- ``prefix/``: what qemu's ``-L`` sees: links to the sysroot's ``bin lib usr etc`` and a ``proc/cpuinfo`` of a
  Neoverse-N1 machine. ONNX Runtime's cpuinfo library reads ``/proc/cpuinfo`` and segfaults on the host's x86 one;
  qemu looks every path up in the prefix first, so the emulated programs read this one.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from ..labs import REPO_ROOT

SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
PYTHON = "usr/bin/python3.11"
WHEEL_PLATFORMS = ("manylinux_2_17_aarch64", "manylinux_2_27_aarch64", "manylinux_2_28_aarch64")
KERNEL_REQUIREMENTS = ("ipykernel",)  # the notebook server side stays on x86-64; the kernel needs this
PREFIX_LINKS = ("bin", "lib", "usr", "etc", "sbin", "var")
STAMP = ".complete"
SITE_LAYOUT = "site-lib-1"  # part of site/'s stamp: a site built before data libraries were restored is rebuilt
# A Neoverse-N1 (the core QEMU_CPU names) as Linux's /proc/cpuinfo shows it: MIDR 0x413fd0c1.
NEOVERSE_N1 = """processor\t: {n}
BogoMIPS\t: 50.00
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp ssbs
CPU implementer\t: 0x41
CPU architecture: 8
CPU variant\t: 0x3
CPU part\t: 0xd0c
CPU revision\t: 1
"""


class SetupError(RuntimeError):
    """A set-up step failed; the message says which and why."""


@dataclass(frozen=True)
class Layout:
    root: Path = REPO_ROOT / "build" / "arm64"
    shared_sysroot: Path | None = None  # a userland set up by another checkout, used read-only

    @property
    def sysroot(self) -> Path:
        return self.shared_sysroot or self.root / "sysroot"

    @property
    def site(self) -> Path:
        return self.root / "site"

    @property
    def prefix(self) -> Path:
        return self.root / "prefix"

    @property
    def python(self) -> Path:
        """The aarch64 interpreter, reached through the prefix so its sys.prefix is the prefix's usr/."""
        return self.prefix / PYTHON

    @property
    def runs(self) -> Path:
        return self.root / "runs"


def _done(folder: Path, key: str = "") -> bool:
    stamp = folder / STAMP
    return stamp.is_file() and stamp.read_text() == key


def _finish(partial: Path, folder: Path, key: str = "") -> None:
    (partial / STAMP).write_text(key)
    if folder.exists() or folder.is_symlink():
        shutil.rmtree(folder)
    partial.rename(folder)


def _run(command: list[str], what: str, log: Path) -> None:
    """Run a set-up command with its output in ``log``; a SetupError naming the log's last lines on failure."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        done = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        tail = "\n  ".join(log.read_text().strip().splitlines()[-6:])
        raise SetupError(f"{what} failed (exit {done.returncode}); last lines of {log}:\n  {tail}")


def build_userland(layout: Layout) -> bool:
    """debootstrap the aarch64 Debian userland unless it is there. Returns whether it had to."""
    if _done(layout.sysroot):
        return False
    if layout.shared_sysroot:
        raise SetupError(f"{layout.shared_sysroot} is not a complete aarch64 userland (no {STAMP} stamp)")
    if os.geteuid() != 0:
        raise SetupError("setting up the aarch64 userland (debootstrap) needs root; run make test-arm64 as root once")
    partial = layout.root / "sysroot.partial"
    if partial.exists():
        shutil.rmtree(partial)  # an interrupted debootstrap cannot be resumed
    # ca-certificates is left out on purpose: nothing in the sysroot downloads, and configuring it takes minutes.
    _run(["debootstrap", "--arch=arm64", "--variant=minbase", "--include=python3", SUITE, str(partial), MIRROR],
         "debootstrap of Debian arm64", layout.root / "debootstrap.log")
    if not (partial / PYTHON).exists():
        raise SetupError(f"debootstrap finished but {partial / PYTHON} is missing")
    _finish(partial, layout.sysroot)
    return True


def build_prefix(layout: Layout, cpus: int | None = None) -> bool:
    """Make qemu's prefix unless it is there for this sysroot and CPU count (the fake cpuinfo lists as many CPUs
    as this machine). Returns whether it had to."""
    cpuinfo = "\n".join(NEOVERSE_N1.format(n=n) for n in range(cpus or os.cpu_count() or 1))
    links = {name: (layout.sysroot / name).resolve() for name in PREFIX_LINKS if (layout.sysroot / name).exists()}
    key = hashlib.sha256(repr((sorted(links.items()), cpuinfo)).encode()).hexdigest()
    if _done(layout.prefix, key):
        return False
    partial = layout.root / "prefix.partial"
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    for name, target in links.items():
        (partial / name).symlink_to(target)
    (partial / "proc").mkdir()
    (partial / "proc/cpuinfo").write_text(cpuinfo)
    _finish(partial, layout.prefix, key)
    return True


def requirements() -> list[str]:
    """What the kernel needs: the project's own dependencies (its installed metadata, so a dependency added to
    pyproject.toml is picked up) and ipykernel."""
    required = metadata.requires("substrate-labs") or []
    return sorted({r for r in required if "extra ==" not in r} | set(KERNEL_REQUIREMENTS))


def install_wheels(layout: Layout, wanted: list[str] | None = None) -> bool:
    """pip-install the aarch64 wheels into ``site/`` unless the same requirements are there. Returns whether it
    had to."""
    wanted = wanted or requirements()
    key = hashlib.sha256("\n".join([SITE_LAYOUT, *wanted]).encode()).hexdigest()
    if _done(layout.site, key):
        return False
    partial = layout.root / "site.partial"
    if partial.exists():
        shutil.rmtree(partial)
    platforms = [arg for platform in WHEEL_PLATFORMS for arg in ("--platform", platform)]
    _run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--target", str(partial),
          *platforms, "--only-binary=:all:", "--python-version", "3.11", "--implementation", "cp", *wanted],
         "pip install of the aarch64 wheels", layout.root / "pip.log")
    dropped = dropped_lib_data(partial)
    if dropped:
        with tempfile.TemporaryDirectory(dir=layout.root) as wheels:
            _run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
                  "--dest", wheels, *platforms, "--only-binary=:all:", "--python-version", "3.11",
                  "--implementation", "cp", *dropped], "pip download of wheels with libraries", layout.root / "pip.log")
            for wheel in sorted(Path(wheels).glob("*.whl")):
                extract_lib_data(wheel, partial / "lib")
    _finish(partial, layout.site, key)
    return True


def dropped_lib_data(target: Path) -> list[str]:
    """Distributions (``name==version``) in a ``pip install --target`` folder whose wheel had data files in
    ``lib/``: pip installs into a temporary home whose ``lib/python`` is the target and moves only that out of
    ``lib/``, so their RECORD lists them one level up (``../libmpi.so``), and they are missing."""
    dropped = []
    for record in sorted(target.glob("*.dist-info/RECORD")):
        paths = [line.split(",", 1)[0] for line in record.read_text().splitlines()]
        if any(p.startswith("../") and not p.startswith("../../") for p in paths):
            name, version = record.parent.name.removesuffix(".dist-info").rsplit("-", 1)
            dropped.append(f"{name}=={version}")
    return dropped


def extract_lib_data(wheel: Path, lib: Path) -> list[Path]:
    """Unpack a wheel's ``<name>.data/data/lib/`` files into ``lib`` (keeping sub-folders and the executable bit)."""
    written = []
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            parts = info.filename.split("/")
            if len(parts) < 4 or not parts[0].endswith(".data") or parts[1:3] != ["data", "lib"] or info.is_dir():
                continue
            out = lib.joinpath(*parts[3:])
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(archive.read(info))
            mode = (info.external_attr >> 16) & 0o777
            out.chmod(mode or 0o644)
            written.append(out)
    return written


def size_mib(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink()) / 2**20
