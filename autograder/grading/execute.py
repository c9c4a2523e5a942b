"""Execute one submission in the sandbox: what a worker does, on this machine or on a Dask worker.

Input and output are plain data (:class:`Payload` in, :class:`Executed` out: notebook JSON and file bytes, no
paths), so the same function runs anywhere. The worker never sees the course, the gradebook or other students;
it executes the notebooks the grader sanitised (nbgrader's own preprocessors restored the test cells) and
returns their outputs. Scores are computed from those outputs by the grader (see :mod:`.record`).
"""
from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat
import psutil
from jupyter_core.utils import run_sync
from nbclient.exceptions import DeadKernelError
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute

from . import forkclient, probes
from .sandbox import (
    SOCKETS,
    GiB,
    Limits,
    MiB,
    SandboxedKernelManager,
    claim_uid,
    probe,
    running_as,
    scratch_root,
    sweep,
)
from .watch import Stop, Watch

KERNEL_ARGS = ["--HistoryManager.hist_file=:memory:"]


@dataclass
class Payload:
    """One submission, shipped to a worker as data."""

    assignment: str
    student: str
    notebooks: dict[str, str]                                  # file name -> sanitised notebook JSON
    files: dict[str, str] = field(default_factory=dict)        # other files: relative path -> base64 bytes
    cell_timeout: float = 30.0
    wall_factor: float = 10.0
    cpu_budget: float = 600.0
    max_output_bytes: int = 2 * MiB
    limits: dict = field(default_factory=lambda: asdict(Limits()))


@dataclass
class Executed:
    """What executing one submission came to (JSON-able)."""

    notebooks: dict[str, str]
    stops: list[dict] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)   # integrity probes and output caps
    sandbox: str = ""
    peak_memory: int = 0
    cpu_seconds: float = 0.0
    seconds: float = 0.0


class SandboxedExecute(Execute):
    """nbgrader's Execute, timed by a :class:`Watch` instead of nbclient's wall-clock timeout, with its
    output capped while it streams in (a kernel can print gigabytes; the grader must not hold them)."""

    def __init__(self, watch: Watch, max_output_bytes: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.watch, self.max_output_bytes = watch, max_output_bytes
        self.output_bytes, self.cut_cells, self.exited = 0, set(), None

    def on_cell_execute(self, cell, cell_index, **_) -> None:
        self.watch.start_cell(cell_index)

    def on_cell_executed(self, **kwargs) -> None:
        self.watch.end_cell()
        super().on_cell_executed(**kwargs)
        # exit() asks the kernel to end *some time after* the cell: end it now, so the result is deterministic
        if any(p.get("source") == "ask_exit" for p in kwargs["execute_reply"]["content"].get("payload", [])):
            self.exited = kwargs["cell_index"]
            self.watch.kill()
            raise DeadKernelError("the notebook called exit()")

    def output(self, outs, msg, display_id, cell_index):
        size = len(str(msg.get("content", "")))
        if self.output_bytes + size > self.max_output_bytes and msg["msg_type"] != "error":
            if cell_index not in self.cut_cells:
                self.cut_cells.add(cell_index)
                outs.append(new_output("stream", name="stdout", text=f"\n[output cut: the notebook reached the "
                                       f"{self.max_output_bytes / MiB:g} MiB output limit]\n"))
            return None
        self.output_bytes += size
        return super().output(outs, msg, display_id, cell_index)


def _mark_not_run(nb: nbformat.NotebookNode, reason: str) -> None:
    """Cells that never ran get an error, so a test cell after a dead kernel scores 0, not full marks."""
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.strip() and not cell.get("execution_count"):
            cell.outputs = [*cell.get("outputs", []), new_output("error", ename="NotRun", evalue=reason,
                                                              traceback=[f"NotRun: {reason}"])]


class Slot:
    """A private folder and a kernel started in it before its submission arrives (used once, then ended)."""

    def __init__(self, limits: Limits) -> None:
        self.uid, self._claim = claim_uid()
        sweep(self.uid)
        scratch_root().mkdir(parents=True, exist_ok=True)
        self.root = Path(tempfile.mkdtemp(prefix=f"substrate-sandbox-{self.uid}-", dir=scratch_root()))
        self.work = self.root / "work"
        self.work.mkdir()
        self.runtime = Path(tempfile.mkdtemp(prefix=f"substrate-run-{self.uid}-", dir=SOCKETS))
        for folder in (self.work, self.runtime):
            if os.geteuid() == 0:
                os.chown(folder, self.uid, self.uid)
        self.forked = forkclient.server(limits)
        try:
            self._start(limits)
        except forkclient.ForkError as e:
            forkclient.give_up(str(e))
            self.forked = None
            self._start(limits)

    def _start(self, limits: Limits) -> None:
        # The kernel's own stdout/stderr (not cell output) go to a file the file-size limit bounds.
        self.km = SandboxedKernelManager(workdir=str(self.work), runtime=str(self.runtime),
                                         kernel_log=str(self.root / "kernel.log"), sandbox_limits=limits,
                                         sandbox_user=self.uid, forkserver=self.forked)
        run_sync(self.km.start_kernel)(extra_arguments=KERNEL_ARGS)

    def close(self) -> None:
        if self._claim is None:
            return
        process = getattr(self.km.provisioner, "process", None)
        if isinstance(process, forkclient.ForkedKernel):  # at once: jupyter_client would poll every 0.1 s for it
            with contextlib.suppress(OSError):
                process.kill()
                process.wait(10)
        with contextlib.suppress(Exception):
            run_sync(self.km.shutdown_kernel)(now=True)
        # Without bubblewrap nothing else ends a detached child: end whatever still runs as this slot's user.
        for p in running_as(self.uid):
            with contextlib.suppress(psutil.Error):
                p.kill()
        shutil.rmtree(self.root, ignore_errors=True)
        shutil.rmtree(self.runtime, ignore_errors=True)
        os.close(self._claim)  # the user is free for the next kernel
        self._claim = None


def _write_files(work: Path, files: dict[str, str], uid: int) -> None:
    for name, data in files.items():
        target = work / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(data))
    if os.geteuid() == 0:
        for path in [work, *work.rglob("*")]:
            os.chown(path, uid, uid)


