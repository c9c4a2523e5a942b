"""The grading engine: autograde every submission in a worker process, so one bad submission costs one result.

nbgrader's own ``autograde`` stops or skips students when a submission is broken in some ways (a corrupt file,
a loop that swallows interrupts, a crashed kernel). The engine feeds jobs to a worker one at a time, gives each
a wall-clock budget, and when a worker hangs or dies it records that student's failure, starts a fresh worker
and carries on. ``submitted/`` is only ever read. A kernel left behind by a killed worker exits by itself:
ipykernel watches its parent process.
"""
from __future__ import annotations

import contextlib
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import time
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path

from ..course.workspace import Workspace
from ..progress import bar as progress_bar
from .outcome import Outcome


@dataclass(frozen=True)
class Job:
    assignment: str
    student: str


def submitted_jobs(workspace: Workspace, assignments: list[str] | None = None) -> list[Job]:
    """Every (assignment, student) pair in submitted/, in a stable order."""
    root = workspace.course / "submitted"
    if not root.exists():
        return []
    jobs = [Job(a.name, s.name) for s in sorted(root.iterdir()) if s.is_dir()
            for a in sorted(s.iterdir()) if a.is_dir()]
    wanted = set(assignments or [])
    return sorted((j for j in jobs if not wanted or j.assignment in wanted),
                  key=lambda j: (j.assignment, j.student))


class WorkerError(RuntimeError):
    """A grading worker could not start: the environment is broken, not a submission."""


class _Worker:
    def __init__(self, workspace: Workspace, stderr, startup_timeout: float = 120) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "autograder.grading.worker", str(workspace.root)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, text=True, start_new_session=True)
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.process.stdout, selectors.EVENT_READ)
        if not isinstance(self._answer(startup_timeout), dict):
            self.stop(kill=True)
            raise WorkerError(f"the grading worker did not start; see {stderr.name}")

    def _answer(self, timeout: float) -> dict | str:
        """The worker's next line, or why there is none: "silent" (not in time) or "died"."""
        if not self.selector.select(timeout):
            return "silent"
        line = self.process.stdout.readline()
        return json.loads(line) if line else "died"

    def ask(self, job: Job, timeout: float) -> dict | str:
        """The worker's answer, or a sentence saying why there is none."""
        self.process.stdin.write(json.dumps(asdict(job)) + "\n")
        self.process.stdin.flush()
        answer = self._answer(timeout)
        if answer == "died":
            return f"the grading process died (exit code {self.process.wait()}) while running this submission"
        if answer == "silent":
            return f"grading took longer than the {timeout:g} s budget for one submission and was stopped"
        return answer

    def stop(self, kill: bool = False) -> None:
        if kill:
            # The worker's session; a kernel has a session of its own and exits when its parent is gone.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        else:
            self.process.stdin.close()
        self.process.wait()
        self.selector.close()


def _discard_partial_grading(workspace: Workspace, job: Job) -> None:
    """Remove what a stopped worker half wrote to autograded/ (derived data, never the submission), so no
    feedback is made from it; nbgrader does the same when it fails by itself."""
    partial = workspace.course / "autograded" / job.student / job.assignment
    if partial.exists():
        shutil.rmtree(partial)


def grade(workspace: Workspace, jobs: list[Job], *, job_timeout: float = 600, show_progress: bool = True
          ) -> list[Outcome]:
    """Autograde each job; always returns one outcome per job, in order."""
    log_dir = workspace.root / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    outcomes: list[Outcome] = []
    pending = deque(jobs)
    bar = progress_bar(len(jobs), "grading", show=show_progress)
    with open(log_dir / "worker.log", "a") as stderr:
        while pending:
            worker = _Worker(workspace, stderr)
            while pending:
                job = pending.popleft()
                bar.set_postfix_str(f"{job.student} {job.assignment}")
                started = time.monotonic()
                answer = worker.ask(job, job_timeout)
                bar.update()
                if isinstance(answer, dict):
                    outcomes.append(Outcome(**answer))
                    continue
                outcomes.append(Outcome(job.assignment, job.student, "failed", notes=[answer],
                                        seconds=round(time.monotonic() - started, 2)))
                worker.stop(kill=True)
                _discard_partial_grading(workspace, job)
                break
            else:
                worker.stop()
    bar.close()
    return outcomes


def save(outcomes: list[Outcome], path: Path) -> None:
    """Merge outcomes into a JSON report, newest result per (assignment, student) winning."""
    existing = json.loads(path.read_text()) if path.exists() else []
    merged = {(o["assignment"], o["student"]): o for o in existing}
    merged.update({(o.assignment, o.student): asdict(o) for o in outcomes})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(sorted(merged.values(), key=lambda o: (o["assignment"], o["student"])), indent=2))


def load(path: Path) -> list[Outcome]:
    return [Outcome(**o) for o in json.loads(path.read_text())] if path.exists() else []
