"""Build a standard nbgrader course directory from the labs, so plain ``nbgrader`` commands work on it too.

A workspace holds the course and what surrounds it in a classroom::

    workspace/
      course/            nbgrader course root: nbgrader_config.py, source/, release/, submitted/, autograded/,
                         feedback/, gradebook.db
      exchange/          nbgrader's file exchange (by default; on JupyterHub, the shared exchange instead)
      students/<id>/     each simulated student's home: fetched labs and exchange cache
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from nbgrader.api import Gradebook
from nbgrader.apps import NbGraderAPI
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from .labs import Lab

DEFAULT_COURSE_ID = "substrate-labs"

CONFIG_TEMPLATE = '''\
# nbgrader configuration of a Substrate Labs course, written by `substrate-labs build`.
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, GetGrades

from autograder.late_policy import PenaltyPerDay
from autograder.preprocessors import HideTestTracebacks

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
'''


class CourseError(RuntimeError):
    """An nbgrader step failed; the message carries nbgrader's own log."""


@dataclass(frozen=True)
class Workspace:
    root: Path

    @property
    def course(self) -> Path:
        return self.root / "course"

    @property
    def exchange(self) -> Path:
        return Path(self.config().Exchange.root)

    @property
    def course_id(self) -> str:
        return self.config().CourseDirectory.course_id

    @property
    def students(self) -> Path:
        return self.root / "students"

    @property
    def config_file(self) -> Path:
        return self.course / "nbgrader_config.py"

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.course / 'gradebook.db'}"

    def config(self) -> Config:
        """The course's nbgrader configuration, as plain ``nbgrader`` would load it."""
        if not self.config_file.exists():
            raise CourseError(f"no course at {self.course}: run `substrate-labs build` first")
        return PyFileConfigLoader(self.config_file.name, path=str(self.course)).load_config()

    def api(self, extra: Config | None = None) -> NbGraderAPI:
        config = self.config()
        if extra is not None:
            config.merge(extra)
        return NbGraderAPI(config=config)

    def gradebook(self) -> Gradebook:
        return Gradebook(self.db_url, self.course_id)

    def assignments(self) -> list[str]:
        return sorted(p.name for p in (self.course / "source").iterdir() if p.is_dir())


def check(result: dict, step: str) -> None:
    """nbgrader's API reports failure in a dict instead of raising: turn it into a clear error."""
    if not result.get("success"):
        raise CourseError(f"nbgrader {step} failed:\n{result.get('error') or result.get('log')}")


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
        shutil.copy2(lab.notebook, source / lab.notebook.name)
        with workspace.gradebook() as gradebook:
            gradebook.update_or_create_assignment(lab.assignment_id, duedate=due)
        check(api.generate_assignment(lab.assignment_id), f"generate_assignment {lab.assignment_id}")
