"""Grades out of the gradebook: nbgrader's CSV export and a student x lab score table for the terminal."""
from __future__ import annotations

import csv
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import CsvExportPlugin

from ..course.workspace import CourseError, Workspace
from ..grading.outcome import Outcome

CSV_NAME = "grades.csv"
CSV_HEADER = ("assignment,duedate,timestamp,student_id,last_name,first_name,email,raw_score,"
              "late_submission_penalty,score,max_score")  # nbgrader's CsvExportPlugin


def csv_destination(to: Path, force: bool = False) -> Path:
    """Where the grades CSV goes: ``to`` itself, or ``to/grades.csv`` when ``to`` is a folder (an existing one,
    or a new path without ``.csv``: it is created).

    An existing file is replaced only when it is an earlier grades CSV (nbgrader's header), or with ``force``.
    """
    folder = to.is_dir() or (not to.exists() and to.suffix.lower() != ".csv")
    destination = to / CSV_NAME if folder else to
    if destination.is_dir():
        raise CourseError(f"{destination} is a folder; give --to a CSV file name or a folder without {CSV_NAME}")
    if destination.exists() and not force:
        with open(destination, errors="replace") as f:
            first = f.readline().strip()
        if first != CSV_HEADER:
            raise CourseError(f"{destination} exists and is not a grades CSV written by export; nothing was "
                              "written. Choose another --to, or pass --force to replace it")
    return destination


def export_csv(workspace: Workspace, destination: Path) -> Path:
    """nbgrader's own CSV export: one row per student and assignment (0 where nothing was submitted)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    with workspace.gradebook() as gradebook:
        CsvExportPlugin(to=str(destination)).export(gradebook)
    return destination


def _released(workspace: Workspace, assignment: str) -> bool:
    return (workspace.exchange / workspace.course_id / "outbound" / assignment).is_dir()


def export_notes(workspace: Workspace, outcomes: list[Outcome], destination: Path) -> Path:
    """What the grades CSV cannot say: which submissions failed to grade and why, which labs were not released
    or not submitted, and what else was noticed. One row per student and lab, like the grades CSV.

    nbgrader's export shows 0 for a submission it could not grade and for a lab never released; this file tells
    a 0 earned from a 0 failed or a 0 that means nothing yet.
    """
    by_key = {(o.assignment, o.student): o for o in outcomes}
    with workspace.gradebook() as gradebook:
        assignments = sorted(a.name for a in gradebook.assignments)
        students = sorted(s.id for s in gradebook.students)
    released = {a: _released(workspace, a) for a in assignments}
    keys = sorted({(a, s) for a in assignments for s in students} | set(by_key))
    with open(destination, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["assignment", "student", "status", "score", "max_score", "late_penalty", "notes"])
        for assignment, student in keys:
            o = by_key.get((assignment, student))
            if o is None:
                status = "not submitted" if released.get(assignment, True) else "not released"
                note = ("the lab was released but nothing was collected from this student" if status ==
                        "not submitted" else "the lab has not been released to students yet; the 0 in the "
                        "grades CSV means nothing")
                o = Outcome(assignment, student, status, notes=[note])
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
