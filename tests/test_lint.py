"""The lab linter finds each broken authoring rule, and every shipped lab is clean."""
import copy
import json
import re
from pathlib import Path

import nbformat
import pytest
import tinylab
import yaml

from autograder.authoring.lint import lint
from autograder.labs import Lab, discover, grade_id, task_cells


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


# --- lab standard v2 ---------------------------------------------------------------------------------------------

HIDDEN = "### BEGIN HIDDEN TESTS\nassert add(-2, 2) == 0\n### END HIDDEN TESTS"
TWINS = {"add": ("labkit.timing.measure",)}
DELEGATION = {"why": "delegates to labkit.timing.measure", "source": "def add(a, b=0):\n    return measure(a)"}


def _two_points(nb):
    nb.cells[3].metadata["nbgrader"]["points"] = 2


def _split_in_two(nb, second_id="add_test_edges"):
    _two_points(nb)
    nb.cells[3].metadata["nbgrader"]["points"] = 1
    nb.cells.insert(4, nbformat.v4.new_code_cell(f"assert add(0, 0) == 0, 'zero'\n{HIDDEN}",
                                                 metadata=tinylab.meta(second_id, grade=True, solution=False,
                                                                       locked=True, points=1)))


def _forbid(nb, task="add", cells=(3,)):
    for i in cells:
        nb.cells[i].source = f"forbid_twins({task!r})\n{nb.cells[i].source}"


def _wrong_with_delegation(tmp_path):
    folder = tinylab.write_lab(tmp_path)
    wrong = yaml.safe_load((folder / "wrong_answers.yml").read_text())
    wrong["add"].append(DELEGATION)
    return wrong


def test_a_task_worth_more_than_one_point_needs_two_test_cells(tmp_path):
    problems = lint(lab_with(tmp_path, _two_points))
    assert any("task 'add' is worth 2 points: split them over at least two test cells" in p for p in problems)
    assert lint(lab_with(tmp_path, _split_in_two)) == []


def test_later_test_cells_are_named_after_the_task(tmp_path):
    problems = lint(lab_with(tmp_path, lambda nb: _split_in_two(nb, "edges_of_add")))
    assert any("test cells must be named add_test, then add_test_<what> (found add_test, edges_of_add)" in p
               for p in problems), problems


@pytest.mark.parametrize("visible", ["", "# only a comment\nprint('checking')\n", "x = add(1, 2)\n"])
def test_every_test_cell_starts_with_a_visible_check(tmp_path, visible):
    problems = lint(lab_with(tmp_path, lambda nb: setattr(nb.cells[3], "source", visible + HIDDEN)))
    assert any("cell 3 (add_test): needs a visible check" in p for p in problems), problems


def test_a_check_helper_counts_as_a_visible_check(tmp_path):
    change = lambda nb: setattr(nb.cells[3], "source", f"check_equal(add(1, 2), 3, what='1 + 2')\n{HIDDEN}")  # noqa: E731
    assert lint(lab_with(tmp_path, change)) == []


def test_a_task_with_labkit_twins_forbids_them_in_every_test_cell(tmp_path):
    wrong = _wrong_with_delegation(tmp_path)
    problems = lint(lab_with(tmp_path, _split_in_two, wrong=wrong), twins=TWINS)
    assert sum("the first line must be forbid_twins('add')" in p for p in problems) == 2, problems
    only_first = lambda nb: (_split_in_two(nb), _forbid(nb, cells=(3,)))  # noqa: E731
    problems = lint(lab_with(tmp_path, only_first, wrong=wrong), twins=TWINS)
    assert [p for p in problems if "forbid_twins" in p] == [
        "00-tiny: cell 4 (add_test_edges): labkit has twins of 'add' (labkit.timing.measure); the first line must "
        "be forbid_twins('add')"]
    both = lambda nb: (_split_in_two(nb), _forbid(nb, cells=(3, 4)))  # noqa: E731
    assert lint(lab_with(tmp_path, both, wrong=wrong), twins=TWINS) == []


