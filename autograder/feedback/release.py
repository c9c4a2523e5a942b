"""Feedback for students: nbgrader's HTML (hidden tests removed, see ``preprocessors``), released via the exchange."""
from __future__ import annotations

from pathlib import Path

from tqdm import tqdm

from ..course.workspace import Workspace


def give_feedback(workspace: Workspace, assignments: list[str], show_progress: bool = True
                  ) -> tuple[list[Path], list[str]]:
    """Generate and release feedback for every autograded submission.

    Each student is handled on their own, so one failure is reported for that student and the rest go on.
    Returns the feedback files and the problems met.
    """
    api = workspace.api()
    problems = []
    graded = [(folder.parent.name, assignment) for assignment in assignments
              for folder in sorted((workspace.course / "autograded").glob(f"*/{assignment}"))]
    for student, assignment in tqdm(graded, desc="feedback", unit="submission", disable=not show_progress):
        for step in (api.generate_feedback, api.release_feedback):
            result = step(assignment, student)
            if not result.get("success"):
                lines = (result.get("error") or result.get("log") or "no message").strip().splitlines()
                problems.append(f"{student} {assignment}: {step.__name__} failed: {lines[-1]}")
                break
    return sorted((workspace.course / "feedback").rglob("*.html")), problems
