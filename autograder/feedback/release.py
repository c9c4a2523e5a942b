"""Feedback for students: nbgrader's HTML (hidden tests removed, see ``preprocessors``), released via the exchange."""
from __future__ import annotations

from pathlib import Path

from ..course.workspace import Workspace
from ..progress import bar


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
    with bar(len(graded), "feedback", show=show_progress) as progress:
        for student, assignment in graded:
            progress.update()
            for step in (api.generate_feedback, api.release_feedback):
                result = step(assignment, student)
                if not result.get("success"):
                    lines = (result.get("error") or result.get("log") or "no message").strip().splitlines()
                    problems.append(f"{student} {assignment}: {step.__name__} failed: {lines[-1]}")
                    break
    return sorted((workspace.course / "feedback").rglob("*.html")), problems
