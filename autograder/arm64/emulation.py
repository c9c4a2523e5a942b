"""How aarch64 programs start on this x86-64 machine: qemu user-mode emulation, through binfmt_misc (the kernel
runs aarch64 executables with qemu, so programs a notebook starts are emulated too) or, without it, an explicit
``qemu-aarch64-static -L <prefix>`` around the kernel (then aarch64 subprocesses cannot start)."""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

QEMU = "qemu-aarch64-static"
APT_PACKAGES = ("debootstrap", "qemu-user-static", "binfmt-support")
BINFMT_DIR = Path("/proc/sys/fs/binfmt_misc")
BINFMT_ENTRY = BINFMT_DIR / "qemu-aarch64"
# The default 'max' CPU has SVE, whose emulated paths raise false floating-point warnings; the fake
# /proc/cpuinfo in the prefix describes the same core.
CPU = "neoverse-n1"


class EmulationUnavailable(RuntimeError):
    """aarch64 programs cannot run here; the message says what is missing and how to provide it."""


@dataclass(frozen=True)
class Emulator:
    mode: str  # "binfmt" or "explicit"
    qemu: str
    prefix: Path  # qemu looks up every path here first (-L, QEMU_LD_PREFIX)

    def command(self, argv: list[str]) -> list[str]:
        """The command that runs the aarch64 program ``argv``."""
        if self.mode == "binfmt":
            return list(argv)
        return [self.qemu, "-L", str(self.prefix), "-cpu", CPU, *argv]

    def environment(self) -> dict[str, str]:
        """Variables qemu reads: with binfmt they reach every aarch64 process the kernel starts."""
        return {"QEMU_LD_PREFIX": str(self.prefix), "QEMU_CPU": CPU}


def is_root() -> bool:
    return os.geteuid() == 0


def binfmt_enabled() -> bool:
    try:
        return BINFMT_ENTRY.read_text().splitlines()[0].strip() == "enabled"
    except (OSError, IndexError):
        return False


def missing_tools() -> list[str]:
    """Debian packages this check needs that are not installed."""
    found = {"debootstrap": shutil.which("debootstrap") or Path("/usr/sbin/debootstrap").exists(),
             "qemu-user-static": shutil.which(QEMU), "binfmt-support": shutil.which("update-binfmts")
             or Path("/usr/sbin/update-binfmts").exists()}
    return [name for name in APT_PACKAGES if not found[name]]


def install_tools(run=subprocess.run) -> None:
    """Install the Debian packages with apt (root only); a clear error otherwise."""
    missing = missing_tools()
    if not missing:
        return
    command = ["apt-get", "install", "-y", "--no-install-recommends", *missing]
    if not shutil.which("apt-get"):
        raise EmulationUnavailable(f"needs {', '.join(missing)} (Debian's names; {QEMU} is qemu's user-mode "
                                   "emulator, statically linked); this system has no apt-get: install them with "
                                   "its package manager")
    if not is_root():
        raise EmulationUnavailable(f"needs the Debian packages {', '.join(missing)}; as root run: "
                                   f"{' '.join(command)}")
    print(f"installing {', '.join(missing)} with apt-get", flush=True)
    done = run(command, capture_output=True, text=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    if done.returncode != 0:
        raise EmulationUnavailable(f"apt-get could not install {', '.join(missing)}: {done.stderr.strip()[-400:]}")


def enable_binfmt(run=subprocess.run) -> bool:
    """Register qemu with binfmt_misc if it is not (root only: mounts binfmt_misc where a container has not).
    Returns whether it is enabled now."""
    if binfmt_enabled() or not is_root():
        return binfmt_enabled()
    if not (BINFMT_DIR / "register").exists():
        run(["mount", "-t", "binfmt_misc", "binfmt_misc", str(BINFMT_DIR)], capture_output=True)
    run(["update-binfmts", "--enable", "qemu-aarch64"], capture_output=True)
    return binfmt_enabled()


BINFMT_HELP = ("aarch64 programs need qemu registered with binfmt_misc, which takes root: as root run "
               "`mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc; update-binfmts --enable qemu-aarch64` "
               "(or run make test-arm64 as root, which does it). Without it, `make test-arm64 ARM64_QEMU=explicit` "
               f"starts each kernel as `{QEMU} -L <prefix>`, once the userland is set up; notebook code that starts "
               "aarch64 programs (subprocesses) then fails.")


def check_host(machine: str) -> None:
    """The check compares aarch64 with this machine's native run, so this machine must be x86-64."""
    if machine.lower() not in ("x86_64", "amd64"):
        raise EmulationUnavailable(f"make test-arm64 runs on an x86-64 machine (this one is {machine}); on an "
                                   "aarch64 machine, make test already runs every lab natively")


def emulator(prefix: Path, mode: str = "auto") -> Emulator:
    """The way to run aarch64 programs: 'binfmt' (enabled here, or enabled now as root), 'explicit', or 'auto'
    (binfmt when possible, else a clear error that names both ways)."""
    if mode not in ("auto", "binfmt", "explicit"):
        raise ValueError(f"unknown emulation mode {mode!r}: auto, binfmt or explicit")
    qemu = shutil.which(QEMU)
    if not qemu:
        raise EmulationUnavailable(f"{QEMU} is not installed; as root run: apt-get install {' '.join(APT_PACKAGES)}")
    if mode == "explicit":
        return Emulator("explicit", qemu, prefix)
    if enable_binfmt():
        return Emulator("binfmt", qemu, prefix)
    raise EmulationUnavailable(BINFMT_HELP)
