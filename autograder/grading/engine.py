"""The grading engine: prepare each submission, execute it in a sandbox, record it; one bad submission costs
one result.

The pipeline has three stages, each in its own module: :mod:`.prepare` (in this process: nbgrader's sanitising
preprocessors, the integrity preflight, the payload as bytes), a backend (:mod:`.backends`: N local worker
processes or a Dask cluster running :mod:`.execute` in bubblewrap), and :mod:`.record` (in this process only:
nbgrader's scoring and the gradebook). A submission stopped because the *machine* was overloaded (its kernel
barely ran) or because the grading machinery failed is graded again alone, with a longer wall cap, before
anything is reported; only then is it reported failed, saying whose fault it was.
"""
from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from ..course.workspace import Workspace
from ..progress import bar as progress_bar
from . import prepare
from .backends import DaskBackend, LocalPool, WorkerError
from .execute import Payload
from .outcome import Outcome
from .record import record
from .sandbox import probe
from .watch import Stop

__all__ = ["Job", "WorkerError", "grade", "load", "save", "submitted_jobs"]
REGRADE_WALL_FACTOR = 4  # how much longer the wall cap is when a submission is regraded alone
LOG_BYTES = 1024 * 1024  # per log: a submission's nbgrader log; the workers' log is rotated past 5x this


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


def _needs_regrade(answer: dict | str) -> bool:
    """The machine's fault, not the code's: a failed worker, or a cell stopped by the overload cap."""
    return isinstance(answer, str) or any(s["kind"] == "overloaded" for s in answer["stops"])


def _outcome(workspace: Workspace, api, payload: Payload, answer: dict | str, prepared: prepare.Prepared,
             regraded: bool) -> Outcome:
    outcome = Outcome(payload.assignment, payload.student, "failed", notes=list(prepared.notes), regraded=regraded)
    if isinstance(answer, str):
        outcome.notes.insert(0, f"grader failure, not the student's: {answer}"
                                + (" (also when graded again alone)" if regraded else ""))
        return outcome
    stops = [Stop(**s) for s in answer["stops"]]
    outcome.notes += [s.sentence(payload.cell_timeout) for s in stops] + answer["findings"]
    outcome.seconds, outcome.cpu_seconds = answer["seconds"], answer["cpu_seconds"]
    outcome.peak_memory_mib = round(answer["peak_memory"] / 2**20, 1)
    outcome.sandbox = answer["sandbox"]
    outcome.integrity = "tampering detected" if any("replaced" in f or "hides" in f or "reported success" in f
                                                    for f in answer["findings"]) else "clean"
    if regraded and any(s.kind == "overloaded" for s in stops):
        outcome.notes.insert(0, "the grader was overloaded even when this submission was graded alone; grade it "
                                "again on a quieter machine (the student's code is not at fault)")
        return outcome
    result = record(workspace, api, payload, answer["notebooks"])
    log = workspace.root / "logs" / payload.assignment / f"{payload.student}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text((prepared.log + (result.get("log") or ""))[-LOG_BYTES:] + "\n"
                   + (result.get("error") or "")[-LOG_BYTES:])
    if not result.get("success"):
        lines = [x for x in ((result.get("error") or "") + "\n" + (result.get("log") or "")).splitlines()
                 if x.strip()]
        outcome.notes.insert(0, f"nbgrader could not record the grades: {(lines or ['no message'])[-1][:300]}")
        return outcome
    outcome.status = "graded"
    outcome.score, outcome.max_score = result["score"], result["max_score"]
    outcome.late_penalty = result["late_penalty"]
    return outcome


def _backend(workers: int, dask: str | None, log, job_timeout: float):
    if dask:
        return DaskBackend(None if dask == "local" else dask, workers)
    return LocalPool(workers, log, job_timeout)


def grade(workspace: Workspace, jobs: list[Job], *, workers: int | None = None, dask: str | None = None,
          job_timeout: float = 600, show_progress: bool = True, settings: prepare.Settings | None = None
          ) -> list[Outcome]:
    """Grade each job; always returns one outcome per job, in the order of ``jobs``.

    ``dask`` is a scheduler address, or ``"local"`` for a LocalCluster of ``workers`` processes.
    """
    workers = workers or os.cpu_count() or 1
    log_dir = workspace.root / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    api = workspace.api()
    settings = settings or prepare.settings_from_course(workspace)
    outcomes: dict[Job, Outcome] = {}
    prepared_jobs: dict[Job, prepare.Prepared] = {}  # until recorded: a class is not held in memory
    bar = progress_bar(len(jobs), "grading", show=show_progress)

    def prepared() -> Iterator[Payload]:
        """Payloads made as the backend asks for them, so the first sandboxes start at once; a submission
        that cannot be graded as it is gets its outcome here and never reaches a sandbox."""
        for job in jobs:
            try:
                prepared_jobs[job] = prepare.payload(workspace, api.config, job.assignment, job.student, settings)
            except prepare.Unfit as unfit:
                outcomes[job] = Outcome(job.assignment, job.student, "failed", notes=[str(unfit)],
                                        sandbox=probe().message)
                _discard(workspace, job)
                bar.update()
            else:
                yield prepared_jobs[job].payload

    again: list[Payload] = []
    worker_log = log_dir / "worker.log"
    if worker_log.exists() and worker_log.stat().st_size > 5 * LOG_BYTES:
        worker_log.replace(log_dir / "worker.log.1")  # one old log kept: bounded, and the last run's is there
    with open(worker_log, "a") as log:
        for payload, answer in _backend(workers, dask, log, job_timeout).run(prepared()):
            job = Job(payload.assignment, payload.student)
            if _needs_regrade(answer):
                again.append(replace(payload, wall_factor=payload.wall_factor * REGRADE_WALL_FACTOR))
                continue
            outcomes[job] = _outcome(workspace, api, payload, answer, prepared_jobs.pop(job), regraded=False)
            bar.set_postfix_str(f"{job.student} {job.assignment}")
            bar.update()
        for payload, answer in LocalPool(1, log, job_timeout * REGRADE_WALL_FACTOR).run(again):
            job = Job(payload.assignment, payload.student)
            outcomes[job] = _outcome(workspace, api, payload, answer, prepared_jobs.pop(job), regraded=True)
            bar.update()
    bar.close()
    return [outcomes[job] for job in jobs]


def _discard(workspace: Workspace, job: Job) -> None:
    """No half-graded output is left for feedback to be made from (nbgrader does the same when it fails)."""
    shutil.rmtree(workspace.course / "autograded" / job.student / job.assignment, ignore_errors=True)


def save(outcomes: list[Outcome], path: Path) -> None:
    """Merge outcomes into a JSON report, newest result per (assignment, student) winning."""
    existing = json.loads(path.read_text()) if path.exists() else []
    merged = {(o["assignment"], o["student"]): o for o in existing}
    merged.update({(o.assignment, o.student): asdict(o) for o in outcomes})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(sorted(merged.values(), key=lambda o: (o["assignment"], o["student"])), indent=2))


def load(path: Path) -> list[Outcome]:
    return [Outcome(**o) for o in json.loads(path.read_text())] if path.exists() else []
