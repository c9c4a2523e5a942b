"""Run a lab's release notebook blank, as a student who wrote nothing would hand it in, and say per cell what
happened: no test cell may give points (no free points), and every cell that is not a task must still run (a
demo that needs a student's function falls back to labkit's reference, see ``labkit.grading.with_fallback``).

Executed by nbgrader's own ``Execute`` preprocessor (the one ``nbgrader autograde`` uses) and scored by its
``determine_grade``, so "fails" means what it means when a class is graded.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute
from nbgrader.utils import determine_grade, is_grade, is_solution

from ..labs import Lab, grade_id, is_answer, is_test

MISSING_CODE = ("NotImplementedError", "NameError")  # what an unanswered task raises


@dataclass(frozen=True)
class CellResult:
    index: int
    kind: str  # "test", "answer" or "code" (every other code cell: setup, demos, figures)
    grade_id: str | None
    error: str | None  # "Ename: first line of the message", or None if the cell ran cleanly
    error_text: str = ""  # the whole error output, traceback included (to tell missing code from a broken lab)
    score: float | None = None  # test cells only
    max_score: float | None = None


@dataclass(frozen=True)
class BlankRun:
    notebook: str  # the release notebook's file name
    cells: tuple[CellResult, ...]

    def of_kind(self, kind: str) -> list[CellResult]:
        return [c for c in self.cells if c.kind == kind]

    @property
    def free_points(self) -> float:
        return sum(c.score or 0.0 for c in self.of_kind("test"))

    @property
    def broken(self) -> list[CellResult]:
        """Non-task code cells that raised: an unfinished task blanked part of the lab."""
        return [c for c in self.of_kind("code") if c.error]

    @property
    def scoring_tests(self) -> list[CellResult]:
        return [c for c in self.of_kind("test") if c.score]

    @property
    def tests_failing_for_another_reason(self) -> list[CellResult]:
        """Test cells that fail blank, but not because student code is missing (then they fail for everyone)."""
        return [c for c in self.of_kind("test") if not c.score and not any(m in c.error_text for m in MISSING_CODE)]

    def problems(self) -> list[str]:
        problems = [f"cell {c.index} ({c.grade_id}): gives {c.score:g} of {c.max_score:g} points on the blank "
                    f"release (free points)" for c in self.scoring_tests]
        problems += [f"cell {c.index}: fails on the blank release ({c.error}); a demo that needs a task's "
                     f"function must use labkit.grading.with_fallback" for c in self.broken]
        problems += [f"cell {c.index} ({c.grade_id}): fails blank for another reason than missing student code "
                     f"({c.error})" for c in self.tests_failing_for_another_reason]
        return problems

    def summary(self) -> str:
        code, tests = self.of_kind("code"), self.of_kind("test")
        return (f"blank release: {len(code) - len(self.broken)} of {len(code)} non-task code cells run, "
                f"{len(tests) - len(self.scoring_tests)} of {len(tests)} test cells fail, "
                f"{self.free_points:g} free points")


def _kind(cell: NotebookNode) -> str:
    if is_test(cell):
        return "test"
    if is_answer(cell) or (is_solution(cell) and is_grade(cell)):
        return "answer"
    return "code"


def _error(cell: NotebookNode) -> tuple[str | None, str]:
    errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
    if not errors:
        return None, ""
    first = errors[0]
    text = "\n".join([first.ename, first.evalue, *first.get("traceback", [])])
    return f"{first.ename}: {first.evalue.splitlines()[0] if first.evalue else ''}".rstrip(": "), text


def run_blank(notebook: Path, cell_timeout: int = 60) -> BlankRun:
    """Execute a release notebook as it is (in its own folder, where its assets are) and report every code cell."""
    nb = nbformat.read(notebook, as_version=4)
    executor = Execute(timeout=cell_timeout)
    executor.preprocess(nb, {"metadata": {"path": str(notebook.parent)}})
    results = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        error, text = _error(cell)
        kind = _kind(cell)
        score = max_score = None
        if kind == "test":
            score, max_score = determine_grade(cell)
        results.append(CellResult(index, kind, grade_id(cell), error, text, score, max_score))
    return BlankRun(notebook.name, tuple(results))


def run_lab_blank(lab: Lab, cell_timeout: int = 60) -> BlankRun:
    """Generate the lab's release with nbgrader (in a scratch course) and run it blank."""
    from ..course.build import build_course  # the course machinery, only when a release must be made
    from ..course.workspace import Workspace

    with tempfile.TemporaryDirectory(prefix="blank-release-") as scratch:
        workspace = Workspace(Path(scratch) / "workspace")
        build_course(workspace, [lab], due=datetime(2030, 1, 1))
        return run_blank(workspace.course / "release" / lab.assignment_id / lab.notebook.name, cell_timeout)