def _run_notebook(slot: Slot, text: str, payload: Payload, limits: Limits) -> tuple[str, Stop | None, list[str],
                                                                                   Watch]:
    # the grader wrote and validated this notebook; validating it again here cost a fifth of the worker's CPU
    nb = nbformat.v4.reads(text)
    planted = probes.plant(nb)
    process = slot.km.provisioner.process
    watch = Watch(process.pid, limit=payload.cell_timeout, wall_factor=payload.wall_factor,
                  cpu_budget=payload.cpu_budget, memory_budget=limits.memory_bytes,
                  kernel_pid=getattr(process, "kernel_pid", None))
    watch.start()
    executor = SandboxedExecute(watch, payload.max_output_bytes, timeout=None, startup_timeout=600,
                                interrupt_on_timeout=False)
    findings: list[str] = []
    try:
        executor.preprocess(nb, {"metadata": {"path": str(slot.work)}}, km=slot.km)
        ran_to_end = watch.stop is None
    except DeadKernelError:
        ran_to_end = False
    finally:
        watch.finish()
        if getattr(executor, "kc", None) is not None:  # nbclient leaves a client it did not start running
            executor.kc.stop_channels()
    if not ran_to_end:
        if executor.exited is not None:
            reason = f"the notebook called exit() in cell {executor.exited}; the kernel ended there"
        elif watch.stop:
            reason = watch.stop.sentence(payload.cell_timeout)
        else:
            reason = (f"the kernel died in cell {watch.last_cell} (the code ended the process, crashed, or ran "
                      "out of memory)")
        _mark_not_run(nb, f"not run: {reason}")
        if not watch.stop:
            findings.append(reason)
    findings += probes.check(nb, planted)
    if executor.cut_cells:
        findings.append(f"output cut at {payload.max_output_bytes / MiB:g} MiB")
    return json.dumps(nb), watch.stop, findings, watch  # validated by the grader when it reads it back


def execute(payload: Payload, slot: Slot | None = None) -> Executed:
    """Execute every notebook of one submission, each in a fresh sandboxed kernel; always returns."""
    started = time.monotonic()
    limits = Limits(**payload.limits)
    result = Executed(notebooks={}, sandbox=probe().message)
    for n, (name, text) in enumerate(sorted(payload.notebooks.items())):
        slot = slot if (n == 0 and slot is not None) else Slot(limits)
        result.sandbox = probe().message + (forkclient.NOTE if slot.forked else "")
        try:
            _write_files(slot.work, payload.files, slot.uid)
            executed, stop, findings, watch = _run_notebook(slot, text, payload, limits)
        finally:
            slot.close()
        result.notebooks[name] = executed
        result.stops += [asdict(stop)] if stop else []
        result.findings += [f"{name}: {f}" for f in findings]
        result.peak_memory = max(result.peak_memory, watch.peak_memory)
        result.cpu_seconds += round(watch.cpu, 2)
    result.seconds = round(time.monotonic() - started, 2)
    return result


__all__ = ["GiB", "Executed", "Payload", "Slot", "execute"]