def test_a_task_with_labkit_twins_needs_a_delegation_wrong_answer(tmp_path):
    problems = lint(lab_with(tmp_path, lambda nb: _forbid(nb)), twins=TWINS)
    assert any("'add' has labkit twins; add an entry whose why starts with 'delegates to labkit'" in p
               for p in problems), problems


def test_forbidding_a_task_that_has_no_twins_is_reported(tmp_path):
    problems = lint(lab_with(tmp_path, lambda nb: _forbid(nb, task="ad")), twins=TWINS)
    assert any("forbid_twins('ad') names a task that labkit.grading.TWINS does not list" in p for p in problems)


# --- the guide's own example ------------------------------------------------------------------------------------

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "authoring-labs.md"


def _guide_blocks() -> dict[str, str]:
    """The fenced blocks of docs/authoring-labs.md tagged after the language: ```python answer=time_calls ..."""
    return {info: body for info, body in re.findall(r"^```\w+ (\S[^\n]*)\n(.*?)^```$", GUIDE.read_text(), re.M | re.S)}


def test_the_guides_example_task_follows_the_rules_and_its_wrong_answers_lose_points(tmp_path):
    from autograder.authoring.wrong_answers import check_lab

    blocks = _guide_blocks()
    tests = [(info.split()[0].split("=")[1], float(info.split("points=")[1]), body)
             for info, body in blocks.items() if info.startswith("test=")]
    nb = tinylab.notebook()
    nb.cells[2:4] = [
        nbformat.v4.new_code_cell(blocks["answer=time_calls"], metadata=tinylab.meta(
            "time_calls", grade=False, solution=True, locked=False)),
        *[nbformat.v4.new_code_cell(body, metadata=tinylab.meta(gid, grade=True, solution=False, locked=True,
                                                                 points=points)) for gid, points, body in tests],
        nbformat.v4.new_code_cell(blocks["demo"])]
    nb.cells.insert(1, nbformat.v4.new_code_cell(blocks["setup"]))
    folder = tinylab.write_lab(tmp_path, nb=nb)
    wrong = yaml.safe_load((folder / "wrong_answers.yml").read_text())
    del wrong["add"]
    wrong.update(yaml.safe_load(blocks["wrong_answers"]))
    (folder / "wrong_answers.yml").write_text(yaml.safe_dump(wrong))

    assert [gid for gid, _, _ in tests] == ["time_calls_test", "time_calls_test_edges"]
    assert lint(Lab(folder)) == []
    verdicts = [v for v in check_lab(Lab(folder)) if v.task == "time_calls"]
    assert [v.why for v in verdicts if not v.loses_points] == ["solution"]
    assert any(v.passes_visible for v in verdicts if v.why != "solution")


def test_tasks_with_labkit_twins_have_names_no_other_lab_uses():
    """TWINS is keyed by task grade_id for every lab at once: two labs with one task name would share guards."""
    from labkit.grading import TWINS

    owners = {}
    for lab in discover():
        nb = lab.read()
        for answer in task_cells(nb):
            owners.setdefault(grade_id(nb.cells[answer]), []).append(lab.assignment_id)
    shared = {task: labs for task, labs in owners.items() if task in TWINS and len(labs) > 1}
    assert not shared, f"tasks listed in labkit.grading.TWINS that several labs use: {shared}"


def _rewrite_json(lab, change):
    raw = json.loads(lab.notebook.read_text())
    change(raw)
    lab.notebook.write_text(json.dumps(raw))
    return lab


def test_every_cell_keeps_its_own_id(tmp_path):
    """nbformat would renumber a duplicate on reading, so the linter reads the file itself."""
    def duplicate(raw):
        raw["cells"][3]["id"] = raw["cells"][2]["id"]
    problems = lint(_rewrite_json(lab_with(tmp_path), duplicate))
    assert any("is used 2 times" in p for p in problems), problems


def test_a_notebook_without_cell_ids_is_reported(tmp_path):
    def old_format(raw):
        raw["nbformat_minor"] = 4
        for cell in raw["cells"]:
            del cell["id"]
    problems = lint(_rewrite_json(lab_with(tmp_path), old_format))
    assert any("cells need ids" in p for p in problems), problems
