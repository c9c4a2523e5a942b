"""A tiny lab written the way docs/authoring-labs.md asks, for fast tests of the grading machinery.

Four one-line tasks keep a full grading round trip to about a second per submission, so engine tests can
afford several submissions; the real labs are tested in tests/labs/.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

TASKS = {  # name -> (solution body, visible check, hidden check, wrong answers)
    "add": ("return a + b", "assert add(1, 2) == 3, 'add(1, 2) should be 3'",
            "assert add(-2, 2) == 0, 'add must handle negative numbers'",
            ["return a - b", "return abs(a) + abs(b)", "return a * b"]),
    "square": ("return a * a", "assert square(3) == 9, 'square(3) should be 9'",
               "assert square(-4) == 16, 'square must handle negative numbers'",
               ["return a + a", "return abs(a) * 3", "return a ** 3"]),
    "double": ("return 2 * a", "assert double(2) == 4, 'double(2) should be 4'",
               "assert double(5) == 10, 'double(5) should be 10'",
               ["return a + 2", "return a * a", "return 2 ** a"]),
    "negate": ("return -a", "assert negate(1) == -1, 'negate(1) should be -1'",
               "assert negate(-3) == 3, 'negate(-3) should be 3'",
               ["return -abs(a)", "return a - 2", "return 0 - 1"]),
}
HIDDEN_MARKER = "HIDDEN-ONLY-CHECK"


def meta(grade_id: str, *, grade: bool, solution: bool, locked: bool, points: float | None = None) -> dict:
    nbgrader = {"schema_version": 3, "grade": grade, "solution": solution, "locked": locked, "grade_id": grade_id}
    if points is not None:
        nbgrader["points"] = points
    return {"nbgrader": nbgrader}


def notebook(prepend_to_first_answer: str = "") -> nbformat.NotebookNode:
    cells = [new_markdown_cell("# Lab 00 · Tiny\n\n## Learning objectives\n- Add numbers")]
    for n, (name, (body, visible, hidden, _)) in enumerate(TASKS.items()):
        answer = f"def {name}(a, b=0):\n    ### BEGIN SOLUTION\n    {body}\n    ### END SOLUTION"
        if n == 0:
            answer = prepend_to_first_answer + answer
        cells += [
            new_markdown_cell(f"### Task {n + 1} · {name} (1 point)"),
            new_code_cell(answer, metadata=meta(name, grade=False, solution=True, locked=False)),
            new_code_cell(f"{visible}\n### BEGIN HIDDEN TESTS\n# {HIDDEN_MARKER}\n{hidden}\n### END HIDDEN TESTS",
                          metadata=meta(f"{name}_test", grade=True, solution=False, locked=True, points=1)),
        ]
    cells += [
        new_markdown_cell("Why add?", metadata=meta("why", grade=True, solution=True, locked=False, points=1)),
        new_code_cell("import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
                      "fig, ax = plt.subplots()\nax.set_xlabel('x (units)')\nax.set_ylabel('y (units)')"),
        new_markdown_cell("## Summary\n- adding\n\n## References\n- arithmetic"),
    ]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    return nb


def write_lab(labs_dir: Path, name: str = "00-tiny", nb: nbformat.NotebookNode | None = None) -> Path:
    folder = labs_dir / name
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb or notebook(), folder / "tiny.ipynb")
    wrong = {task: [{"why": f"wrong {n}", "source": f"def {task}(a, b=0):\n    {src}"} for n, src in enumerate(w[3])]
             for task, w in TASKS.items()}
    (folder / "wrong_answers.yml").write_text(yaml.safe_dump(wrong))
    return folder
