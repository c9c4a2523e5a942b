"""A course workspace: where a course, its exchange and its simulated students live on disk.

A workspace holds the course and what surrounds it in a classroom::

    workspace/
      course/            nbgrader course root: nbgrader_config.py, source/, release/, submitted/, autograded/,
                         feedback/, gradebook.db
      exchange/          nbgrader's file exchange (by default; on JupyterHub, the shared exchange instead)
      students/<id>/     each simulated student's home: fetched labs and exchange cache
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nbgrader.api import Gradebook
from nbgrader.apps import NbGraderAPI
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

DEFAULT_COURSE_ID = "substrate-labs"


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
