"""Every lab grades correctly: nbgrader's validator, the blank release, and the wrong-answer check.

(That each source notebook runs top to bottom is nbval's job: ``pytest --nbval-lax labs``; the round trip
through the real nbgrader pipeline is in tests/test_pipeline.py.)
"""
from datetime import datetime

import pytest
from nbgrader.validator import Validator

from autograder.authoring.blank_release import run_blank
from autograder.authoring.wrong_answers import check_lab
from autograder.course.build import build_course
from autograder.course.workspace import Workspace
from autograder.labs import Lab, discover, grade_id, is_test

LABS = discover()


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    workspace = Workspace(tmp_path_factory.mktemp("labs") / "workspace")
    build_course(workspace, LABS, due=datetime(2030, 1, 1))
    return workspace


def _version(course: Workspace, lab: Lab, kind: str):
    return course.course / kind / lab.assignment_id / lab.notebook.name


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.assignment_id)
def test_source_notebook_validates_clean(course, lab):
    assert Validator().validate(str(_version(course, lab, "source"))) == {}


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.assignment_id)
def test_blank_release_gives_no_points_and_runs_every_other_cell(course, lab):
    """Run blank through nbgrader's Execute: every test cell fails because student code is missing (no free
    points, and no test broken for everyone), and every cell that is not a task runs -- demos and figures fall
    back to labkit's reference, so one unfinished task does not blank the rest of the lab."""
    blank = run_blank(_version(course, lab, "release"))
    tests = [c for c in lab.read().cells if is_test(c)]
    assert len(blank.of_kind("test")) == len(tests) and blank.of_kind("code"), blank.summary()
    assert blank.problems() == [], blank.summary()
    assert blank.free_points == 0


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.assignment_id)
def test_every_wrong_answer_loses_points_and_every_solution_scores_full(lab):
    verdicts = check_lab(lab)
    solutions = [v for v in verdicts if v.why == "solution"]
    assert solutions and all(not v.loses_points for v in solutions), solutions
    survivors = [(v.task, v.why) for v in verdicts if v.why != "solution" and not v.loses_points]
    assert not survivors, f"wrong answers that the tests do not catch: {survivors}"
    tasks = {grade_id(c) for c in lab.read().cells if c.cell_type == "code"} & {v.task for v in solutions}
    assert all(sum(v.task == t and v.why != "solution" for v in verdicts) >= 3 for t in tasks)
    only_hidden = {v.task for v in verdicts if v.passes_visible and v.loses_points}
    assert only_hidden == tasks, f"tasks whose hidden tests catch no mistake the visible checks miss: " \
                                 f"{sorted(tasks - only_hidden)}"
