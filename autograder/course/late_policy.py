"""Late-submission policy: lose a fixed fraction of the score per started day late (nbgrader plugin)."""
from __future__ import annotations

import math

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Float

from .workspace import Workspace


class PenaltyPerDay(LateSubmissionPlugin):
    """A started day late costs ``fraction_per_day`` of the score, down to zero."""

    fraction_per_day = Float(0.1, help="Fraction of the score lost per started day late").tag(config=True)

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float) -> float:
        days = math.ceil(total_seconds_late / 86400)
        return min(score, score * self.fraction_per_day * days)


def reapply_late_penalties(workspace: Workspace) -> int:
    """Recompute every late notebook's penalty on its current score; returns how many changed.

    nbgrader applies the penalty when it autogrades, to the autograded score: marks entered later in formgrader
    escape it (a student two days late would keep full marks for the written answers). `feedback` and `export`
    call this first, so what students and the CSV see is penalised on the whole score.
    """
    policy = PenaltyPerDay(config=workspace.config())
    changed = 0
    with workspace.gradebook() as gradebook:
        for assignment in gradebook.assignments:
            for submission in assignment.submissions:
                late = submission.total_seconds_late
                for notebook in submission.notebooks:
                    penalty = policy.late_submission_penalty(submission.student.id, notebook.score, late) \
                        if late > 0 else None
                    if notebook.late_submission_penalty != penalty:
                        notebook.late_submission_penalty = penalty
                        changed += 1
        gradebook.db.commit()
    return changed
