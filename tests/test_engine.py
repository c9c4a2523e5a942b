"""The grading engine contains every kind of broken or hostile submission to that one student.

Uses the tiny lab (tests/tinylab.py) so a submission grades in about a second; real labs are graded in
tests/test_pipeline.py.
"""
import copy
import hashlib
from datetime import datetime
from pathlib import Path

import nbformat
import pytest
import tinylab

from autograder.course.build import build_course
from autograder.course.simulate import Student, simulate_class
from autograder.course.workspace import Workspace
from autograder.feedback.release import give_feedback
from autograder.grading import engine
from autograder.labs import discover

HOSTILE = {
    # kills the grading worker (the kernel's parent process) outright
    "kim": "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n",
    # freezes the grading worker, so nothing inside it can time out: only the engine's budget helps
    "sam": "import os, signal\nos.kill(os.getppid(), signal.SIGSTOP)\n",
    # an infinite loop that swallows the interrupt nbgrader sends at the cell timeout
    "lou": "import time\nwhile True:\n    try:\n        time.sleep(0.05)\n"
           "    except KeyboardInterrupt:\n        pass\n",
}


def _copy_a_test_cell(nb):
    duplicate = copy.deepcopy(nb.cells[3])
    duplicate.id = "pasted-copy"  # JupyterLab gives a pasted cell a new id, keeping its nbgrader metadata
    nb.cells.insert(4, duplicate)


def _lose_all_metadata(nb):
    for cell in nb.cells:
        cell.metadata.pop("nbgrader", None)


def _delete_a_test_cell(nb):
    del nb.cells[3]


def _half_a_file(path):
    path.write_text(path.read_text()[:200])


DAMAGED = {"dee": _copy_a_test_cell, "max": _lose_all_metadata, "tom": _delete_a_test_cell}
FINE = ["amy", "zoe"]
STUDENTS = sorted(FINE + list(HOSTILE) + list(DAMAGED) + ["cut"])


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("engine")
    labs = discover(tinylab.write_lab(root / "labs").parent)
    workspace = Workspace(root / "workspace")
    build_course(workspace, labs, due=datetime(2030, 1, 1), cell_timeout=2)
    students = tuple(Student(s, s.title(), "Test", "solves everything") for s in STUDENTS)
    simulate_class(workspace, labs, students)
    submitted = workspace.course / "submitted"
    for student, code in HOSTILE.items():
        nbformat.write(tinylab.notebook(prepend_to_first_answer=code), submitted / student / "00-tiny" / "tiny.ipynb")
    for student, damage in DAMAGED.items():
        path = submitted / student / "00-tiny" / "tiny.ipynb"
        nb = nbformat.read(path, as_version=4)
        damage(nb)
        nbformat.write(nb, path)
    _half_a_file(submitted / "cut" / "00-tiny" / "tiny.ipynb")
    before = digest(workspace.course / "submitted")
    outcomes = engine.grade(workspace, engine.submitted_jobs(workspace), job_timeout=15, show_progress=False)
    return workspace, {o.student: o for o in outcomes}, before


def test_one_outcome_per_submission_in_order(graded):
    _, outcomes, _ = graded
    assert list(outcomes) == STUDENTS


def test_well_behaved_students_are_graded_despite_hostile_neighbours(graded):
    _, outcomes, _ = graded
    for student in FINE:
        o = outcomes[student]
        assert (o.status, o.score, o.max_score) == ("graded", 4.0, 5.0), o


@pytest.mark.parametrize("student, reason", [
    ("kim", "grading process died"),                          # killed the worker
    ("sam", "longer than the 15 s budget"),                   # froze the worker
    ("dee", "copies of graded cells ['add_test']"),           # nbgrader's own message would be misleading
    ("cut", "tiny.ipynb is not a readable notebook"),         # truncated file
])
def test_a_submission_that_cannot_be_graded_is_reported_for_that_student(graded, student, reason):
    workspace, outcomes, _ = graded
    o = outcomes[student]
    assert o.status == "failed" and reason in o.notes[0], o.notes
    assert not (workspace.course / "autograded" / student / "00-tiny").exists(), "no half-graded leftovers"


def test_a_loop_that_swallows_interrupts_is_reported(graded):
    o = graded[1]["lou"]
    assert o.status == "failed"
    assert "time limit" in o.notes[0] or "budget" in o.notes[0], o.notes


def test_lost_metadata_is_graded_but_flagged(graded):
    o = graded[1]["max"]
    assert (o.status, o.score) == ("graded", 0) and "lost all its grading metadata" in o.notes[0]


def test_a_deleted_test_cell_costs_its_points_and_is_flagged(graded):
    o = graded[1]["tom"]
    assert (o.status, o.score) == ("graded", 3.0) and "missing graded cells ['add_test']" in o.notes[0]


def test_submissions_are_never_modified(graded):
    workspace, _, before = graded
    assert digest(workspace.course / "submitted") == before


def test_gradebook_stays_readable_and_complete(graded):
    workspace, _, _ = graded
    with workspace.gradebook() as gradebook:
        assert sorted(s.id for s in gradebook.students) == STUDENTS
        assert gradebook.find_submission("00-tiny", "amy").score == 4.0


def test_save_keeps_the_newest_result_per_submission(tmp_path, graded):
    _, outcomes, _ = graded
    report = tmp_path / "grading.json"
    engine.save(list(outcomes.values()), report)
    regraded = outcomes["kim"].__class__("00-tiny", "kim", "graded", 4.0, 5.0)
    engine.save([regraded], report)
    loaded = {o.student: o for o in engine.load(report)}
    assert len(loaded) == len(outcomes) and loaded["kim"].status == "graded"


def test_a_worker_that_cannot_start_is_an_environment_error_not_a_grade(tmp_path):
    workspace = Workspace(tmp_path)
    workspace.course.mkdir()
    workspace.config_file.write_text("this is not python\n")
    with pytest.raises(engine.WorkerError, match="did not start; see .*worker.log"):
        engine.grade(workspace, [engine.Job("00-tiny", "amy")], show_progress=False)


def test_feedback_problems_stay_with_their_student(graded):
    """A submission that did not come through `nbgrader submit` (no secret, nbgrader #1897) cannot have its
    feedback released; the others still get theirs."""
    workspace, outcomes, _ = graded
    (workspace.course / "autograded" / "zoe" / "00-tiny" / "submission_secret.txt").unlink()
    result = give_feedback(workspace, ["00-tiny"], partial=True, show_progress=False)  # written answers unmarked
    files, problems = result.files, result.problems
    assert len(problems) == 1 and problems[0].startswith("zoe 00-tiny: release_feedback failed"), problems
    graded_students = {s for s, o in outcomes.items() if o.status == "graded"}
    assert {p.parts[-3] for p in files} == graded_students
    released = list(workspace.exchange.glob("*/feedback/*.html"))
    assert len(released) == len(graded_students) - 1
