"""What grading one submission came to: the record the engine, the reports and the feedback share."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Outcome:
    """What grading one student's submission of one lab came to."""

    assignment: str
    student: str
    status: str  # "graded" or "failed"
    score: float | None = None
    max_score: float | None = None
    late_penalty: float = 0.0
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    peak_memory_mib: float = 0.0
    sandbox: str = ""            # the isolation the submission ran in (bubblewrap, or what remained without it)
    integrity: str = ""          # "clean", or "tampering detected" (probes, see grading/probes.py)
    regraded: bool = False       # graded again alone after the machine, not the code, stopped it
