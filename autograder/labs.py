"""The labs in ``labs/``: one numbered folder per nbgrader assignment."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbgrader import utils

REPO_ROOT = Path(__file__).resolve().parents[1]
LABS_DIR = REPO_ROOT / "labs"


class LabError(ValueError):
    """A lab folder is not laid out as docs/authoring-labs.md describes."""


@dataclass(frozen=True)
class Lab:
    folder: Path

    @property
    def assignment_id(self) -> str:
        return self.folder.name

    @property
    def notebook(self) -> Path:
        notebooks = sorted(p for p in self.folder.glob("*.ipynb"))
        if len(notebooks) != 1:
            raise LabError(f"{self.folder} must hold exactly one source notebook, found {len(notebooks)}")
        return notebooks[0]

    @property
    def wrong_answers(self) -> Path:
        return self.folder / "wrong_answers.yml"

    @property
    def assets(self) -> list[Path]:
        """Files released to students with the notebook (data, an importable worker module, ...): everything in
        the folder but the notebook, the wrong answers (they are answers) and editor or Python caches."""
        skip = {self.notebook, self.wrong_answers}
        return sorted(p for p in self.folder.rglob("*") if p.is_file() and p not in skip
                      and not any(part.startswith(".") or part == "__pycache__"
                                  for part in p.relative_to(self.folder).parts))

    def read(self) -> NotebookNode:
        return nbformat.read(self.notebook, as_version=4)


def discover(labs_dir: Path = LABS_DIR, only: list[str] | None = None) -> list[Lab]:
    """Labs in folder order; ``only`` picks assignment ids (an unknown id is an error, not silently skipped)."""
    labs = [Lab(p) for p in sorted(labs_dir.iterdir()) if p.is_dir() and any(p.glob("*.ipynb"))]
    if only:
        known = {lab.assignment_id: lab for lab in labs}
        missing = [name for name in only if name not in known]
        if missing:
            raise LabError(f"no lab named {', '.join(missing)} in {labs_dir}; known: {', '.join(known)}")
        labs = [known[name] for name in only]
    return labs


def grade_id(cell: NotebookNode) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def is_answer(cell: NotebookNode) -> bool:
    """An autograded answer: a code cell the student writes that is not itself graded."""
    return cell.cell_type == "code" and utils.is_solution(cell) and not utils.is_grade(cell)


def is_test(cell: NotebookNode) -> bool:
    return cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell)


def task_cells(nb: NotebookNode) -> dict[int, list[int]]:
    """Answer cell index -> indices of its test cells: the code cells right after it that are test cells."""
    groups: dict[int, list[int]] = {}
    current: int | None = None
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if is_answer(cell):
            current = index
            groups[index] = []
        elif is_test(cell) and current is not None:
            groups[current].append(index)
        else:
            current = None
    return groups
