"""The sandbox a student's kernel runs in: bubblewrap namespaces, resource limits and its own unix user.

Inside, the kernel sees the read-only environment (/usr, the virtualenv, the kit's student-side packages, /sys
for numpy's CPU detection), a private /tmp and home, and one writable folder: the private copy of the one
submission it grades. No network (its own empty network namespace), no other process (its own pid namespace:
when the sandbox ends, every process in it ends, including those that started their own session), no course
folder, gradebook or other student. The kernel talks to the grader over unix sockets (ZeroMQ ``ipc``) in a
folder bound into the sandbox, which works across network namespaces.

When bubblewrap is missing, :func:`probe` says so and what protection remains (resource limits, own user,
process-group kill); the engine prints that at start and puts it in the report.
"""
from __future__ import annotations

import contextlib
import fcntl
import functools
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psutil
from jupyter_client.manager import AsyncKernelManager
from traitlets import Any, Unicode

HOME = "/home/student"
MiB = 1024 * 1024
GiB = 1024 * MiB
# Environment the kernel may see; anything else in the grader's environment (tokens, paths) stays outside.
PASSED_ENV = ("LANG", "LC_ALL", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "PYTHONHASHSEED",
              "NBGRADER_EXECUTION", "MPLBACKEND", "TZ")
# Student-side packages the labs import; bound read-only (not the rest of the checkout: labs/ holds solutions).
STUDENT_PACKAGES = ("labkit",)


@dataclass(frozen=True)
class Limits:
    """Caps on one kernel and everything it starts (rlimits; processes counted per sandbox user)."""

    memory_bytes: int = 4 * GiB    # address space of each process
    processes: int = 64            # processes and threads of the sandbox user
    file_bytes: int = 64 * MiB     # largest file it may write
    cpu_seconds: int = 1800        # total CPU of one process: a last resort, the budget watch acts first
    open_files: int = 256
    tmp_bytes: int = 256 * MiB     # private /tmp and home (tmpfs)


@dataclass(frozen=True)
class Verdict:
    """What isolation the machine offers, said once at start and in every report."""

    isolated: bool
    message: str


@functools.cache
def probe() -> Verdict:
    """Whether bubblewrap can make namespaces here (it can be installed yet refused by a container)."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return Verdict(False, "bubblewrap (bwrap) is not installed: student code runs WITHOUT a sandbox - it can "
                              "read the course, reach the network and write as the grader. What remains: resource "
                              "limits, its own unix user, the kill of its process group. Install it: "
                              "apt-get install bubblewrap")
    test = subprocess.run([bwrap, "--unshare-net", "--unshare-pid", "--ro-bind", "/", "/", "--dev", "/dev",
                           "--proc", "/proc", "true"], capture_output=True, text=True)
    if test.returncode != 0:
        return Verdict(False, f"bubblewrap cannot create namespaces here ({test.stderr.strip()[:200]}): student "
                              "code runs WITHOUT a sandbox; what remains: resource limits, its own unix user, the "
                              "kill of its process group")
    return Verdict(True, "sandbox: bubblewrap (no network, own pid namespace, read-only environment, private "
                         "copy of the submission), resource limits, a unix user per kernel")


def _package_dirs() -> list[str]:
    from labkit.datasets import data_root  # the shipped datasets, wherever this install keeps them
    dirs = [data_root()]
    for name in STUDENT_PACKAGES:
        spec = importlib.util.find_spec(name)
        dirs += list(spec.submodule_search_locations or []) if spec else []
    return sorted({str(Path(d).resolve()) for d in dirs if Path(d).exists()})


def _bind(path: str, how: str = "--ro-bind") -> list[str]:
    """A bind at the same path whose parent folders are made traversable (bwrap copies a host 0700 /root);
    /tmp and the home are the sandbox's own tmpfs already."""
    parents = [str(p) for p in reversed(Path(path).parents) if str(p) not in ("/", "/tmp", HOME)]
    return [arg for parent in parents for arg in ("--perms", "0755", "--dir", parent)] + [how, path, path]


