"""The operator's summary of a grading run: counts, the slowest and hungriest submissions, every failure."""
from __future__ import annotations

from collections import Counter

from .outcome import Outcome


def table(outcomes: list[Outcome]) -> str:
    status = Counter(o.status for o in outcomes)
    lines = [f"Graded {status['graded']} of {len(outcomes)} submissions"
             + (f"; {status['failed']} could not be graded" if status["failed"] else "")]
    flagged = [o for o in outcomes if o.integrity == "tampering detected"]
    regraded = [o for o in outcomes if o.regraded]
    if flagged:
        lines.append(f"  tampering detected: {', '.join(f'{o.student}/{o.assignment}' for o in flagged)}")
    if regraded:
        lines.append(f"  graded again alone (the machine was overloaded): {len(regraded)}")
    ran = [o for o in outcomes if o.seconds]
    if ran:
        slow = max(ran, key=lambda o: o.seconds)
        big = max(ran, key=lambda o: o.peak_memory_mib)
        lines.append(f"  slowest: {slow.student}/{slow.assignment} {slow.seconds:.1f} s; most memory: "
                     f"{big.student}/{big.assignment} {big.peak_memory_mib:.0f} MiB")
    header = f"  {'student':<12} {'lab':<24} {'status':<7} {'score':>7}  reason"
    rows = [f"  {o.student:<12} {o.assignment:<24} {o.status:<7} "
            f"{'' if o.score is None else f'{o.score:g}/{o.max_score:g}':>7}  {(o.notes or [''])[0][:110]}"
            for o in outcomes if o.status == "failed" or o.notes]
    return "\n".join(lines + ([header, *rows] if rows else []))
