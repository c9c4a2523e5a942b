"""A course workspace: where a course, its exchange and its simulated students live on disk.

A workspace holds the course and what surrounds it in a classroom::

    workspace/
      course/            nbgrader course root: nbgrader_config.py, source/, release/, submitted/, autograded/,
                         feedback/, gradebook.db
      exchange/          nbgrader's file exchange (by default; on JupyterHub, the shared exchange instead)
      students/<id>/     each simulated student's home: fetched labs and exchange cache
      backups/           dated copies made before a command with ``--force`` replaced class data
      .substrate-labs-demo   only in a workspace `substrate-labs demo` created: its data may be thrown away

A real class's data (submissions, the gradebook) is never deleted by the kit; a workspace is the demo's only if
the demo wrote the marker when it created it.
"""
from __future__ import annotations

import shutil
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from nbgrader.api import Gradebook
from nbgrader.apps import NbGraderAPI
from sqlalchemy.exc import SAWarning, SQLAlchemyError
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

DEFAULT_COURSE_ID = "substrate-labs"
DEMO_MARKER = ".substrate-labs-demo"

# nbgrader's gradebook code triggers SQLAlchemy's autoflush warnings on every save; they say nothing about the
# class and bury the lines that do (worker.log). Only warnings raised from nbgrader.api are silenced.
warnings.filterwarnings("ignore", category=SAWarning, module=r"nbgrader\.api")


class CourseError(RuntimeError):
    """The course cannot do what was asked; the message says why and what to do, ``details`` (shown with
    ``--debug``) what nbgrader said in full."""

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details


@dataclass(frozen=True)
class Workspace:
    root: Path
    course_name: str = "course"  # another name only for a course being built (see course.build)

    @property
    def course(self) -> Path:
        return self.root / self.course_name

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
    def gradebook_file(self) -> Path:
        return self.course / "gradebook.db"

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.gradebook_file}"

    @property
    def is_demo(self) -> bool:
        return (self.root / DEMO_MARKER).is_file()

    def config(self) -> Config:
        """The course's nbgrader configuration, as plain ``nbgrader`` would load it."""
        if self.root.exists() and not self.root.is_dir():
            raise CourseError(f"{self.root} is a file, not a workspace folder: give --workspace a folder")
        if not self.config_file.is_file():
            raise CourseError(f"no course at {self.course}: run `substrate-labs build` first")
        return PyFileConfigLoader(self.config_file.name, path=str(self.course)).load_config()

    def api(self, extra: Config | None = None) -> NbGraderAPI:
        config = self.config()
        if extra is not None:
            config.merge(extra)
        return NbGraderAPI(config=config)

    @contextmanager
    def gradebook(self) -> Iterator[Gradebook]:
        """The course's gradebook; a damaged one is a clear error, never a database traceback."""
        try:
            with Gradebook(self.db_url, self.course_id) as gradebook:
                yield gradebook
        except SQLAlchemyError as error:
            raise CourseError(damaged_gradebook(self.gradebook_file, error)) from error

    def check_gradebook(self) -> None:
        """Fail early, before any step writes anything, if the gradebook is missing or unreadable."""
        if not self.gradebook_file.is_file():
            raise CourseError(f"the course at {self.course} has no gradebook ({self.gradebook_file.name} is "
                              "missing); restore it from a backup, or run `substrate-labs build` for a new course")
        with self.gradebook() as gradebook:
            gradebook.assignments  # noqa: B018 (reading the tables is the check)

    def assignments(self) -> list[str]:
        return sorted(p.name for p in (self.course / "source").iterdir() if p.is_dir())

    def class_data(self) -> list[str]:
        """What in this workspace belongs to a class, in words: submissions, grades, feedback, other files."""
        found = []
        for folder, what in [("submitted", "submissions"), ("autograded", "autograded submissions"),
                             ("feedback", "feedback folders")]:
            count = len(list((self.course / folder).glob("*/*")))
            if count:
                found.append(f"{count} {what} in {self.course / folder}")
        if self.gradebook_file.exists():
            found.append(f"the gradebook {self.gradebook_file}")
        if self.root.is_dir():
            known = {"course", "exchange", "students", "reports", "logs", "backups", DEMO_MARKER}
            others = sorted(p.name for p in self.root.iterdir() if p.name not in known)
            if others:
                found.append(f"other files in {self.root}: {', '.join(others[:5])}{' ...' * (len(others) > 5)}")
        return found

    def backup(self, *names: str, clock=lambda: datetime.now(timezone.utc)) -> Path:
        """Copy course files (``names`` relative to the course) into ``backups/<UTC time>/`` before a forced
        change; returns the backup folder."""
        target = self.root / "backups" / clock().strftime("%Y%m%dT%H%M%S%fZ")
        for name in names:
            source = self.course / name
            if source.is_dir():
                shutil.copytree(source, target / name)
            elif source.exists():
                (target / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target / name)
        return target


def damaged_gradebook(path: Path, error: Exception) -> str:
    reason = str(getattr(error, "orig", None) or error).splitlines()[0]
    return (f"the gradebook {path} cannot be read ({reason}); nothing was changed. Restore it from a backup "
            f"(a copy in the workspace's backups/ folder, or your own), or build a new course in another workspace")


def check(result: dict, step: str) -> None:
    """nbgrader's API reports failure in a dict instead of raising: turn it into a one-paragraph error."""
    if not result.get("success"):
        text = (result.get("error") or result.get("log") or "").strip()
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith(("[ERROR]", "[CRITICAL]"))] or lines[-1:]
        raise CourseError(f"nbgrader {step} failed: {errors[-1] if errors else 'no message'} "
                          "(--debug shows nbgrader's whole log)", details=text)