def _environment_binds() -> list[str]:
    """Read-only binds of what Python, the kit and its libraries need, and nothing of the course."""
    # bwrap would create /etc as 0700 for the binds below: the sandbox user could then read none of them (no
    # ld.so.cache, no fonts.conf, so every kernel printed a Fontconfig error)
    args: list[str] = ["--perms", "0755", "--dir", "/etc"]
    for path in ("/usr", "/etc/alternatives", "/etc/ld.so.cache", "/etc/localtime", "/etc/ssl", "/etc/fonts",
                 "/etc/passwd", "/etc/group", "/etc/nsswitch.conf", "/etc/matplotlibrc", "/sys"):
        args += ["--ro-bind-try", path, path]
    for link in ("bin", "lib", "lib64", "sbin"):  # merged-/usr symlinks
        target = Path("/") / link
        if target.is_symlink():
            args += ["--symlink", os.readlink(target), str(target)]
        elif target.is_dir():
            args += ["--ro-bind", str(target), str(target)]
    for path in environment_paths():
        args += _bind(path)
    return args


def environment_paths() -> list[str]:
    """Python, the virtualenv and the student-side packages, where they are not under /usr."""
    prefixes = {sys.prefix, sys.base_prefix, str(Path(sys.executable).resolve().parents[1])}
    return [path for path in sorted(prefixes | set(_package_dirs())) if not path.startswith("/usr")]


FIRST_UID, LAST_UID = 61000, 64999
_CLAIMS = Path(tempfile.gettempdir()) / "substrate-sandbox-users"


