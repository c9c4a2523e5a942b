"""The fork server: one per worker, inside bubblewrap; forks each submission's kernel already warmed up.

A kernel spends about a second of CPU importing ipykernel, numpy, matplotlib and ONNX Runtime before the
notebook's first line runs; on a busy 2-core grading machine that was a third of all the work. This process
imports them once (it never runs a notebook itself), then forks a kernel per request. The fork is a fresh
process (a kernel is never reused), and before any student code runs it is put in namespaces of its own,
nested inside the server's sandbox:

* pid namespace: it is pid 2 under a small init (pid 1) that reaps and, when the kernel ends or is killed, takes
  every process the submission started with it;
* mount namespace: a private /tmp, home and /dev/shm (tmpfs), its own /proc, its submission folder bound at
  ``~/work`` and its ipc socket folder; the server's view of other folders is not there;
* network and IPC namespaces: loopback only, no shared memory with the next submission's kernel;
* its own unix user (the slot's), no capabilities, no new privileges, rlimits.

The worker sends requests over a unix socket (JSON, with the kernel's log file as a descriptor); the reply
carries the outer pid of the submission's init. Standard library only: the server runs where the rest of the
kit (and its solutions) is not bound. Run as ``python forkserver.py <socket fd> <module to preload>...``.
"""
from __future__ import annotations

import contextlib
import ctypes
import fcntl
import importlib
import importlib.util
import json
import os
import resource
import runpy
import signal
import socket
import struct
import sys
import traceback

CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWNET = 0x00020000, 0x08000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 24, 38
SIOCSIFFLAGS, IFF_UP, IFF_LOOPBACK, IFF_RUNNING = 0x8914, 0x1, 0x8, 0x40
RLIMITS = {"memory_bytes": resource.RLIMIT_AS, "processes": resource.RLIMIT_NPROC,
           "file_bytes": resource.RLIMIT_FSIZE, "cpu_seconds": resource.RLIMIT_CPU,
           "open_files": resource.RLIMIT_NOFILE}

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _bytes(text: str | None) -> bytes | None:
    return text.encode() if text is not None else None


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(_libc.mount(_bytes(source), _bytes(target), _bytes(fstype), ctypes.c_ulong(flags), _bytes(data)),
           f"mount {target}")


def _prctl(option: int, arg: int) -> None:
    _check(_libc.prctl(option, ctypes.c_ulong(arg), 0, 0, 0), f"prctl {option}")


def _tmpfs(target: str, size: int, mode: str) -> None:
    _mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode={mode}")


def _bind(source: str, target: str) -> None:
    os.makedirs(target, exist_ok=True)
    _mount(source, target, None, MS_BIND)


def _loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH22x", b"lo", IFF_UP | IFF_LOOPBACK | IFF_RUNNING))


def _private_view(req: dict) -> None:
    """The submission's own mounts (run as pid 1 of its namespace, still privileged). The server sees the
    grader's folders under ``req["staging"]``; the kernel sees its own two and nothing else of them."""
    _mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing mounted here propagates back to the server
    # opened before /tmp is covered: binding from them still works, the mounts are in this namespace
    work_fd = os.open(req["work_source"], os.O_PATH | os.O_DIRECTORY)
    runtime_fd = os.open(req["runtime_source"], os.O_PATH | os.O_DIRECTORY)
    kept = {path: os.open(path, os.O_PATH | os.O_DIRECTORY) for path in req["keep"]}
    _tmpfs("/tmp", req["limits"]["tmp_bytes"], "1777")
    for path, fd in kept.items():  # the read-only environment that lives under /tmp, bound again on top
        _bind(f"/proc/self/fd/{fd}", path)
        _mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
        os.close(fd)
    _bind(f"/proc/self/fd/{runtime_fd}", req["runtime"])  # the socket folder sits at the same path as outside
    _tmpfs(req["home"], req["limits"]["tmp_bytes"], "0777")
    _bind(f"/proc/self/fd/{work_fd}", req["home"] + "/work")
    os.close(work_fd)
    os.close(runtime_fd)
    for staged in req["staging"]:
        _check(_libc.umount2(staged.encode(), MNT_DETACH), f"umount {staged}")
    _tmpfs("/dev/shm", req["limits"]["tmp_bytes"], "1777")
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)  # shows this namespace's processes only
    _loopback_up()


