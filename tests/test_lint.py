"""The lab linter finds each broken authoring rule, and every shipped lab is clean."""
import copy

import nbformat
import pytest
import tinylab
import yaml

from autograder.authoring.lint import lint
from autograder.labs import Lab, discover


def lab_with(tmp_path, change=None, wrong=None):
    nb = tinylab.notebook()
    if change:
        change(nb)
    folder = tinylab.write_lab(tmp_path, nb=nb)
    if wrong is not None:
        (folder / "wrong_answers.yml").write_text(yaml.safe_dump(wrong))
    return Lab(folder)


def test_the_tiny_template_is_clean(tmp_path):
    assert lint(lab_with(tmp_path)) == []


@pytest.mark.parametrize("lab", discover(), ids=lambda lab: lab.assignment_id)
def test_shipped_labs_are_clean(lab):
    assert lint(lab) == []


def _set(index, **nbgrader):
    def change(nb):
        nb.cells[index].metadata["nbgrader"].update(nbgrader)
    return change


def _stored_output(nb):
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", text="hi")]
    nb.cells[2].execution_count = 3


def _drop_test_cell(nb):
    del nb.cells[3]


def _plain_test_cell(nb):
    nb.cells[3].source = "assert add(1, 2) == 3"


def _no_objectives(nb):
    nb.cells[0].source = "# Lab 00"


def _no_references(nb):
    nb.cells[-1].source = "## Summary\n- done"


def _no_written_question(nb):
    del nb.cells[-3].metadata["nbgrader"]


def _no_figure(nb):
    nb.cells[-2].source = "print('no plot')"


def _test_cell_after_a_demo(nb):
    nb.cells.insert(3, nbformat.v4.new_code_cell("x = 1"))


@pytest.mark.parametrize("change, message", [
    (_set(2, schema_version=2), "schema_version must be 3"),
    (_set(2, checksum="abc"), "unexpected nbgrader keys"),
    (_set(3, points=0), "points must be a number > 0"),
    (_set(3, grade_id="add"), "grade_id 'add' is used 2 times"),
    (_set(2, locked="yes"), "'locked' must be true or false"),
    (_stored_output, "stored outputs"),
    (_drop_test_cell, "must be followed by its test cell"),
    (_plain_test_cell, "needs a hidden-test block"),
    (_test_cell_after_a_demo, "must come right after an answer cell"),
    (_no_objectives, "learning objectives"),
    (_no_references, "'## References'"),
    (_no_written_question, "manually graded written question"),
    (_no_figure, "labelled axes"),
])
def test_each_broken_rule_is_reported(tmp_path, change, message):
    problems = lint(lab_with(tmp_path, change))
    assert any(message in p for p in problems), problems


def test_too_few_tasks(tmp_path):
    def keep_two_tasks(nb):
        del nb.cells[7:13]
    problems = lint(lab_with(tmp_path, keep_two_tasks))
    assert any("at least 4 autograded tasks, found 2" in p for p in problems), problems


def test_wrong_answers_must_cover_every_task(tmp_path):
    wrong = yaml.safe_load(yaml.safe_dump({"add": [{"why": "w", "source": "def add(a, b=0): return 0"}] * 3,
                                           "nonsense": [{"why": "w", "source": "x"}]}))
    problems = lint(lab_with(tmp_path, wrong=wrong))
    assert any("'nonsense' is not an answer cell's grade_id" in p for p in problems)
    assert any("'square' has 0 wrong answers, needs at least 3" in p for p in problems)


def test_wrong_answer_entries_need_why_and_source(tmp_path):
    wrong = {task: [{"why": "w", "source": "pass"}] * 3 for task in tinylab.TASKS}
    wrong["add"] = copy.deepcopy(wrong["add"])
    wrong["add"][1] = {"why": "forgot the code"}
    problems = lint(lab_with(tmp_path, wrong=wrong))
    assert any("'add' entry 2 needs 'why' and 'source'" in p for p in problems), problems


def test_an_unreadable_notebook_is_a_finding_not_a_crash(tmp_path):
    lab = lab_with(tmp_path)
    lab.notebook.write_text("{ not json")
    assert any("cannot read tiny.ipynb" in p for p in lint(lab))
