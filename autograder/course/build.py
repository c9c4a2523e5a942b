"""Build a standard nbgrader course directory from the labs, so plain ``nbgrader`` commands work on it too.

A build never mixes two classes and never loses one: it refuses a workspace that holds another course or the
demo, refuses to regenerate a lab students have already submitted unless forced (and then backs the course up
first), and is atomic — it works on a staged copy of the course and swaps it in only when every step succeeded.
"""
from __future__ import annotations

import filecmp
import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..labs import Lab
from .workspace import DEFAULT_COURSE_ID, DEMO_MARKER, CourseError, Workspace, check

DEFAULT_TIMEZONE = "UTC"
# Student work a build never changes: staged as hard links, not copies, so a rebuild costs no disk or time.
STUDENT_WORK = ("submitted", "autograded", "feedback")

CONFIG_TEMPLATE = '''\
# nbgrader configuration of a Substrate Labs course, written by `substrate-labs build`.
import os

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (CheckCellMetadata, ClearHiddenTests, ClearOutput, DeduplicateIds, GetGrades,
                                    OverwriteKernelspec)

from autograder.course.late_policy import PenaltyPerDay
from autograder.feedback.preprocessors import HideTestTracebacks, MarkUnmarkedAnswers, QuietBenignChecksums
from autograder.grading.noise import LIBRARY_NOISE

c = get_config()  # noqa: F821 (provided by traitlets)
# Paths relative to this file: a copied or moved workspace is its own course, not a window on the original.
_here = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.root = _here
c.CourseDirectory.course_id = {course_id!r}
c.Exchange.root = {exchange}
# All students share one unix user in the simulation (and on a SimpleSpawner hub): skip the owner check.
c.ExchangeCollect.check_owner = False
# Per-cell budget while autograding; an infinite loop costs one cell this long, not the whole batch.
c.Execute.timeout = {cell_timeout}
c.AssignLatePenalties.plugin_class = PenaltyPerDay
c.PenaltyPerDay.fraction_per_day = {late_fraction}
# A test cell whose release version had its hidden tests removed always "changes checksum" (nbgrader #1961):
# say so only when the student really edited it.
c.Autograde.sanitize_preprocessors = [ClearOutput, DeduplicateIds, OverwriteKernelspec, QuietBenignChecksums,
                                      CheckCellMetadata]
# Feedback must never show hidden tests: drop their source, and cut test-cell tracebacks that quote them.
# Written answers not yet marked by a person are labelled as such (with `substrate-labs feedback --partial`).
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, HideTestTracebacks, MarkUnmarkedAnswers,
                                    CSSHTMLHeaderPreprocessor]
# The course's time zone: `substrate-labs build --due` without an offset is read in it. Dates are stored in UTC.
c.SubstrateLabs.timezone = {timezone!r}
# A test cell's stderr made only of library warnings does not zero a correct answer (autograder/grading/noise.py).
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = LIBRARY_NOISE
'''


@dataclass
class BuildResult:
    due_utc: datetime
    timezone: str
    generated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    backup: Path | None = None
    old_cell_timeout: float | None = None  # when a rebuild changed the per-cell limit


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CourseError(f"unknown time zone {name!r}: use an IANA name such as UTC, Europe/Berlin or "
                          "Asia/Shanghai") from None


def due_in_utc(due: datetime, timezone_name: str) -> datetime:
    """An aware due date in UTC; a naive one is read in the course's time zone."""
    aware = due if due.tzinfo is not None else due.replace(tzinfo=zone(timezone_name))
    return aware.astimezone(timezone.utc)


def _same_files(lab: Lab, source: Path) -> bool:
    """Whether ``source`` (a lab in the course) holds exactly the lab's notebook and assets, byte for byte."""
    wanted = {p.relative_to(lab.folder): p for p in [lab.notebook, *lab.assets]}
    present = {p.relative_to(source) for p in source.rglob("*") if p.is_file()} if source.is_dir() else set()
    return present == set(wanted) and all(filecmp.cmp(wanted[rel], source / rel, shallow=False) for rel in wanted)


def _submissions(workspace: Workspace, course_id: str, exchange: Path, assignment: str) -> list[str]:
    """Students who submitted this lab: collected into submitted/, or still waiting in the exchange's inbound."""
    collected = {p.parent.name for p in (workspace.course / "submitted").glob(f"*/{assignment}")}
    inbound = {p.name.split("+")[0] for p in (exchange / course_id / "inbound").glob(f"*+{assignment}+*")}
    return sorted(collected | inbound)


def _link_or_copy(source: str, target: str) -> None:
    if not os.path.exists(target):
        try:
            os.link(source, target)
        except OSError:  # another filesystem, or links not allowed: a real copy
            shutil.copy2(source, target)


def _stage(course: Path, staged: Path) -> None:
    staged.mkdir(parents=True)
    for entry in course.iterdir():
        if entry.is_dir():
            shutil.copytree(entry, staged / entry.name, symlinks=True,
                            copy_function=_link_or_copy if entry.name in STUDENT_WORK else shutil.copy2)
        else:
            shutil.copy2(entry, staged / entry.name)


def _swap(workspace: Workspace, staged: Path) -> None:
    """Put the staged course in place. Student work that arrived meanwhile (a collect) is carried over."""
    course = workspace.course
    if not course.exists():
        staged.rename(course)
        return
    old = workspace.root / f".course-replaced-{os.getpid()}"
    course.rename(old)
    staged.rename(course)
    for name in STUDENT_WORK:
        if (old / name).is_dir():
            shutil.copytree(old / name, course / name, symlinks=True, dirs_exist_ok=True,
                            copy_function=_link_or_copy)
    shutil.rmtree(old)


