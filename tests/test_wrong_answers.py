"""The wrong-answer checker scores a task over ALL its test cells (v2 splits a task's points between cells)."""
import nbformat
import tinylab
import yaml

from autograder.authoring.wrong_answers import check_lab
from autograder.labs import Lab


def test_a_mistake_only_the_edge_case_cell_catches_still_loses_points(tmp_path):
    nb = tinylab.notebook()
    nb.cells[3].metadata["nbgrader"]["points"] = 1
    edges = "assert add(0, 0) == 0, 'zero'\n### BEGIN HIDDEN TESTS\nassert add(1.5, 1) == 2.5, 'floats'\n" \
            "### END HIDDEN TESTS"
    nb.cells.insert(4, nbformat.v4.new_code_cell(edges, metadata=tinylab.meta(
        "add_test_edges", grade=True, solution=False, locked=True, points=1)))
    folder = tinylab.write_lab(tmp_path, nb=nb)
    wrong = yaml.safe_load((folder / "wrong_answers.yml").read_text())
    wrong["add"] = [{"why": "truncates floats", "source": "def add(a, b=0):\n    return int(a) + int(b)"}]
    (folder / "wrong_answers.yml").write_text(yaml.safe_dump(wrong))

    verdicts = {(v.task, v.why): v for v in check_lab(Lab(folder))}
    truncates = verdicts["add", "truncates floats"]
    assert (truncates.score, truncates.max_score) == (1, 2) and truncates.loses_points
    assert truncates.passes_visible  # add(0, 0) and add(1, 2) are fine: only the hidden float case catches it
    solution = verdicts["add", "solution"]
    assert (solution.score, solution.max_score) == (2, 2)
