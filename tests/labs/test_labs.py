"""Every lab grades correctly: nbgrader's validator gate and the wrong-answer check.

(That each source notebook runs top to bottom is nbval's job: ``pytest --nbval-lax labs``; the round trip
through the real nbgrader pipeline is in tests/test_pipeline.py.)
"""
from datetime import datetime

import nbformat
import pytest
from nbgrader import utils
from nbgrader.validator import Validator

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
def test_release_fails_exactly_where_students_write_code(course, lab):
    """Every test cell fails on the blank release (so no free points, which is what Validator(invert=True)
    checks), and each fails because student code is missing, not because the lab itself is broken.
    Unanswered written questions count as failed too (nbgrader scores an unchanged answer 0)."""
    release = _version(course, lab, "release")
    cells = nbformat.read(release, as_version=4).cells
    tests = {c.source.strip() for c in cells if is_test(c)}
    written = [c for c in cells if c.cell_type == "markdown" and utils.is_grade(c)]
    failed = Validator().validate(str(release)).get("failed", [])
    failed_tests = [f for f in failed if f["source"] in tests]
    assert len(failed_tests) == len(tests) and len(failed) == len(tests) + len(written), \
        [f["source"][:60] for f in failed]
    for failure in failed_tests:
        assert "NotImplementedError" in failure["raw_error"] or "NameError" in failure["raw_error"], \
            failure["raw_error"][-500:]


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
