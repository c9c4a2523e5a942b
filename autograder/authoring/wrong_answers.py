"""Prove the hidden tests are strong: every known wrong answer must lose points when its task is graded.

The notebook runs once in one kernel. At each autograded answer cell, every wrong answer from
``wrong_answers.yml`` runs in place of the real answer, followed by the task's test cells: first with the
visible checks only (does the student's self-check catch it?), then whole (visible and hidden tests), scored by
nbgrader's own ``determine_grade``. Then the real answer and its tests run as usual. So a lab with 20 wrong
answers costs one notebook run plus some 60 small cells, not 20 notebook runs.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import yaml
from nbclient import NotebookClient
from nbformat import NotebookNode
from nbgrader.preprocessors import ClearHiddenTests
from nbgrader.utils import determine_grade

from ..labs import Lab, grade_id, task_cells


@dataclass(frozen=True)
class Verdict:
    task: str
    why: str  # "solution" for the real answer
    score: float
    max_score: float
    errors: tuple[str, ...]  # exception names raised by the test cells
    passes_visible: bool = False  # the visible self-checks alone do not catch it (only the hidden tests do)

    @property
    def loses_points(self) -> bool:
        return self.score < self.max_score


def _visible_only(test: NotebookNode) -> NotebookNode:
    visible, _ = ClearHiddenTests().preprocess_cell(copy.deepcopy(test), {}, 0)
    return visible


def _score(client: NotebookClient, tests: list[tuple[int, NotebookNode]]) -> tuple[float, float, list[str]]:
    """Run test cells; nbgrader's score, the most it could be, and the exceptions they raised."""
    score = max_score = 0.0
    errors = []
    for index, test in tests:
        client.execute_cell(test, index)
        points, most = determine_grade(test)
        score += points
        max_score += most
        errors += [o.ename for o in test.outputs if o.output_type == "error"]
    return score, max_score, errors


def _run_task(client: NotebookClient, answer: NotebookNode, index: int, tests: list[tuple[int, NotebookNode]],
              why: str) -> Verdict:
    client.execute_cell(answer, index)
    passes_visible = False
    if why != "solution":
        visible_score, visible_max, _ = _score(client, [(i, _visible_only(t)) for i, t in tests])
        passes_visible = visible_score == visible_max
    score, max_score, errors = _score(client, tests)
    return Verdict(grade_id(answer), why, score, max_score, tuple(errors), passes_visible)


def check_lab(lab: Lab, cell_timeout: int = 60) -> list[Verdict]:
    """One verdict per wrong answer (each should lose points) and one per real solution (should not)."""
    nb = lab.read()
    wrong = yaml.safe_load(lab.wrong_answers.read_text()) or {}
    groups = task_cells(nb)
    verdicts = []
    client = NotebookClient(nb, timeout=cell_timeout, kernel_name="python3", allow_errors=True,
                            interrupt_on_timeout=True, resources={"metadata": {"path": str(lab.folder)}})
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or any(index in tests for tests in groups.values()):
                continue
            if index not in groups:
                client.execute_cell(cell, index)
                continue
            for entry in wrong.get(grade_id(cell), []):
                probe = copy.deepcopy(cell)
                probe.source = entry["source"]
                tests = [(i, copy.deepcopy(nb.cells[i])) for i in groups[index]]
                verdicts.append(_run_task(client, probe, index, tests, entry["why"]))
            verdicts.append(_run_task(client, cell, index, [(i, nb.cells[i]) for i in groups[index]], "solution"))
    return verdicts
