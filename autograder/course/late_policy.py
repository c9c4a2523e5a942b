"""Late-submission policy: lose a fixed fraction of the score per started day late (nbgrader plugin)."""
from __future__ import annotations

import math

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Float


class PenaltyPerDay(LateSubmissionPlugin):
    """A started day late costs ``fraction_per_day`` of the score, down to zero."""

    fraction_per_day = Float(0.1, help="Fraction of the score lost per started day late").tag(config=True)

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float) -> float:
        days = math.ceil(total_seconds_late / 86400)
        return min(score, score * self.fraction_per_day * days)
