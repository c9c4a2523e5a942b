"""The blank-release check finds free points, demos that an unfinished task breaks, and broken test cells.

The release is made by nbgrader (generate_assignment) and run by nbgrader's Execute preprocessor.
"""
from datetime import datetime

import nbformat
import tinylab

from autograder.authoring.blank_release import run_blank, run_lab_blank
from autograder.course.build import build_course
from autograder.course.workspace import Workspace
from autograder.labs import Lab


def release_of(tmp_path, nb):
    lab = Lab(tinylab.write_lab(tmp_path / "labs", nb=nb))
    workspace = Workspace(tmp_path / "ws")
    build_course(workspace, [lab], due=datetime(2030, 1, 1))
    return workspace.course / "release" / lab.assignment_id / lab.notebook.name


def test_the_tiny_lab_blank_gives_nothing_and_runs_every_other_cell(tmp_path):
    blank = run_lab_blank(Lab(tinylab.write_lab(tmp_path)))
    assert blank.problems() == []
    assert [c.grade_id for c in blank.of_kind("test")] == [f"{t}_test" for t in tinylab.TASKS]
    assert all(c.score == 0 and "NotImplementedError" in c.error for c in blank.of_kind("test"))
    assert blank.free_points == 0 and len(blank.of_kind("code")) == 1
    assert blank.summary() == "blank release: 1 of 1 non-task code cells run, 4 of 4 test cells fail, 0 free points"


def test_free_points_broken_demos_and_broken_tests_are_each_reported(tmp_path):
    nb = tinylab.notebook()
    hidden = "### BEGIN HIDDEN TESTS\nassert True\n### END HIDDEN TESTS"
    nb.cells[6].source = f"assert 'square' in globals(), 'define square'\n{hidden}"   # passes blank
    nb.cells[9].source = f"assert [1] == [2], 'a typo in the test'\n{hidden}"           # fails for everyone
    nb.cells[13:13] = [nbformat.v4.new_code_cell("print(add(1, 2))"),                  # needs task 1 done
                       nbformat.v4.new_code_cell("from labkit.grading import with_fallback\n"
                                                 "print(with_fallback('add', lambda a, b=0: a + b)(1, 2))")]
    blank = run_blank(release_of(tmp_path, nb))
    problems = blank.problems()
    assert any("cell 6 (square_test): gives 1 of 1 points on the blank release" in p for p in problems)
    assert any("cell 9 (double_test): fails blank for another reason" in p and "a typo" in p for p in problems)
    assert any(p.startswith("cell 13: fails on the blank release (NotImplementedError)") for p in problems)
    assert len(problems) == 3, problems  # the cell that falls back (14) runs
    assert blank.free_points == 1
    assert blank.summary() == "blank release: 2 of 3 non-task code cells run, 3 of 4 test cells fail, 1 free points"
