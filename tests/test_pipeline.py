"""`substrate-labs demo` on the real labs: the whole nbgrader round trip, as an instructor runs it.

One demo run (about two minutes) serves every test here: build, release, a simulated class submitting through
nbgrader's exchange, collect, autograde, feedback, export.
"""
import csv
import json
import re
import socket
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
import requests
from nbgrader.utils import is_grade

from autograder.authoring.lint import HIDDEN_BEGIN, HIDDEN_END
from autograder.course.simulate import DEFAULT_CLASS, student_config
from autograder.course.workspace import Workspace
from autograder.feedback.preprocessors import TRACEBACK_NOTE
from autograder.labs import discover, is_test, task_cells
from autograder.reports import grades as report

LABS = discover()
CELL_TIMEOUT = 10


def autograded_points(lab):
    nb = lab.read()
    return sum(c.metadata.nbgrader.points for c in nb.cells if is_test(c))


def written_points(lab):
    return sum(c.metadata.nbgrader.points for c in lab.read().cells if c.cell_type == "markdown" and is_grade(c))


def last_task_points(lab):
    nb = lab.read()
    last = max(task_cells(nb))
    return sum(nb.cells[i].metadata.nbgrader.points for i in task_cells(nb)[last])


def hidden_lines(lab):
    """Lines that appear only inside hidden-test blocks (long enough to be meaningful)."""
    hidden, visible = set(), set()
    for cell in lab.read().cells:
        inside = False
        for line in cell.source.splitlines():
            if HIDDEN_BEGIN in line or HIDDEN_END in line:
                inside = HIDDEN_BEGIN in line
                continue
            (hidden if inside else visible).add(line.strip())
    # A hidden line that is part of a visible one (the same call with a comment after it) shows legitimately.
    return {
        line for line in hidden - visible
        if len(line) >= 12 and not any(line in shown for shown in visible)
    }


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts = []

    def handle_data(self, data):
        self.parts.append(data)


def page_text(path: Path) -> str:
    parser = _Text()
    parser.feed(path.read_text())
    return "".join(parser.parts)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    workspace = tmp_path_factory.mktemp("demo") / "classroom"
    run = subprocess.run([sys.executable, "-m", "autograder.cli", "demo", "--workspace", str(workspace),
                          "--cell-timeout", str(CELL_TIMEOUT)], capture_output=True, text=True,
                         timeout=3600)  # a guard against a hang, not a speed check: a loaded machine is normal
    assert run.returncode == 0, run.stderr[-3000:]
    outcomes = json.loads((workspace / "reports" / "grading.json").read_text())
    return workspace, run.stdout, {(o["student"], o["assignment"]): o for o in outcomes}


def outcome(demo, student, lab):
    return demo[2][(student, lab.assignment_id)]


def test_every_submission_has_an_outcome(demo):
    assert len(demo[2]) == len(DEFAULT_CLASS) * len(LABS)


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.assignment_id)
def test_full_solution_scores_every_autograded_point(demo, lab):
    o = outcome(demo, "ada", lab)
    assert (o["status"], o["score"]) == ("graded", autograded_points(lab))


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.assignment_id)
def test_blank_release_scores_zero(demo, lab):
    o = outcome(demo, "ben", lab)
    assert (o["status"], o["score"]) == ("graded", 0)


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.assignment_id)
def test_wrong_answers_lose_points_but_right_ones_count(demo, lab):
    o = outcome(demo, "chen", lab)
    assert 0 < o["score"] < autograded_points(lab)


@pytest.mark.parametrize("student", ["dana", "eve", "gus"])
@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.assignment_id)
def test_code_that_raises_loops_or_kills_the_kernel_costs_only_its_task(demo, lab, student):
    o = outcome(demo, student, lab)
    assert (o["status"], o["score"]) == ("graded", autograded_points(lab) - last_task_points(lab))


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.assignment_id)
def test_the_infinite_loop_is_named_in_the_notes(demo, lab):
    assert any(f"ran past the {CELL_TIMEOUT} s limit" in note for note in outcome(demo, "eve", lab)["notes"])


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.assignment_id)
def test_late_submission_loses_a_tenth_per_day(demo, lab):
    o = outcome(demo, "finn", lab)
    assert o["score"] == autograded_points(lab)
    assert o["late_penalty"] == pytest.approx(0.2 * o["score"])


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.assignment_id)
def test_broken_submissions_are_reported_for_that_student(demo, lab):
    o = outcome(demo, "hana", lab)
    assert o["status"] == "failed" and "not a readable notebook" in o["notes"][0]
    assert any("kernel died" in note for note in outcome(demo, "gus", lab)["notes"])


def test_score_table_and_locations_are_printed(demo):
    stdout = demo[1]
    table = stdout[stdout.index("student  "):]
    for student in DEFAULT_CLASS:
        assert re.search(rf"^{student.id}\s", table, re.M)
    assert "(late −" in table and "failed" in table
    for where in ("feedback HTML", "grades CSV", "grading notes CSV", "grading logs"):
        assert where in stdout


