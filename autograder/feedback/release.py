"""Feedback for students: nbgrader's HTML (hidden tests removed, see ``preprocessors``), released via the exchange.

Feedback goes out when a submission is fully graded. A submission whose written answers a person has not yet
marked is held back (its total would read as final), unless asked for ``partial`` feedback: then it is released
with a banner saying the written answers are not yet marked.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.api import MissingEntry

from ..course.workspace import Workspace
from ..progress import bar


@dataclass
class FeedbackResult:
    files: list[Path] = field(default_factory=list)  # written in this run (released unless in problems)
    released: list[tuple[str, str]] = field(default_factory=list)  # (student, assignment) released to the exchange
    provisional: list[tuple[str, str]] = field(default_factory=list)  # released before the written answers were marked
    held_back: list[tuple[str, str]] = field(default_factory=list)  # (student, assignment) waiting for hand marking
    problems: list[str] = field(default_factory=list)


def _needs_marking(workspace: Workspace, graded: list[tuple[str, str]]) -> set[tuple[str, str]]:
    waiting = set()
    with workspace.gradebook() as gradebook:
        for student, assignment in graded:
            try:
                if gradebook.find_submission(assignment, student).needs_manual_grade:
                    waiting.add((student, assignment))
            except MissingEntry:  # autograded but not in the gradebook: nbgrader's own feedback step reports it
                pass
    return waiting


def give_feedback(workspace: Workspace, assignments: list[str], *, partial: bool = False,
                  show_progress: bool = True) -> FeedbackResult:
    """Generate and release feedback for every autograded submission of ``assignments``.

    Each student is handled on their own, so one failure is reported for that student and the rest go on.
    """
    api = workspace.api()
    result = FeedbackResult()
    graded = [(folder.parent.name, assignment) for assignment in assignments
              for folder in sorted((workspace.course / "autograded").glob(f"*/{assignment}"))]
    waiting = _needs_marking(workspace, graded)
    if not partial:
        result.held_back = [key for key in graded if key in waiting]
        graded = [key for key in graded if key not in waiting]
    with bar(len(graded), "feedback", show=show_progress) as progress:
        for student, assignment in graded:
            progress.update()
            for step in (api.generate_feedback, api.release_feedback):
                outcome = step(assignment, student)
                if not outcome.get("success"):
                    lines = (outcome.get("error") or outcome.get("log") or "no message").strip().splitlines()
                    result.problems.append(f"{student} {assignment}: {step.__name__} failed: {lines[-1]}")
                    break
                if step == api.generate_feedback:
                    result.files += sorted((workspace.course / "feedback" / student / assignment).rglob("*.html"))
            else:
                result.released.append((student, assignment))
                if (student, assignment) in waiting:
                    result.provisional.append((student, assignment))
    return result
