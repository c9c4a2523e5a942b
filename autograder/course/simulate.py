"""A scripted class: each student fetches every lab through nbgrader's exchange, works it, and submits.

Each student has a behaviour that a real class produces sooner or later (a blank submission, a wrong answer,
an exception, an infinite loop, a crashed kernel, a corrupt file, a late hand-in), so a demo or a test sees the
whole grading pipeline handle it. Submission times come from the scenario, not the wall clock: nbgrader stamps
the time of ``submit``; the simulator rewrites that stamp to replay the scenario's clock.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import nbformat
import yaml
from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.utils import capture_log
from traitlets.config import Config

from ..labs import Lab, grade_id, is_answer, task_cells
from .workspace import CourseError, Workspace, check

_SOLUTION_MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$\n?", re.M)
# The parts of a model answer a student would not write: its bold heading (may span lines), the marking guide,
# and notes on points such as "(1 point per part)".
_MODEL_ANSWER_HEADING = re.compile(r"\A\s*\*\*Model answer.*?\*\*", re.S)
_MARKING_GUIDE = re.compile(r"^\s*\*\*Marking guide.*", re.M | re.S)
_POINTS_NOTE = re.compile(r"\s*\((?:[^()]|\([^()]*\))*?\bpoints?\b(?:[^()]|\([^()]*\))*\)\.?")  # one nesting level
STUB = "raise NotImplementedError()"


@dataclass(frozen=True)
class Student:
    id: str
    first_name: str
    last_name: str
    behaviour: str
    days_late: float = 0.0


DEFAULT_CLASS = (
    Student("ada", "Ada", "Lovelace", "solves everything"),
    Student("ben", "Ben", "Okafor", "submits the blank release"),
    Student("chen", "Chen", "Wei", "gets every other task wrong"),
    Student("dana", "Dana", "Ivanova", "writes code that raises"),
    Student("eve", "Eve", "Moreau", "writes an infinite loop"),
    Student("finn", "Finn", "Larsen", "solves everything", days_late=2.0),
    Student("gus", "Gus", "Pereira", "crashes the kernel"),
    Student("hana", "Hana", "Sato", "saves a corrupt notebook"),
)


@dataclass(frozen=True)
class LabMaterial:
    """What a simulated student draws on: the solutions (from source) and the known wrong answers."""

    solutions: dict[str, str]
    wrong: dict[str, list[str]]
    autograded: list[str]

    @classmethod
    def of(cls, lab: Lab) -> LabMaterial:
        nb = lab.read()
        solutions = {grade_id(c): _SOLUTION_MARKER.sub("", c.source) for c in nb.cells
                     if utils.is_solution(c) and c.cell_type == "code"}
        solutions |= {grade_id(c): written_answer(c.source) for c in nb.cells
                      if utils.is_solution(c) and c.cell_type == "markdown"}
        wrong = {gid: [entry["source"] for entry in entries]
                 for gid, entries in (yaml.safe_load(lab.wrong_answers.read_text()) or {}).items()}
        autograded = [grade_id(nb.cells[i]) for i in task_cells(nb)]
        return cls(solutions, wrong, autograded)


def written_answer(model: str) -> str:
    """What a student who knows the answer writes: the model answer's text, without its heading and without
    the marking guide (which is for the grader, and which no student's notebook would contain)."""
    return _POINTS_NOTE.sub("", _MARKING_GUIDE.sub("", _MODEL_ANSWER_HEADING.sub("", model))).strip()


def _solve(nb: NotebookNode, material: LabMaterial) -> NotebookNode:
    for cell in nb.cells:
        if utils.is_solution(cell):
            cell.source = material.solutions[grade_id(cell)]
    return nb


def _answer_cell(nb: NotebookNode, gid: str) -> NotebookNode:
    return next(c for c in nb.cells if is_answer(c) and grade_id(c) == gid)


def _every_other_wrong(nb: NotebookNode, material: LabMaterial) -> NotebookNode:
    _solve(nb, material)
    for gid in material.autograded[1::2]:
        _answer_cell(nb, gid).source = material.wrong[gid][0]
    return nb


# Mistakes go into the last task: later tasks often call earlier answers, and the last one has no dependants,
# so what each mistake costs is exactly that task's points.
def _raises(nb: NotebookNode, material: LabMaterial) -> NotebookNode:
    """Solves all but the last task, whose function divides by zero when called."""
    last = material.autograded[-1]
    stub = _answer_cell(nb, last).source
    _solve(nb, material)
    _answer_cell(nb, last).source = stub.replace(STUB, "return 1 / 0  # a bug the student did not catch")
    return nb


def _prepend_to_last_task(code: str) -> Callable[[NotebookNode, LabMaterial], NotebookNode]:
    def work(nb: NotebookNode, material: LabMaterial) -> NotebookNode:
        _solve(nb, material)
        cell = _answer_cell(nb, material.autograded[-1])
        cell.source = code + cell.source
        return nb
    return work


BEHAVIOURS: dict[str, Callable[[NotebookNode, LabMaterial], NotebookNode]] = {
    "solves everything": _solve,
    "submits the blank release": lambda nb, material: nb,
    "gets every other task wrong": _every_other_wrong,
    "writes code that raises": _raises,
    "writes an infinite loop": _prepend_to_last_task("while True:  # forgot to update the loop variable\n    pass\n"),
    "crashes the kernel": _prepend_to_last_task("import os\nos._exit(1)  # kills the kernel process\n"),
    "saves a corrupt notebook": _solve,  # solved, then the file is cut short on save (see _write)
}


def _write(path: Path, nb: NotebookNode, behaviour: str) -> None:
    text = nbformat.writes(nb)
    if behaviour == "saves a corrupt notebook":
        text = text[: len(text) // 2]
    path.write_text(text)


def student_config(workspace: Workspace, student: Student) -> Config:
    home = workspace.students / student.id
    config = Config()
    config.CourseDirectory.student_id = student.id
    config.Exchange.cache = str(home / ".nbgrader-cache")
    config.Exchange.assignment_dir = str(home)
    return config


def _replay_submission_time(workspace: Workspace, student: Student, assignment_id: str, when: datetime) -> None:
    inbound = workspace.exchange / workspace.course_id / "inbound"
    for stamp in inbound.glob(f"{student.id}+{assignment_id}+*/timestamp.txt"):
        stamp.write_text(when.strftime("%Y-%m-%d %H:%M:%S.%f UTC"))


def enrol(workspace: Workspace, students: tuple[Student, ...]) -> None:
    with workspace.gradebook() as gradebook:
        for s in students:
            gradebook.update_or_create_student(s.id, first_name=s.first_name, last_name=s.last_name)


def simulate_class(workspace: Workspace, labs: list[Lab], students: tuple[Student, ...] = DEFAULT_CLASS,
                   *, on_time: timedelta = timedelta(hours=-3), progress: Callable[[str], None] = lambda _: None
                   ) -> None:
    """Release every lab, then have each student fetch, work and submit it; finally collect everything.

    ``on_time`` is when a punctual student submits, relative to the due date; late students add their days.
    """
    unknown = {s.behaviour for s in students} - set(BEHAVIOURS)
    if unknown:
        raise ValueError(f"unknown behaviour {sorted(unknown)}; known: {sorted(BEHAVIOURS)}")
    released = [lab.assignment_id for lab in labs
                if (workspace.exchange / workspace.course_id / "outbound" / lab.assignment_id).exists()]
    if released:
        raise CourseError(f"{', '.join(released)} already released in {workspace.root}: a class is simulated "
                          "once per course; build a fresh workspace (or run `substrate-labs demo`)")
    scripted = {s.id for s in students}
    with workspace.gradebook() as gradebook:
        enrolled = {s.id for s in gradebook.students}
    real = sorted((enrolled | {p.name for p in (workspace.course / "submitted").glob("*") if p.is_dir()}) - scripted)
    if real:
        raise CourseError(f"the course in {workspace.root} has students of its own ({', '.join(real[:5])}"
                          f"{' ...' * (len(real) > 5)}): a simulated class would be mixed into it, so nothing was "
                          "changed. Simulate in a fresh workspace, or run `substrate-labs demo`")
    enrol(workspace, students)
    instructor = workspace.api()
    for lab in labs:
        check(instructor.release_assignment(lab.assignment_id), f"release_assignment {lab.assignment_id}")
        material = LabMaterial.of(lab)
        with workspace.gradebook() as gradebook:
            due = gradebook.find_assignment(lab.assignment_id).duedate
        for student in students:
            progress(f"{student.id} works {lab.assignment_id}")
            api = workspace.api(student_config(workspace, student))
            with utils.temp_attrs(api.coursedir, assignment_id=lab.assignment_id):
                fetch = api.exchange.FetchAssignment(coursedir=api.coursedir, authenticator=api.authenticator,
                                                     parent=api)
                check(capture_log(fetch), f"fetch_assignment for {student.id}")
                path = workspace.students / student.id / lab.assignment_id / lab.notebook.name
                nb = BEHAVIOURS[student.behaviour](nbformat.read(path, as_version=4), material)
                _write(path, nb, student.behaviour)
                submit = api.exchange.Submit(coursedir=api.coursedir, authenticator=api.authenticator, parent=api)
                check(capture_log(submit), f"submit for {student.id}")
            when = due + on_time + timedelta(days=student.days_late)
            _replay_submission_time(workspace, student, lab.assignment_id, when.replace(tzinfo=timezone.utc))
        check(instructor.collect(lab.assignment_id), f"collect {lab.assignment_id}")
