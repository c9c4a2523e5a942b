"""`make hub`: a classroom on this machine. Lays it out, starts JupyterHub, prints the URL and the accounts;
Ctrl-C stops the hub, every user server and kernel it started, and the proxy."""
from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from autograder.labs import LABS_DIR

from . import classroom
from .accounts import Account

CONFIG = classroom.HUB_DIR / "jupyterhub_config.py"
PROXY = classroom.HUB_DIR / "node_modules/.bin/configurable-http-proxy"


class HubError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(url: str, hub: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if hub.poll() is not None:
            raise HubError(f"JupyterHub exited with status {hub.returncode}; see its log")
        try:
            with urllib.request.urlopen(f"{url}/hub/api/", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise HubError(f"JupyterHub did not answer at {url} within {timeout:.0f} s")


def processes_of(root: str) -> list[int]:
    """Every process started for this classroom: the hub passes SUBSTRATE_HUB_ROOT to the proxy, the user
    servers, their kernels and terminals."""
    marker = f"SUBSTRATE_HUB_ROOT={root}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and int(proc.name) != os.getpid():
            try:
                if marker in (proc / "environ").read_bytes().split(b"\0"):
                    found.append(int(proc.name))
            except OSError:
                continue  # gone, or not ours to read
    return found


def stop(hub: subprocess.Popen, root: str, grace: float = 20) -> None:
    """Ask the hub to stop (it stops the user servers and the proxy), then end whatever is still running."""
    if hub.poll() is None:
        hub.send_signal(signal.SIGTERM)
        try:
            hub.wait(grace)
        except subprocess.TimeoutExpired:
            hub.kill()
            hub.wait()
    for sig in (signal.SIGTERM, signal.SIGKILL):
        left = processes_of(root)
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + 5
        while left and time.monotonic() < deadline:
            time.sleep(0.1)
            left = processes_of(root)
        if not left:
            return


def _interrupt(signum, frame):
    raise KeyboardInterrupt  # SIGTERM stops the classroom as Ctrl-C does


def banner(room: classroom.Classroom, accounts: list[Account]) -> str:
    root = Path(room.root)
    lines = [f"Classroom ready at {room.url}/  (course {room.course_id}, Ctrl-C stops it)", "",
             "  account     password"]
    lines += [f"  {a.name:<11} {a.password}   ({a.role})" for a in accounts]
    lines += ["", f"Accounts file: {root / 'accounts.json'}   hub log: {root / 'state/jupyterhub.log'}",
              f"Course (instructor): {room.workspace.course}   exchange: {room.exchange}",
              "Students: Nbgrader > Assignment List to fetch and submit; Validate in the notebook toolbar.",
              "Instructor: Nbgrader > Formgrader; `substrate-labs grade` in a terminal grades what was collected."]
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="make hub", description=__doc__)
    p.add_argument("--root", type=Path, default=Path("build/hub"), help="classroom folder (default: build/hub)")
    p.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (0: any free port; default 8000)")
    p.add_argument("--students", nargs="+", default=["student1", "student2", "student3"], metavar="NAME",
                   help="student accounts (default: student1 student2 student3)")
    p.add_argument("--course-id", default="substrate-labs", help="nbgrader course id")
    p.add_argument("--labs-dir", type=Path, default=LABS_DIR, help=f"lab sources (default: {LABS_DIR})")
    p.add_argument("--labs", nargs="+", metavar="LAB", help="labs to release (default: all)")
    p.add_argument("--ready-timeout", type=float, default=120, help="seconds to wait for the hub to answer")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not PROXY.exists():
        print(f"make hub: error: no configurable-http-proxy at {PROXY}: run `make hub` (it runs npm ci)",
              file=sys.stderr)
        return 2
    if not args.labs_dir.is_dir():
        print(f"make hub: error: no labs folder at {args.labs_dir}", file=sys.stderr)
        return 2
    port = args.port or free_port()
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", port)) == 0:
            print(f"make hub: error: port {port} is in use; choose another with --port", file=sys.stderr)
            return 2
    try:
        room, accounts = classroom.prepare(args.root, ports=(port, free_port(), free_port()), students=args.students,
                                           course_id=args.course_id, labs_dir=args.labs_dir, labs=args.labs)
    except (subprocess.CalledProcessError, ValueError, RuntimeError) as error:
        print(f"make hub: error: could not lay out the classroom: {error}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even where a shell started us with SIGINT ignored
    env = {**os.environ, "SUBSTRATE_HUB_ROOT": room.root}
    # Its own session: Ctrl-C reaches this launcher only, which then stops the hub in order.
    log_path = Path(room.root) / "state" / "jupyterhub.log"
    with open(log_path, "ab") as log:
        hub = subprocess.Popen([str(Path(sys.executable).parent / "jupyterhub"), "-f", str(CONFIG)],
                               cwd=log_path.parent, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        _wait_ready(room.url, hub, args.ready_timeout)
        print(banner(room, accounts), flush=True)
        hub.wait()
        print(f"make hub: JupyterHub exited with status {hub.returncode}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping the classroom ...", flush=True)
        return 0
    except HubError as error:
        print(f"make hub: error: {error} ({log_path})", file=sys.stderr)
        return 1
    finally:
        stop(hub, room.root)


if __name__ == "__main__":
    sys.exit(main())
