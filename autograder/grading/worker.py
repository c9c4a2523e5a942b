"""A grading worker process: reads jobs as JSON lines on stdin, autogrades each with nbgrader, answers a line each.

It runs apart from the engine so that whatever a submission does to it (hang past every timeout, kill the
process, exhaust memory) costs that one job and nothing else: the engine restarts a worker and goes on.
Run as ``python -m autograder.grading.worker WORKSPACE``.
"""
from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path

import nbformat
from nbgrader.api import MissingEntry

from ..course.workspace import Workspace
from ..labs import grade_id
from .integrity import check_submission
from .outcome import Outcome


def _cell_notes(folder: Path, cell_timeout: float) -> list[str]:
    notes = []
    for path in sorted(folder.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for index, cell in enumerate(nb.cells):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error" and output.get("ename") == "CellTimeoutError":
                    where = f"cell '{grade_id(cell)}'" if grade_id(cell) else f"cell {index}"
                    notes.append(f"{path.name} {where} ran past the {cell_timeout:g} s limit and was stopped")
    return notes


# nbgrader's log names the low-level exception; say what it means for the student's code.
_FAILURES = {
    "DeadKernelError": "the kernel died while running the notebook (the code ended the process, crashed, "
                       "or ran out of memory)",
    "CellTimeoutError": "a cell ran past the time limit and could not be interrupted (does the code catch "
                        "KeyboardInterrupt?)",
}


def _failure_reason(log: str) -> str:
    for marker, meaning in _FAILURES.items():
        if marker in log:
            return meaning
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("[ERROR]", "[CRITICAL]"))]
    return (errors or lines or ["nbgrader autograde failed without a message"])[-1][:300]


def grade_one(workspace: Workspace, api, assignment: str, student: str, cell_timeout: float) -> Outcome:
    started = time.monotonic()
    outcome = Outcome(assignment, student, "failed")
    submitted = workspace.course / "submitted" / student / assignment
    log_file = workspace.root / "logs" / assignment / f"{student}.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    findings = check_submission(submitted, workspace.course / "source" / assignment)
    outcome.notes = list(findings.fatal)
    if not findings.fatal:
        result = api.autograde(assignment, student)
        log_file.write_text(result.get("log", "") + "\n" + (result.get("error") or ""))
        autograded = workspace.course / "autograded" / student / assignment
        if result.get("success"):
            outcome.status = "graded"
            outcome.notes = findings.notes + _cell_notes(autograded, cell_timeout)
        else:
            outcome.notes = [_failure_reason((result.get("log") or "") + "\n" + (result.get("error") or ""))]
    if outcome.status == "graded":
        with workspace.gradebook() as gradebook:
            try:
                submission = gradebook.find_submission(assignment, student)
            except MissingEntry:
                outcome.status, outcome.notes = "failed", ["nbgrader recorded no grades for this submission"]
            else:
                outcome.score, outcome.max_score = submission.score, submission.max_score
                outcome.late_penalty = submission.late_submission_penalty or 0.0
    outcome.seconds = round(time.monotonic() - started, 2)
    return outcome


def main(argv: list[str]) -> int:
    workspace = Workspace(Path(argv[1]))
    # The result stream is a private copy of stdout; anything else written to stdout goes to stderr instead.
    results = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    api = workspace.api()
    cell_timeout = float(api.config.Execute.get("timeout", 30))
    results.write(json.dumps({"ready": True}) + "\n")  # start-up is not charged to the first job's budget
    for line in sys.stdin:
        job = json.loads(line)
        outcome = grade_one(workspace, api, job["assignment"], job["student"], cell_timeout)
        results.write(json.dumps(asdict(outcome)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
