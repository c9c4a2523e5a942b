"""The budget watch: stops a cell by the kernel's own time, not by the wall clock of a busy machine.

A cell's *own time* is its wall time minus the time its kernel waited in the run queue for a CPU
(``/proc/<pid>/schedstat``): a runaway loop accrues it at full speed, a correct cell on a machine with six
other jobs accrues it only while it actually runs, and ``sleep`` accrues it too (sleeping is the code's
choice). A cell whose own time passes the limit is interrupted, then killed with its whole sandbox if it
ignores the interrupt. A hard wall cap (``wall_factor`` times the limit) still stops a cell on a machine so
overloaded that the kernel barely ran; that stop is labelled "overloaded" so the engine regrades the
submission alone instead of blaming the student. The watch also caps the sandbox's total CPU (a background
process spinning between cells) and its total memory, and records peak memory.
"""
from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import psutil

GRACE_SECONDS = 3.0  # after an interrupt, before the sandbox is killed
TREE_EVERY = 5       # samples between two searches for the sandbox's processes (the known ones: every sample)


@dataclass
class Stop:
    kind: str            # "limit" (own time), "overloaded" (wall cap), "cpu" (sandbox CPU), "memory"
    cell: int | None
    own: float
    wall: float
    cpu: float
    memory_mib: float = 0.0

    def sentence(self, limit: float) -> str:
        where = f"cell {self.cell}" if self.cell is not None else "the notebook"
        if self.kind == "limit":
            return (f"your code ran past the {limit:g} s limit in {where} ({self.own:.1f} s of its own time, "
                    f"{self.cpu:.1f} s CPU) and was stopped")
        if self.kind == "overloaded":
            return (f"the grader was overloaded: {where} got only {self.own:.1f} s of its own time in "
                    f"{self.wall:.0f} s; not the code's fault")
        if self.kind == "cpu":
            return f"the notebook's processes used {self.cpu:.0f} s of CPU in all, past the budget, and were stopped"
        return f"the notebook's processes used more memory than allowed ({self.memory_mib:.0f} MiB) and were stopped"


def _schedstat(pid: int) -> tuple[float, float]:
    """(seconds on a CPU, seconds waiting for one) of a process's main thread."""
    with open(f"/proc/{pid}/task/{pid}/schedstat") as f:
        on_cpu, waited, _ = f.read().split()
    return int(on_cpu) / 1e9, int(waited) / 1e9


class Watch(threading.Thread):
    """Polls the sandbox rooted at ``root_pid``; ``kernel_pid`` is the Python kernel inside it (found in the
    tree by its command line when not given)."""

    def __init__(self, root_pid: int, *, limit: float, wall_factor: float, cpu_budget: float,
                 memory_budget: int, kernel_pid: int | None = None, clock: Callable[[], float] = time.monotonic,
                 interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.root, self.limit, self.wall_factor = psutil.Process(root_pid), limit, wall_factor
        self.cpu_budget, self.memory_budget = cpu_budget, memory_budget
        self.clock, self.interval = clock, interval
        self.kernel_pid = kernel_pid
        self.cell: int | None = None
        self.last_cell: int | None = None
        self.stop: Stop | None = None
        self.peak_memory = 0
        self.cpu = 0.0
        self._samples, self._known = 0, []
        self._done = threading.Event()
        self._cell_start: tuple[float, float] = (0.0, 0.0)
        self._interrupted_at: float | None = None
        self._lock = threading.Lock()

    def _tree(self) -> list[psutil.Process]:
        with contextlib.suppress(psutil.Error):
            return [self.root, *self.root.children(recursive=True)]
        return []

    def _sample(self) -> tuple[float, int]:
        cpu, rss = 0.0, 0
        self._samples += 1
        if self._samples % TREE_EVERY == 1:  # finding the tree reads every process of the machine
            self._known = self._tree()
        for p in self._known:
            with contextlib.suppress(psutil.Error), p.oneshot():
                t = p.cpu_times()
                cpu += t.user + t.system + t.children_user + t.children_system
                rss += p.memory_info().rss
                if self.kernel_pid is None and p.name() not in ("bwrap", "prlimit", "setpriv") \
                            and "ipykernel_launcher" in p.cmdline():
                    self.kernel_pid = p.pid
        return cpu, rss

    def _proportional(self) -> int:
        """Memory the sandbox's processes really hold: forked processes share pages, which resident sizes count
        once per process (a kernel forked 50 times is not 50 kernels' memory). Costlier than the resident sizes,
        which are never below it: read only when they pass the budget."""
        total = 0
        for p in self._tree():
            with contextlib.suppress(psutil.Error):
                total += p.memory_full_info().pss
        return total

    def _kernel_gone(self) -> bool:
        if self.kernel_pid is None:
            return False
        with contextlib.suppress(psutil.Error):
            return psutil.Process(self.kernel_pid).status() == psutil.STATUS_ZOMBIE
        return True

    def _waited(self) -> float:
        with contextlib.suppress(OSError, TypeError):
            return _schedstat(self.kernel_pid)[1]
        return 0.0

    def start_cell(self, index: int) -> None:
        with self._lock:
            self.cell, self.last_cell = index, index
            self._cell_start, self._interrupted_at = (self.clock(), self._waited()), None

    def end_cell(self) -> None:
        with self._lock:
            self.cell = None

    def finish(self) -> None:
        self._done.set()
        self.join()

    def kill(self) -> None:
        """End the sandbox: its outer process; bubblewrap's --die-with-parent takes the namespace down."""
        for p in reversed(self._tree()):
            with contextlib.suppress(psutil.Error):
                p.kill()

    def _halt(self, stop: Stop, now: float) -> None:
        if self.stop is None:
            self.stop = stop
        if stop.kind in ("cpu", "memory"):
            self.kill()
        elif self._interrupted_at is None:
            self._interrupted_at = now
            with contextlib.suppress(OSError, TypeError):
                os.kill(self.kernel_pid, signal.SIGINT)
        elif now - self._interrupted_at > GRACE_SECONDS * (self.wall_factor if stop.kind == "overloaded" else 1):
            self.kill()  # it swallowed the interrupt

    def run(self) -> None:
        first_cpu = None
        while not self._done.wait(self.interval):
            cpu, rss = self._sample()
            first_cpu = cpu if first_cpu is None else first_cpu
            # processes that ended leave the sum: CPU used so far is the largest sum seen
            self.cpu, self.peak_memory = max(self.cpu, cpu - first_cpu), max(self.peak_memory, rss)
            now = self.clock()
            with self._lock:
                if rss > self.memory_budget and (used := self._proportional()) > self.memory_budget:
                    self._halt(Stop("memory", self.cell, 0, 0, self.cpu, used / 2**20), now)
                elif self.cpu > self.cpu_budget:
                    self._halt(Stop("cpu", self.cell, 0, 0, self.cpu), now)
                elif self.cell is not None and not self._kernel_gone():  # a dead kernel is not a slow one
                    started, waited0 = self._cell_start
                    wall = now - started
                    own = wall - (self._waited() - waited0)
                    if own > self.limit:
                        self._halt(Stop("limit", self.cell, own, wall, self.cpu), now)
                    elif wall > self.limit * self.wall_factor:
                        self._halt(Stop("overloaded", self.cell, own, wall, self.cpu), now)