def _become_student(req: dict, log_fd: int, report: int) -> None:
    """In the kernel process: drop to the slot's user with no way back, then the process state of a kernel
    that bubblewrap and ``python -m ipykernel_launcher`` would have started."""
    os.setsid()
    null = os.open("/dev/null", os.O_RDONLY)
    for fd, target in ((null, 0), (log_fd, 1), (log_fd, 2)):
        os.dup2(fd, target)
    os.closerange(3, report)
    os.closerange(report + 1, 65536)
    for name, which in RLIMITS.items():
        resource.setrlimit(which, (req["limits"][name],) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    with open("/proc/sys/kernel/cap_last_cap") as f:
        last_cap = int(f.read())
    for cap in range(last_cap + 1):
        _prctl(PR_CAPBSET_DROP, cap)
    uid = req["uid"]
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)  # with the uid leave every capability
    _prctl(PR_SET_NO_NEW_PRIVS, 1)
    os.umask(0o022)
    work = req["home"] + "/work"
    os.chdir(work)
    os.makedirs(os.environ.get("MPLCONFIGDIR", "/tmp/matplotlib"), exist_ok=True)
    del sys.path[0]  # the server's folder; ``python -m ipykernel_launcher`` leaves none there either
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Python's own, as in any fresh interpreter


def _run_kernel(req: dict) -> None:
    sys.argv = ["ipykernel_launcher", *req["argv"]]
    runpy.run_module("ipykernel_launcher", run_name="__main__", alter_sys=True)


def _init(req: dict, log_fd: int, report: int) -> None:
    """pid 1 of the submission's namespace: sets up its view, starts the kernel, reaps, ends with it."""
    try:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        _private_view(req)
    except OSError as e:
        os.write(report, f"error {e}\n".encode())
        os._exit(1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    kernel = os.fork()
    if kernel == 0:
        try:
            _become_student(req, log_fd, report)
            if importlib.util.find_spec("ipykernel_launcher") is None:  # the environment is not all there
                raise ImportError("ipykernel_launcher is not importable in the kernel's view")
            os.write(report, b"ok\n")
            os.close(report)
            _run_kernel(req)
            os._exit(0)
        except SystemExit as e:
            os._exit(e.code if isinstance(e.code, int) else 1)
        except BaseException as e:  # noqa: BLE001 - said in the kernel's log and to the worker
            traceback.print_exc()
            with contextlib.suppress(OSError):
                os.write(report, f"error the kernel did not start: {type(e).__name__}: {e}\n".encode())
            os._exit(1)
    os.close(log_fd)
    os.close(report)  # the kernel says "ok" once it is its own user and can import ipykernel
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, _frame: os.kill(kernel, signum))
    while True:
        pid, status = os.wait()
        if pid == kernel:  # pid 1 ending ends every other process of the namespace
            os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


def _spawn(req: dict, log_fd: int) -> dict:
    """Fork a waiter that makes the namespaces; its child is their pid 1. Returns that child's pid."""
    read, report = os.pipe()
    waiter = os.fork()
    if waiter == 0:
        try:
            os.close(read)
            _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # the server ended (its worker did): end too
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC), "unshare")
            init = os.fork()
            if init == 0:
                _init(req, log_fd, report)
            os.write(report, f"pid {init}\n".encode())
            os.close(report)
            _, status = os.waitpid(init, 0)
            os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
        except BaseException as e:  # noqa: BLE001 - a child of the server never returns into its loop
            os.write(report, f"error {e}\n".encode())
            os._exit(1)
    os.close(report)
    with os.fdopen(read) as lines:
        said = {word: rest for word, _, rest in (line.rstrip("\n").partition(" ") for line in lines)}
    if "error" in said or "pid" not in said or "ok" not in said:
        return {"error": said.get("error", "the kernel's namespace could not be set up")}
    return {"pid": int(said["pid"])}


def main(argv: list[str]) -> int:
    sock = socket.socket(fileno=int(argv[0]))
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")  # as ipykernel sets it
    for name in argv[1:]:
        with contextlib.suppress(Exception):  # a module this install lacks is simply imported by the kernel
            importlib.import_module(name)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the waiters are reaped by the system
    sock.send(json.dumps({"ready": True}).encode())
    while True:
        msg, fds, _, _ = socket.recv_fds(sock, 65536, 1)
        if not msg:
            return 0  # the worker is gone
        try:
            reply = _spawn(json.loads(msg), fds[0]) if len(fds) == 1 else {"error": "a request needs its log"}
        except Exception as e:  # noqa: BLE001 - one bad request must not end the server
            reply = {"error": f"{type(e).__name__}: {e}"}
        finally:
            for fd in fds:
                os.close(fd)
        sock.send(json.dumps(reply).encode())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
