"""The worker's side of the fork server (:mod:`.forkserver`): start it, ask it for a kernel, hold that kernel.

One server per worker process, started on first use and kept for the worker's life (bubblewrap's
``--die-with-parent`` ends it with the worker). When it cannot be used (not root, no bubblewrap, turned off
with ``SUBSTRATE_SANDBOX_FORK=0``, or it failed to start) kernels start the plain way, each in a bubblewrap
sandbox of its own; nothing else changes.
"""
from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
from dataclasses import asdict
from pathlib import Path

import psutil

from .sandbox import HOME, SOCKETS, Limits, environment_paths, forkserver_command, probe, scratch_root

SCRIPT = Path(__file__).with_name("forkserver.py")
# What a lab kernel imports before its first line of its own; imported once, in the server. Not the inline
# backend: it hooks into IPython when imported, and the server has no IPython shell.
PRELOAD = ("IPython", "ipykernel.kernelapp", "ipykernel.ipkernel", "numpy", "matplotlib.pyplot", "onnx",
           "onnxruntime", "threadpoolctl", "labkit")
NOTE = "; each kernel forked from a preloaded fork server into its own pid, mount, network and IPC namespaces"
STAGING = "/run/substrate"


class ForkError(RuntimeError):
    """The fork server could not start or make a kernel: the worker starts kernels the plain way instead."""


class ForkedKernel:
    """The ``subprocess.Popen`` a kernel provisioner expects, for a process that is not our child: the pid 1
    of a submission's namespace, watched through a pidfd (no pid reuse can confuse it). Killing it ends every
    process of the submission; other signals (an interrupt) it passes on to the kernel."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        try:
            self._fd: int | None = os.pidfd_open(pid)
            children = psutil.Process(pid).children()  # the server replies once the kernel is running
        except (OSError, psutil.Error) as e:
            raise ForkError("the forked kernel ended as it started") from e
        self.returncode: int | None = None
        self.kernel_pid = children[0].pid if children else None

    def poll(self) -> int | None:
        return self.wait(0)

    def wait(self, timeout: float | None = None) -> int | None:
        if self._fd is not None and select.select([self._fd], [], [], timeout)[0]:
            os.close(self._fd)
            self._fd, self.returncode = None, -signal.SIGKILL  # not our child: its status is not ours to read
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self._fd is None:
            raise ProcessLookupError(3, "the kernel's namespace has ended")
        signal.pidfd_send_signal(self._fd, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class ForkServer:
    def __init__(self, limits: Limits) -> None:
        self._sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._lock = threading.Lock()  # a Dask worker asks from several threads
        # where the server sees the folders slots are made in (their paths outside may be under /tmp, which the
        # server and each kernel have a private one of)
        self.scratch = scratch_root()
        self.scratch.mkdir(parents=True, exist_ok=True)
        self.staging = {f"{STAGING}/scratch": self.scratch, f"{STAGING}/sockets": SOCKETS}
        cmd = forkserver_command(SCRIPT, limits, theirs.fileno(), PRELOAD, self.staging)
        # a checkout or virtualenv under /tmp: each kernel binds it again over its own /tmp
        self.keep = [path for path in environment_paths() if Path(path).is_relative_to("/tmp")]
        self.process = subprocess.Popen(cmd, pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL)
        theirs.close()
        self._sock.settimeout(300)
        try:
            ready = self._sock.recv(1024)
        except OSError as e:
            ready = f"{e}".encode()
        finally:
            self._sock.settimeout(None)
        if not ready.startswith(b'{"ready"'):
            self.close()
            raise ForkError(f"the fork server did not start ({ready[:200]!r})")

    def spawn(self, *, uid: int, work: Path, runtime: Path, log: Path, argv: list[str],
              limits: Limits) -> ForkedKernel:
        request = {"uid": uid, "home": HOME, "runtime": str(runtime), "argv": argv, "limits": asdict(limits),
                   "work_source": self._inside(work), "runtime_source": self._inside(runtime),
                   "staging": list(self.staging), "keep": self.keep}
        log_fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            with self._lock:
                socket.send_fds(self._sock, [json.dumps(request).encode()], [log_fd])
                reply = self._sock.recv(65536)
        except OSError as e:
            raise ForkError(f"the fork server is gone ({e})") from e
        finally:
            os.close(log_fd)
        answer = json.loads(reply) if reply else {"error": "the fork server ended"}
        if "pid" not in answer:
            raise ForkError(answer["error"])
        return ForkedKernel(answer["pid"])

    def _inside(self, path: Path) -> str:
        for inside, outside in self.staging.items():
            if path.is_relative_to(outside):
                return f"{inside}/{path.relative_to(outside)}"
        raise ForkError(f"{path} is in no folder the fork server sees")

    def alive(self) -> bool:
        return self.process.poll() is None and self.scratch == scratch_root()

    def close(self) -> None:
        self._sock.close()  # the server's loop ends on end of file
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


_server: ForkServer | None = None
_failed: str | None = None
_start_lock = threading.Lock()


def enabled() -> bool:
    return (probe().isolated and os.geteuid() == 0 and os.environ.get("SUBSTRATE_SANDBOX_FORK", "1") != "0"
            and _failed is None)


def server(limits: Limits) -> ForkServer | None:
    """This process's fork server (started now if needed), or None to start kernels the plain way."""
    global _server
    with _start_lock:
        if not enabled():
            return None
        if _server is not None and not _server.alive():  # killed, or slots are made elsewhere now
            _server.close()
            _server = None
        if _server is None:
            try:
                _server = ForkServer(limits)
            except (ForkError, OSError) as e:
                give_up(str(e))
        return _server


def give_up(reason: str) -> None:
    """Start kernels the plain way from now on (said once, in the worker's log)."""
    global _server, _failed
    _failed = reason
    print(f"grading worker: the fork server is not used, kernels start the plain way: {reason}", file=sys.stderr)
    if _server is not None:
        _server.close()
        _server = None
