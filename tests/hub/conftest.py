"""A real classroom for the browser test: `make hub`'s launcher on free loopback ports, a tiny lab, two students.

Real components only: JupyterHub with configurable-http-proxy (npm), nbgrader's lab extension and formgrader,
and Debian's Chromium driven by Playwright (no browser download). The classroom is stopped as a person stops
`make hub` (SIGINT), and the test fails if any process it started is left.
"""
from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from hubtest import CHROMIUM, REPO, SHOTS, tiny_lab

from deploy.hub.accounts import Account, load
from deploy.hub.classroom import Classroom
from deploy.hub.launch import PROXY, processes_of


@dataclass
class Hub:
    url: str
    room: Classroom
    accounts: dict[str, Account]
    log: Path


def _wait_for_banner(proc: subprocess.Popen, timeout: float) -> str:
    lines: queue.Queue[str | None] = queue.Queue()

    def read():
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    seen = []
    while True:
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"the classroom did not start in {timeout} s: {''.join(seen)[-2000:]}") from None
        if line is None:
            raise AssertionError(f"the launcher exited with {proc.wait()}: {''.join(seen)[-2000:]}")
        seen.append(line)
        found = re.search(r"Classroom ready at (http://127\.0\.0\.1:\d+)/", line)
        if found:
            return found.group(1)


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    missing = [str(p) for p in (CHROMIUM, PROXY) if not p.exists()]
    if missing:
        pytest.skip(f"needs {', '.join(missing)}: `make test` installs them (apt chromium, npm ci in deploy/hub)")
    base = tmp_path_factory.mktemp("hub")
    tiny_lab(base / "labs")
    root = base / "classroom"
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "JPY_"))}
    proc = subprocess.Popen([sys.executable, "-m", "deploy.hub.launch", "--root", str(root), "--port", "0",
                             "--students", "alice", "bob", "--labs-dir", str(base / "labs"),
                             "--course-id", "cs-e2e"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        url = _wait_for_banner(proc, timeout=240)
        room = Classroom.load(root.resolve())
        yield Hub(url, room, {a.name: a for a in load(root / "accounts.json")}, root / "state/jupyterhub.log")
    finally:
        proc.send_signal(signal.SIGINT)  # what Ctrl-C on `make hub` does
        proc.wait(90)
    left = processes_of(str(root.resolve()))
    assert not left, f"processes left running after the classroom stopped: {left}"


@pytest.fixture(scope="module")
def browser(hub):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--disable-dev-shm-usage"])
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failure, a screenshot of every open page: what the browser showed when it went wrong."""
    report = yield
    pages = item.funcargs.get("pages") if report.when == "call" and report.failed else None
    for account, page in getattr(pages, "opened", {}).items():
        page.screenshot(path=str(SHOTS / f"FAILED-{item.name}-{account}.png"))
    return report
