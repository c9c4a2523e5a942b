"""Killing the grader mid-run and running it again loses nothing, doubles nothing and leaves nothing behind."""
import json
import subprocess
import sys
import time
from datetime import datetime

import tinylab

from autograder.cli import main
from autograder.course.build import build_course
from autograder.course.simulate import Student, simulate_class
from autograder.course.workspace import Workspace
from autograder.grading import sandbox
from autograder.labs import discover

STUDENTS = [f"s{n}" for n in range(6)]


def test_a_killed_grader_is_resumed_by_running_it_again(tmp_path, monkeypatch):
    monkeypatch.setenv("SUBSTRATE_SANDBOX_ROOT", str(tmp_path / "sandboxes"))  # this run's own folders
    labs = discover(tinylab.write_lab(tmp_path / "labs").parent)
    workspace = Workspace(tmp_path / "workspace")
    build_course(workspace, labs, due=datetime(2030, 1, 1), cell_timeout=10)
    simulate_class(workspace, labs, tuple(Student(s, "S", s, "solves everything") for s in STUDENTS))
    grader = subprocess.Popen([sys.executable, "-m", "autograder.cli", "grade", "--workspace", str(workspace.root),
                               "--workers", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    autograded = workspace.course / "autograded"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and len(list(autograded.glob("*/00-tiny"))) < 2 and grader.poll() is None:
        time.sleep(0.1)
    grader.kill()  # SIGKILL: no clean-up of its own
    grader.wait()
    assert len(list(autograded.glob("*/00-tiny"))) < len(STUDENTS), "killed mid-run"

    assert main(["grade", "--workspace", str(workspace.root), "--workers", "2"]) == 0
    report = {o["student"]: o for o in json.loads((workspace.root / "reports" / "grading.json").read_text())}
    assert {s: (o["status"], o["score"]) for s, o in report.items()} == \
           {s: ("graded", float(len(tinylab.TASKS))) for s in STUDENTS}
    with workspace.gradebook() as gradebook:
        submissions = gradebook.find_assignment("00-tiny").submissions
        assert sorted(s.student.id for s in submissions) == STUDENTS, "one record per submission"
    deadline = time.monotonic() + 120  # the killed grader's workers finish their job, see stdin close, end
    while time.monotonic() < deadline and any(sandbox.leftovers()):
        time.sleep(0.5)
    assert sandbox.leftovers() == ([], [])
