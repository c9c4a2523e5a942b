"""Grades for a learning platform: the gradebook as Canvas's or Moodle's gradebook-import CSV.

Canvas ("How do I import grades in the Gradebook?", Canvas Instructor Guide,
https://community.canvaslms.com/t5/Instructor-Guide/How-do-I-import-grades-in-the-Gradebook/ta-p/807):
the header must start with the columns Student, ID, SIS User ID, SIS Login ID and Section (the layout of
Canvas's own gradebook export); every further column is an assignment, matched by name (a new name creates
an assignment). An optional second row, "Points Possible", gives each assignment's maximum. A student is
matched by ID (Canvas user id) or, failing that, by SIS User ID or SIS Login ID. Blank cells change nothing.

Moodle ("Grade import", https://docs.moodle.org/en/Grade_import, and grade/import/csv/classes/load_data.php):
a CSV with a header row; the teacher maps one column to a user field (username, email address, ID number or
user id) and each other column to a grade item. We write Username and Email address, then one column per
lab. Moodle skips empty grade cells.

A score is the one after the late penalty. A submission whose written answers are still to be graded by hand
is left blank (a partial score must not reach a platform as if it were final) and reported; a lab a student
never submitted is 0, as in nbgrader's own export.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from ..course.workspace import CourseError, Workspace

FORMATS = ("canvas", "moodle")
CANVAS_IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_IDENTITY = ["Username", "Email address"]


@dataclass(frozen=True)
class Grades:
    assignments: list[str]
    max_scores: dict[str, float]
    rows: list[dict]  # student fields and assignment -> score ("" when not final)
    pending: list[str]  # "student / lab": written answers still to grade


def _score(gradebook: Gradebook, assignment: str, student: str) -> tuple[float | str, bool]:
    try:
        submission = gradebook.find_submission(assignment, student)
    except MissingEntry:
        return 0.0, False
    if submission.needs_manual_grade:
        return "", True
    return round(submission.score - (submission.late_submission_penalty or 0), 2), False


def collect(workspace: Workspace) -> Grades:
    with workspace.gradebook() as gradebook:
        assignments = [a.name for a in gradebook.assignments]
        max_scores = {a.name: a.max_score for a in gradebook.assignments}
        rows, pending = [], []
        for s in sorted(gradebook.students, key=lambda s: s.id):
            row = {"id": s.id, "first": s.first_name or "", "last": s.last_name or "", "email": s.email or "",
                   "lms_user_id": s.lms_user_id or ""}
            for a in assignments:
                row[a], waiting = _score(gradebook, a, s.id)
                if waiting:
                    pending.append(f"{s.id} / {a}")
            rows.append(row)
    return Grades(assignments, max_scores, rows, pending)


def _name(row: dict) -> str:
    """Canvas shows students as "Last, First"; without names, the login."""
    return ", ".join(p for p in (row["last"], row["first"]) if p) or row["id"]


def destination(to: Path, platform: str, force: bool = False) -> Path:
    """``to``, or ``to/grades-PLATFORM.csv`` for a folder; an existing file is replaced only when it is an
    earlier export for that platform (its header), or with ``force``."""
    path = to / f"grades-{platform}.csv" if to.is_dir() or not to.suffix else to
    if path.exists() and not force:
        with open(path, errors="replace") as f:
            header = next(csv.reader(f), [])
        identity = CANVAS_IDENTITY if platform == "canvas" else MOODLE_IDENTITY
        if header[:len(identity)] != identity:
            raise CourseError(f"{path} exists and is not a {platform} grades CSV written by export; nothing was "
                              "written. Choose another --to, or pass --force to replace it")
    return path


def write(grades: Grades, platform: str, destination: Path) -> Path:
    if platform not in FORMATS:
        raise ValueError(f"unknown learning platform {platform!r}; choose one of {', '.join(FORMATS)}")
    destination.parent.mkdir(parents=True, exist_ok=True)
    with open(destination, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        if platform == "canvas":
            writer.writerow(CANVAS_IDENTITY + grades.assignments)
            writer.writerow(["Points Possible", "", "", "", ""] + [f"{grades.max_scores[a]:g}"
                                                                   for a in grades.assignments])
            for row in grades.rows:
                writer.writerow([_name(row), row["lms_user_id"], "", row["id"], ""]
                                + [row[a] for a in grades.assignments])
        else:
            writer.writerow(MOODLE_IDENTITY + grades.assignments)
            for row in grades.rows:
                writer.writerow([row["id"], row["email"]] + [row[a] for a in grades.assignments])
    return destination