def test_grading_notes_tell_a_failed_zero_from_an_earned_one(demo):
    with open(demo[0] / "reports" / "grading-notes.csv") as f:
        rows = {(r["student"], r["assignment"]): r for r in csv.DictReader(f)}
    assert len(rows) == len(DEFAULT_CLASS) * len(LABS)
    for lab in LABS:
        assert rows[("hana", lab.assignment_id)]["status"] == "failed"
        assert "not a readable notebook" in rows[("hana", lab.assignment_id)]["notes"]
        assert (rows[("ben", lab.assignment_id)]["status"], float(rows[("ben", lab.assignment_id)]["score"])) == \
            ("graded", 0.0)


def test_grades_csv_has_a_row_per_student_and_lab(demo):
    workspace = demo[0]
    with open(workspace / "reports" / "grades.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(DEFAULT_CLASS) * len(LABS)
    ada = [r for r in rows if r["student_id"] == "ada"]
    assert all(float(r["raw_score"]) > 0 for r in ada)


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.assignment_id)
def test_feedback_never_shows_hidden_tests(demo, lab):
    workspace = demo[0]
    secrets = hidden_lines(lab)
    assert secrets, "the lab has no hidden tests to protect"
    pages = sorted((workspace / "course" / "feedback").glob(f"*/{lab.assignment_id}/*.html"))
    graded = [s for s, a in demo[2] if a == lab.assignment_id and demo[2][(s, a)]["status"] == "graded"]
    assert len(pages) == len(graded)
    for page in pages:
        text = page_text(page)
        leaked = [line for line in secrets if line in text]
        assert not leaked, f"{page} shows hidden test lines: {leaked[:3]}"


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.assignment_id)
def test_feedback_keeps_the_messages_of_failed_tests(demo, lab):
    """Cut tracebacks still say which exception and message each failed test cell raised."""
    course = demo[0] / "course"
    graded = nbformat.read(course / "autograded" / "chen" / lab.assignment_id / lab.notebook.name, as_version=4)
    errors = [o for c in graded.cells if is_test(c) for o in c.outputs if o.output_type == "error"]
    assert errors, "chen's wrong answers should fail some tests"
    text = page_text(course / "feedback" / "chen" / lab.assignment_id / lab.notebook.with_suffix(".html").name)
    assert TRACEBACK_NOTE in text
    for error in errors:
        assert (f"{error.ename}: {error.evalue}" if error.evalue else error.ename) in text


def test_feedback_is_released_and_a_student_can_fetch_it(demo):
    workspace = Workspace(demo[0])
    released = list(workspace.exchange.glob("*/feedback/*.html"))
    graded = [k for k, o in demo[2].items() if o["status"] == "graded"]
    assert len(released) == len(graded)
    ada = next(s for s in DEFAULT_CLASS if s.id == "ada")
    api = workspace.api(student_config(workspace, ada))
    for lab in LABS:
        assert api.fetch_feedback(lab.assignment_id, "ada")["success"]
        assert list((workspace.students / "ada" / lab.assignment_id / "feedback").glob("*/*.html"))


def test_plain_nbgrader_works_on_the_course(demo):
    course = demo[0] / "course"
    run = subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "db", "student", "list"], cwd=course,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    for student in DEFAULT_CLASS:
        assert student.id in run.stdout


# --- the instructor's manual grading, through nbgrader's real formgrader (last: it adds manual scores) --------

@pytest.fixture(scope="module")
def formgrader(demo):
    """A real Jupyter server with nbgrader's formgrader, started in the course directory, on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = "formgrader-test-token"
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "jupyter"), "server", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", "--ServerApp.open_browser=False", "--allow-root"],
        cwd=demo[0] / "course", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base, headers = f"http://127.0.0.1:{port}", {"Authorization": f"token {token}"}
    try:
        for _ in range(120):
            try:
                requests.get(f"{base}/api/status", headers=headers, timeout=2).raise_for_status()
                break
            except requests.RequestException:
                time.sleep(0.5)
        else:
            pytest.fail("the Jupyter server with formgrader did not start within 60 s")
        yield lambda method, path, **kw: requests.request(method, f"{base}/formgrader/api/{path}",
                                                          headers=headers, timeout=30, **kw)
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_formgrader_lists_every_lab_and_submission(formgrader):
    assignments = {a["name"]: a for a in formgrader("GET", "assignments").json()}
    assert set(assignments) == {lab.assignment_id for lab in LABS}
    assert all(a["num_submissions"] == len(DEFAULT_CLASS) for a in assignments.values())


def test_manual_grades_entered_in_formgrader_complete_the_score(demo, formgrader):
    for lab in LABS:
        notebooks = formgrader("GET", f"submitted_notebooks/{lab.assignment_id}/{lab.notebook.stem}").json()
        ada = next(n for n in notebooks if n["student"] == "ada")
        grades = formgrader("GET", "grades", params={"submission_id": ada["id"]}).json()
        manual = [g for g in grades if g["needs_manual_grade"]]
        assert manual, "ada's written answers should wait for a person"
        for grade in manual:
            response = formgrader("PUT", f"grade/{grade['id']}", json={"manual_score": grade["max_score"]})
            assert response.json()["needs_manual_grade"] is False
    table = report.score_table(Workspace(demo[0]), [])
    ada_row = next(line for line in table.splitlines() if line.startswith("ada "))
    assert ada_row.split()[1:] == [f"{autograded_points(lab) + written_points(lab):g}/"
                                   f"{autograded_points(lab) + written_points(lab):g}" for lab in LABS]
