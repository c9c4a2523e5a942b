"""Checks of a submission against its source before grading, so a damaged notebook gets a precise message.

nbgrader reports these cases badly or not at all: a copied grade cell aborts with a misleading "old metadata
version" error (#1083); a notebook whose cell metadata was lost (re-created, pasted into a new notebook)
quietly scores 0; a deleted test cell quietly costs its points. Nothing here modifies the submission.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from ..labs import grade_id


@dataclass
class Findings:
    fatal: list[str] = field(default_factory=list)  # the submission cannot be graded as it is
    notes: list[str] = field(default_factory=list)  # graded, but the instructor should know


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.split(":")[0].splitlines()[0] if text else type(error).__name__


def check_submission(submitted: Path, source: Path) -> Findings:
    """Compare every notebook of the source assignment with the student's copy."""
    findings = Findings()
    for expected in sorted(source.glob("*.ipynb")):
        path = submitted / expected.name
        if not path.exists():
            findings.notes.append(f"{expected.name} is missing from the submission")
            continue
        try:
            nb = nbformat.read(path, as_version=4)
            nbformat.validate(nb)
        except Exception as error:  # any reason a notebook cannot be read is reported to that student
            findings.fatal.append(f"{path.name} is not a readable notebook ({_first_line(error)}); "
                                  "the student should re-save it from JupyterLab and resubmit")
            continue
        ids = Counter(grade_id(c) for c in nb.cells if grade_id(c))
        copies = sorted(gid for gid, n in ids.items() if n > 1)
        if copies:
            findings.fatal.append(f"{path.name} has copies of graded cells {copies}; the student should delete "
                                  "the copies (keep the original cells) and resubmit")
            continue
        wanted = {grade_id(c) for c in nbformat.read(expected, as_version=4).cells if grade_id(c)}
        if not ids:
            findings.notes.append(f"{path.name} has lost all its grading metadata (re-created or pasted into a "
                                  "new notebook?): graded as it stands, answers found nowhere")
        elif wanted - set(ids):
            findings.notes.append(f"{path.name} is missing graded cells {sorted(wanted - set(ids))} (deleted?)")
    return findings
