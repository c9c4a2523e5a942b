"""Build a standard nbgrader course directory from the labs, so plain ``nbgrader`` commands work on it too."""
from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

from ..labs import Lab
from .workspace import DEFAULT_COURSE_ID, Workspace, check

CONFIG_TEMPLATE = '''\
# nbgrader configuration of a Substrate Labs course, written by `substrate-labs build`.
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, GetGrades

from autograder.course.late_policy import PenaltyPerDay
from autograder.feedback.preprocessors import HideTestTracebacks
from autograder.grading.noise import LIBRARY_NOISE

c = get_config()  # noqa: F821 (provided by traitlets)
c.CourseDirectory.root = {root!r}
c.CourseDirectory.course_id = {course_id!r}
c.Exchange.root = {exchange!r}
# All students share one unix user in the simulation (and on a SimpleSpawner hub): skip the owner check.
c.ExchangeCollect.check_owner = False
# Per-cell budget while autograding; an infinite loop costs one cell this long, not the whole batch.
c.Execute.timeout = {cell_timeout}
c.AssignLatePenalties.plugin_class = PenaltyPerDay
c.PenaltyPerDay.fraction_per_day = {late_fraction}
# Feedback must never show hidden tests: drop their source, and cut test-cell tracebacks that quote them.
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, HideTestTracebacks, CSSHTMLHeaderPreprocessor]
# A test cell's stderr made only of library warnings does not zero a correct answer (autograder/grading/noise.py).
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = LIBRARY_NOISE
'''



def build_course(workspace: Workspace, labs: list[Lab], *, due: datetime, cell_timeout: int = 30,
                 late_fraction: float = 0.1, course_id: str = DEFAULT_COURSE_ID, exchange: Path | None = None
                 ) -> None:
    """Write the config, copy the labs into source/, generate the student versions and record due dates.

    ``exchange`` defaults to ``workspace/exchange``; on a JupyterHub it is the exchange all users share.
    """
    exchange = exchange or workspace.root / "exchange"
    for folder in (workspace.course / "source", exchange, workspace.students):
        folder.mkdir(parents=True, exist_ok=True)
    workspace.config_file.write_text(CONFIG_TEMPLATE.format(
        root=str(workspace.course.resolve()), course_id=course_id, exchange=str(exchange.resolve()),
        cell_timeout=cell_timeout, late_fraction=late_fraction))
    api = workspace.api()
    for lab in labs:
        source = workspace.course / "source" / lab.assignment_id
        if source.exists():
            shutil.rmtree(source)
        source.mkdir()
        for path in [lab.notebook, *lab.assets]:
            target = source / path.relative_to(lab.folder)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
        with workspace.gradebook() as gradebook:
            gradebook.update_or_create_assignment(lab.assignment_id, duedate=due)
        check(api.generate_assignment(lab.assignment_id), f"generate_assignment {lab.assignment_id}")
