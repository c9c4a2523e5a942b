"""Stage 3, in the grader and nowhere else: score the executed notebooks and write the gradebook.

This is ``nbgrader autograde`` itself (the same converter, student and submission records, timestamps, the
autograded/ folder, late penalties, ``SaveAutoGrades``) with two steps swapped: its sanitising step takes the
notebook :mod:`.prepare` sanitised (the same preprocessors, run once), and instead of executing, :class:`Replay`
takes the outputs a sandbox produced, after checking that every cell's source is the one the grader sanitised
(so a worker cannot change a test). Exactly one process, the engine's, runs this; no kernel
can reach the gradebook.
"""
from __future__ import annotations

import shutil
import warnings

import nbformat
from nbgrader.api import MissingEntry
from nbgrader.converters import Autograde
from nbgrader.converters.base import NbGraderException
from nbgrader.preprocessors import CheckCellMetadata, Execute, NbGraderPreprocessor
from nbgrader.utils import capture_log, temp_attrs
from sqlalchemy.exc import SAWarning

from ..course.workspace import Workspace
from .execute import Payload


class _FromPayload(NbGraderPreprocessor):
    """A step that takes its notebook from the engine's data (name -> notebook JSON), not from nbgrader's file."""

    def __init__(self, notebooks: dict[str, str], **kwargs) -> None:
        super().__init__(**kwargs)
        self.notebooks = notebooks

    def given(self, resources) -> tuple[str, nbformat.NotebookNode]:
        name = resources["nbgrader"]["notebook"] + ".ipynb"
        return name, nbformat.reads(self.notebooks[name], as_version=4)


class Replay(_FromPayload):
    """Put the sandbox's outputs into the notebook nbgrader just sanitised."""

    def preprocess(self, nb, resources):
        name, ran = self.given(resources)
        same = len(ran.cells) == len(nb.cells) and all(
            (a.cell_type, a.source) == (b.cell_type, b.source) for a, b in zip(nb.cells, ran.cells, strict=True))
        if not same:
            raise NbGraderException(f"{name}: the executed notebook does not match the one sent to the sandbox")
        for cell, done in zip(nb.cells, ran.cells, strict=True):
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = done.outputs, done.get("execution_count")
        return nb, resources


class Sanitised(_FromPayload):
    """The notebook :mod:`.prepare` sanitised with these same preprocessors before it was executed, instead of
    sanitising the submitted file a second time (a sixth of the grader's own CPU)."""

    def preprocess(self, nb, resources):
        return self.given(resources)[1], resources


class ReplayAutograde(Autograde):
    sanitised: dict[str, str] = {}
    executed: dict[str, str] = {}

    def _init_preprocessors(self) -> None:
        self.exporter._preprocessors = []
        if self._sanitizing:
            self.exporter.register_preprocessor(Sanitised(self.sanitised, parent=self.exporter))
            return
        for pp in self.autograde_preprocessors:
            if pp is CheckCellMetadata:
                continue  # Replay takes only outputs: the metadata is the sanitised notebook's, checked in prepare
            self.exporter.register_preprocessor(Replay(self.executed, parent=self.exporter) if pp is Execute else pp)


def record(workspace: Workspace, api, payload: Payload, executed: dict[str, str]) -> dict:
    """nbgrader's result dict (success, log, error) and, on success, the submission's scores."""
    assignment, student = payload.assignment, payload.student
    with temp_attrs(api.coursedir, assignment_id=assignment, student_id=student):
        app = ReplayAutograde(coursedir=api.coursedir, parent=api)
        app.sanitised, app.executed, app.force, app.create_student = payload.notebooks, executed, True, True
        with warnings.catch_warnings():  # nbgrader's own SQLAlchemy use warns on every new submission
            warnings.simplefilter("ignore", SAWarning)
            result = capture_log(app)
    if not result.get("success"):
        partial = workspace.course / "autograded" / student / assignment
        shutil.rmtree(partial, ignore_errors=True)
        return result
    with workspace.gradebook() as gradebook:
        try:
            submission = gradebook.find_submission(assignment, student)
        except MissingEntry:
            return {"success": False, "log": "nbgrader recorded no grades for this submission"}
        result.update(score=submission.score, max_score=submission.max_score,
                      late_penalty=submission.late_submission_penalty or 0.0)
    return result