def _refuse_other_classes(workspace: Workspace, course_id: str, demo: bool) -> None:
    if workspace.root.exists() and not workspace.root.is_dir():
        raise CourseError(f"{workspace.root} is a file, not a workspace folder: give --workspace a folder")
    if workspace.is_demo and not demo:
        raise CourseError(f"{workspace.root} is the demo's workspace (it holds {DEMO_MARKER}, and the demo may "
                          "replace it any time): build a real class in its own --workspace, e.g. build/classroom")
    if workspace.course.is_dir() and any(workspace.course.iterdir()) and not workspace.config_file.exists():
        raise CourseError(f"{workspace.course} exists but is not a course built by substrate-labs (no "
                          f"{workspace.config_file.name}); nothing was changed. Choose another --workspace")
    if workspace.config_file.exists() and workspace.course_id != course_id:
        raise CourseError(f"{workspace.course} holds course {workspace.course_id!r}, not {course_id!r}; a "
                          "workspace holds one class and nothing was changed. Build this course in another "
                          f"--workspace, or pass --course-id {workspace.course_id} to update that one")


def build_course(workspace: Workspace, labs: list[Lab], *, due: datetime, cell_timeout: int = 30,
                 late_fraction: float = 0.1, course_id: str = DEFAULT_COURSE_ID, exchange: Path | None = None,
                 timezone_name: str | None = None, force: bool = False, demo: bool = False) -> BuildResult:
    """Write the config, copy the labs into source/, generate the student versions and record due dates.

    On an existing course (same course id) it updates in place: labs whose files are unchanged keep their
    release and only get the new due date. ``exchange`` defaults to ``workspace/exchange``; on a JupyterHub it
    is the exchange all users share. ``timezone_name`` (default: the course's, else UTC) is how a naive ``due``
    is read. ``force`` regenerates labs students have submitted, after a backup of the course.
    """
    _refuse_other_classes(workspace, course_id, demo)
    if timezone_name:
        zone(timezone_name)
    existing = workspace.config_file.exists()
    if existing:
        workspace.check_gradebook()
        config = workspace.config()
        timezone_name = timezone_name or config.SubstrateLabs.get("timezone", DEFAULT_TIMEZONE)
        old_cell_timeout = config.Execute.get("timeout")
    timezone_name = timezone_name or DEFAULT_TIMEZONE
    result = BuildResult(due_in_utc(due, timezone_name), timezone_name)
    if existing and old_cell_timeout != cell_timeout:
        result.old_cell_timeout = old_cell_timeout
    exchange = (exchange or workspace.root / "exchange").resolve()
    changed = [lab for lab in labs if not (_same_files(lab, workspace.course / "source" / lab.assignment_id)
                                           and (workspace.course / "release" / lab.assignment_id).is_dir())]
    submitted = {lab.assignment_id: who for lab in changed
                 if (who := _submissions(workspace, course_id, exchange, lab.assignment_id))}
    if submitted and not force:
        which = "; ".join(f"{lab} by {len(who)} ({', '.join(who[:5])}{' ...' * (len(who) > 5)})"
                          for lab, who in submitted.items())
        raise CourseError(f"students have already submitted labs whose files changed: {which}. Rebuilding would "
                          "change those labs under their submissions, so nothing was changed. Keep the lab as "
                          "it is, or rebuild with --force (the course is copied to backups/ first)")
    if submitted:
        result.backup = workspace.backup("nbgrader_config.py", "gradebook.db", "source", "release")

    for folder in (exchange, workspace.students):
        folder.mkdir(parents=True, exist_ok=True)
    # Staged next to the course, so the config's relative paths (the exchange) mean the same there.
    staged = Workspace(workspace.root, course_name=f".course-building-{os.getpid()}")
    shutil.rmtree(staged.course, ignore_errors=True)
    try:
        if existing:
            _stage(workspace.course, staged.course)
        (staged.course / "source").mkdir(parents=True, exist_ok=True)
        rel_exchange = os.path.relpath(exchange, workspace.course.resolve())
        in_workspace = exchange.is_relative_to(workspace.root.resolve())
        staged.config_file.write_text(CONFIG_TEMPLATE.format(
            course_id=course_id, cell_timeout=cell_timeout, late_fraction=late_fraction, timezone=timezone_name,
            exchange=f"os.path.normpath(os.path.join(_here, {rel_exchange!r}))" if in_workspace
            else repr(str(exchange))))
        api = staged.api()
        due_utc = result.due_utc.replace(tzinfo=None)  # nbgrader's convention: naive datetimes are UTC
        for lab in labs:
            with staged.gradebook() as gradebook:
                gradebook.update_or_create_assignment(lab.assignment_id, duedate=due_utc)
            if lab not in changed:
                result.unchanged.append(lab.assignment_id)
                continue
            source = staged.course / "source" / lab.assignment_id
            shutil.rmtree(source, ignore_errors=True)
            shutil.rmtree(staged.course / "release" / lab.assignment_id, ignore_errors=True)
            for path in [lab.notebook, *lab.assets]:
                target = source / path.relative_to(lab.folder)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
            check(api.generate_assignment(lab.assignment_id, force=True), f"generate_assignment {lab.assignment_id}")
            result.generated.append(lab.assignment_id)
        _swap(workspace, staged.course)
    finally:
        shutil.rmtree(staged.course, ignore_errors=True)
    return result
