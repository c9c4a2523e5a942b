"""Grades out of the gradebook: nbgrader's CSV export and a student x lab score table for the terminal."""
from __future__ import annotations

import csv
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import CsvExportPlugin

from ..course.workspace import Workspace
from ..grading.outcome import Outcome


def export_csv(workspace: Workspace, destination: Path) -> Path:
    """nbgrader's own CSV export: one row per student and assignment (0 where nothing was submitted)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    with workspace.gradebook() as gradebook:
        CsvExportPlugin(to=str(destination)).export(gradebook)
    return destination


def export_notes(outcomes: list[Outcome], destination: Path) -> Path:
    """What the grades CSV cannot say: which submissions failed to grade and why, and what else was noticed.

    nbgrader's export shows 0 for a submission it could not grade; this file tells a 0 earned from a 0 failed.
    """
    with open(destination, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["assignment", "student", "status", "score", "max_score", "late_penalty", "notes"])
        for o in outcomes:
            writer.writerow([o.assignment, o.student, o.status, o.score, o.max_score, o.late_penalty,
                             " | ".join(o.notes)])
    return destination


def _cell(gradebook: Gradebook, outcome: Outcome | None, assignment: str, student: str) -> str:
    if outcome is not None and outcome.status == "failed":
        return "failed"
    try:
        submission = gradebook.find_submission(assignment, student)
    except MissingEntry:
        return "—"
    penalty = submission.late_submission_penalty or 0
    text = f"{submission.score - penalty:g}/{submission.max_score:g}"
    if submission.needs_manual_grade:
        text += "*"
    if penalty:
        text += f" (late −{penalty:g})"
    return text


def score_table(workspace: Workspace, outcomes: list[Outcome]) -> str:
    """Students down, labs across, scores after any late penalty; then the notes that explain the marks."""
    by_key = {(o.assignment, o.student): o for o in outcomes}
    with workspace.gradebook() as gradebook:
        assignments = [a.name for a in gradebook.assignments]
        students = sorted(s.id for s in gradebook.students)
        rows = [[s] + [_cell(gradebook, by_key.get((a, s)), a, s) for a in assignments] for s in students]
    header = ["student"] + assignments
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    lines = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in [header] + rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines += ["", "* written answers still to grade by hand (formgrader); scores are after late penalties."]
    notes = [f"  {o.student} / {o.assignment}: {note}" for o in outcomes for note in o.notes]
    if notes:
        lines += ["", "Notes:"] + notes
    return "\n".join(lines)