def claim_uid() -> tuple[int, int]:
    """A unix user no other kernel on this machine has now, and the open lock file that holds it (closing it,
    or the process ending, frees the user). Kernels of two graders never share a user, so they cannot signal
    each other and each has its own process cap."""
    _CLAIMS.mkdir(mode=0o700, exist_ok=True)
    for uid in range(FIRST_UID, LAST_UID + 1):
        fd = os.open(_CLAIMS / str(uid), os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        if not running_as(uid):
            return uid, fd
        os.close(fd)
    raise RuntimeError(f"no free sandbox user in {FIRST_UID}-{LAST_UID}")


def running_as(uid: int) -> list[psutil.Process]:
    found = []
    for p in psutil.process_iter(["uids"]):
        with contextlib.suppress(psutil.Error, TypeError):
            if p.info["uids"].real == uid:
                found.append(p)
    return found


def scratch_root() -> Path:
    """Where sandbox folders go: ``$SUBSTRATE_SANDBOX_ROOT`` (one grading run's own place), else the temp dir."""
    return Path(os.environ.get("SUBSTRATE_SANDBOX_ROOT") or tempfile.gettempdir())


# Unix socket paths are limited to about 100 bytes: the kernel's sockets live in a short folder of their own.
SOCKETS = Path("/tmp") if Path("/tmp").is_dir() else Path(tempfile.gettempdir())


def _folders(uid: int) -> list[Path]:
    return [*scratch_root().glob(f"substrate-sandbox-{uid}-*"), *SOCKETS.glob(f"substrate-run-{uid}-*")]


def sweep(uid: int) -> None:
    """Remove the folders a killed worker left for ``uid`` (the caller holds its claim, so none is in use)."""
    for folder in _folders(uid):
        shutil.rmtree(folder, ignore_errors=True)


def leftovers() -> tuple[list[psutil.Process], list[Path]]:
    """Processes and sandbox folders (in :func:`scratch_root`) of users no live kernel holds: what a grader left
    behind."""
    processes, folders = [], []
    for uid in range(FIRST_UID, LAST_UID + 1):
        claim = _CLAIMS / str(uid)
        if not claim.exists():
            continue
        fd = os.open(claim, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # held: a kernel is running as this user right now
        finally:
            os.close(fd)
        processes += running_as(uid)
        folders += _folders(uid)
    return processes, folders


def limits_prefix(limits: Limits, uid: int | None) -> list[str]:
    """prlimit (and setpriv to the sandbox user, when the grader is root) in front of the kernel command."""
    cmd = ["prlimit", f"--as={limits.memory_bytes}", f"--nproc={limits.processes}",
           f"--fsize={limits.file_bytes}", f"--cpu={limits.cpu_seconds}", f"--nofile={limits.open_files}",
           "--core=0", "--"]
    if uid is not None and os.geteuid() == 0:
        cmd += ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--"]
    return cmd


def kernel_env() -> dict[str, str]:
    """The whole environment of a kernel (the grader's own never reaches it)."""
    env = {k: os.environ[k] for k in PASSED_ENV if k in os.environ}
    env.update(HOME=HOME, TMPDIR="/tmp", PATH=f"{Path(sys.executable).parent}:/usr/bin:/bin",
               IPYTHONDIR=f"{HOME}/.ipython", MPLCONFIGDIR="/tmp/matplotlib")
    return env


def _bwrap(limits: Limits) -> list[str]:
    """bubblewrap's namespaces and the read-only environment, shared by a kernel's sandbox and the fork
    server's (:mod:`.forkclient`)."""
    args = ["bwrap", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--new-session", "--hostname", "sandbox", "--clearenv",
            # the private /tmp first: a checkout or venv that lives under /tmp is bound on top of it, not hidden
            "--size", str(limits.tmp_bytes), "--perms", "1777", "--tmpfs", "/tmp",
            *_environment_binds(), "--proc", "/proc", "--dev", "/dev",
            "--perms", "1777", "--tmpfs", "/dev/shm",  # POSIX semaphores and shared memory: process pools (lab 07)
            "--size", str(limits.tmp_bytes), "--perms", "0777", "--tmpfs", HOME]
    for key, value in kernel_env().items():
        args += ["--setenv", key, value]
    return args


def command(kernel_cmd: list[str], *, workdir: Path, runtime: Path, limits: Limits, uid: int | None) -> list[str]:
    """The full command line that starts ``kernel_cmd`` sandboxed (or only limited, without bubblewrap)."""
    inner = limits_prefix(limits, uid) + kernel_cmd
    if not probe().isolated:
        return ["env", *(f"{k}={v}" for k, v in kernel_env().items()), "--chdir", str(workdir), *inner]
    return [*_bwrap(limits), "--unshare-pid", "--bind", str(workdir), f"{HOME}/work", *_bind(str(runtime), "--bind"),
            "--chdir", f"{HOME}/work", "--", *inner]


def forkserver_command(script: Path, limits: Limits, fd: int, preload: tuple[str, ...],
                       staging: dict[str, Path]) -> list[str]:
    """The fork server's sandbox: a kernel's, less its own pid namespace (the server reports host pids), with
    the grader's sandbox folders bound at ``staging`` (inside -> outside) and the privileges to make each
    kernel's namespaces; each kernel drops them, and the staging binds, before any student code."""
    binds = [arg for inside, outside in staging.items() for arg in ("--bind", str(outside), inside)]
    return [*_bwrap(limits), "--cap-add", "ALL", *binds, *_bind(str(script)), "--chdir", "/", "--",
            sys.executable, str(script), str(fd), *preload]


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel runs in :func:`command`, reached over ipc sockets in ``runtime``; or, given
    a fork server (:mod:`.forkclient`), forked by it into namespaces of its own."""

    workdir = Unicode(help="the private copy of the submission (bound writable)")
    runtime = Unicode(help="folder for the connection file and the ipc sockets")
    kernel_log = Unicode(help="file for the kernel's own stdout and stderr (not cell output)")
    sandbox_limits = Any(Limits())
    sandbox_user = Any(None, allow_none=True)
    forkserver = Any(None, allow_none=True)

    def __init__(self, **kwargs):
        super().__init__(transport="ipc", **kwargs)
        self.ip = str(Path(self.runtime) / "kernel")
        self.connection_file = str(Path(self.runtime) / "kernel.json")

    def write_connection_file(self, **kwargs) -> None:
        super().write_connection_file(**kwargs)
        if self.sandbox_user is not None and os.geteuid() == 0:  # the kernel's user must read its own key
            os.chown(self.connection_file, self.sandbox_user, self.sandbox_user)

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        cmd = super().format_kernel_cmd(extra_arguments)
        if self.forkserver is not None:
            return cmd
        return command(cmd, workdir=Path(self.workdir), runtime=Path(self.runtime), limits=self.sandbox_limits,
                       uid=self.sandbox_user)

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw) -> None:
        if self.forkserver is None:
            with open(self.kernel_log, "ab") as log:
                return await super()._async_launch_kernel(kernel_cmd, stdout=log, stderr=log, **kw)
        # the kernel's arguments, without ``python -m ipykernel_launcher``: the server is that interpreter
        argv = kernel_cmd[kernel_cmd.index("ipykernel_launcher") + 1:]
        self.provisioner.process = self.forkserver.spawn(
            uid=self.sandbox_user, work=Path(self.workdir), runtime=Path(self.runtime), log=Path(self.kernel_log),
            argv=argv, limits=self.sandbox_limits)
        self.provisioner.pid = self.provisioner.process.pid
        self._reconcile_connection_info(self.provisioner.connection_info)
