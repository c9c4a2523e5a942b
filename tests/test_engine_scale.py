"""The engine gives nbgrader's results, and the same results on a real Dask cluster that loses a worker.

Equivalence: one class of the tiny lab is graded by plain ``nbgrader autograde`` (its command line, on a copy of
the course) and by the engine; every grade of every cell must agree. The class includes a correct answer that
makes numpy warn on stderr: the course's IgnorePattern (autograder/grading/noise.py) keeps its points both ways.
"""
import re
import shutil
import subprocess
import sys
import threading
import time
from datetime import datetime

import nbformat
import pytest
import tinylab
from nbformat.v4 import new_code_cell, new_output
from nbgrader.preprocessors import IgnorePattern

from autograder.course.build import build_course
from autograder.course.simulate import Student, simulate_class
from autograder.course.workspace import Workspace
from autograder.grading import engine, prepare
from autograder.grading.backends import LocalPool
from autograder.grading.noise import LIBRARY_NOISE
from autograder.labs import discover

CLASS = (Student("ada", "Ada", "L", "solves everything"), Student("ben", "Ben", "O", "submits the blank release"),
         Student("chen", "Chen", "W", "gets every other task wrong"),
         Student("dana", "Dana", "I", "writes code that raises"),
         Student("finn", "Finn", "L", "solves everything", days_late=2.0),
         Student("nora", "Nora", "N", "solves everything"))
NOISY = "import numpy as np\n_ = np.log(np.float64(0))  # RuntimeWarning on stderr, harmless\n"


def _make_noisy(path):
    """Nora's square() is correct but makes numpy warn on stderr each time the test calls it."""
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if c.source.startswith("def square"))
    cell.source = cell.source.replace("return a * a", NOISY.replace("\n", "\n    ") + "return a * a") \
        if "return a * a" in cell.source else cell.source
    nbformat.write(nb, path)


def _course(root, students):
    labs = discover(tinylab.write_lab(root / "labs").parent)
    workspace = Workspace(root / "workspace")
    build_course(workspace, labs, due=datetime(2030, 1, 1), cell_timeout=10)
    simulate_class(workspace, labs, students)
    return workspace


def _grades(workspace):
    with workspace.gradebook() as gradebook:
        return {(s.id, g.name): (g.auto_score, g.max_score) for s in gradebook.students
                for g in gradebook.find_submission("00-tiny", s.id).notebooks[0].grades}, \
               {s.id: (gradebook.find_submission("00-tiny", s.id).score,
                       gradebook.find_submission("00-tiny", s.id).late_submission_penalty) for s in gradebook.students}


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    ours = _course(tmp_path_factory.mktemp("equivalence") / "a", CLASS)
    _make_noisy(ours.course / "submitted" / "nora" / "00-tiny" / "tiny.ipynb")
    plain_root = tmp_path_factory.mktemp("equivalence") / "b"
    shutil.copytree(ours.root, plain_root / "workspace", symlinks=True)
    plain = Workspace(plain_root / "workspace")
    plain.config_file.write_text(plain.config_file.read_text().replace(str(ours.root.resolve()),
                                                                      str(plain.root.resolve())))
    run = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", "00-tiny", "--force"], cwd=plain.course,
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-2000:]
    outcomes = engine.grade(ours, engine.submitted_jobs(ours), workers=2, show_progress=False)
    return ours, plain, outcomes


def test_engine_and_plain_nbgrader_give_identical_grades(both):
    ours, plain, outcomes = both
    assert all(o.status == "graded" for o in outcomes), outcomes
    assert _grades(ours) == _grades(plain)
    scores = _grades(ours)[1]
    assert len({scores["ada"], scores["ben"], scores["chen"]}) == 3, "the class spans different scores"


def test_a_library_warning_does_not_zero_a_correct_answer(both):
    ours, _, outcomes = both
    nb = nbformat.read(ours.course / "autograded" / "nora" / "00-tiny" / "tiny.ipynb", as_version=4)
    assert "np.log" in "".join(c.source for c in nb.cells), "the noisy answer was graded"
    assert {o.student: o.score for o in outcomes}["nora"] == {o.student: o.score for o in outcomes}["ada"]


@pytest.mark.parametrize("stderr, ignored", [
    ("<ipython-input-3>:2: RuntimeWarning: divide by zero encountered in log\n", True),
    ("/venv/lib/python3.11/site-packages/m.py:7: DeprecationWarning: old\n  warnings.warn('old')\n", True),
    ("2026-12-03 11:00:00.1 [W:onnxruntime:, session_state.cc:1166] Some nodes were not assigned\n", True),
    ("add(2, 2) should be 4\n", False),                                    # a test reporting failure
    ("<ipython-input-3>:2: RuntimeWarning: overflow\nwrong answer\n", False),  # a warning does not hide it
])
def test_only_library_warnings_are_ignored(stderr, ignored):
    cell = new_code_cell("check()", outputs=[new_output("stream", name="stderr", text=stderr)])
    nb = nbformat.v4.new_notebook(cells=[cell])
    IgnorePattern(pattern=LIBRARY_NOISE).preprocess(nb, {})
    assert (nb.cells[0].outputs == []) == ignored
    assert re.search(LIBRARY_NOISE, stderr) is not None if ignored else True


def test_dask_cluster_losing_a_worker_mid_batch_grades_every_submission_once(tmp_path, monkeypatch):
    """A real LocalCluster with worker processes; one worker is killed while it runs a submission. The
    scheduler runs that submission elsewhere, and the single writer records each submission exactly once."""
    from distributed import Client, LocalCluster

    monkeypatch.setenv("SUBSTRATE_SANDBOX_ROOT", str(tmp_path / "sandboxes"))  # a killed worker's folder stays here
    students = tuple(Student(f"s{n}", "S", str(n), "solves everything") for n in range(6))
    workspace = _course(tmp_path, students)
    for s in students:  # slow enough to be caught mid-job, well within the 10 s cell limit
        path = workspace.course / "submitted" / s.id / "00-tiny" / "tiny.ipynb"
        nbformat.write(tinylab.notebook(prepend_to_first_answer="import time\ntime.sleep(1.5)\n"), path)
    recorded = []
    real_record = engine.record
    monkeypatch.setattr(engine, "record",
                        lambda ws, api, p, nb: recorded.append(p.student) or real_record(ws, api, p, nb))
    killed = {}
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        pids = client.run(lambda: __import__("os").getpid())

        def kill_a_busy_worker():
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline and not killed:
                busy = [w for w, tasks in client.processing().items() if tasks]
                if busy and any(client.run(lambda: __import__("sys").modules.get("autograder.grading.execute")
                                           is not None, workers=busy[:1]).values()):
                    time.sleep(1.0)  # inside its first submission's kernel
                    killed[busy[0]] = pids[busy[0]]
                    __import__("os").kill(pids[busy[0]], 9)
                time.sleep(0.2)

        killer = threading.Thread(target=kill_a_busy_worker, daemon=True)
        killer.start()
        outcomes = engine.grade(workspace, engine.submitted_jobs(workspace), dask=cluster.scheduler_address,
                                workers=2, show_progress=False)
        killer.join()
    assert killed, "a worker was killed mid-job"
    assert sorted(recorded) == sorted(s.id for s in students), "each submission recorded exactly once"
    assert [(o.status, o.score) for o in outcomes] == [("graded", float(len(tinylab.TASKS)))] * len(students)


def test_the_local_pool_prepares_lazily_a_bounded_number_ahead(tmp_path):
    """A class of 300 must not be prepared (and held in memory) before grading starts: the pool takes the
    payloads as it goes, at most one per worker ahead of those running (so a freed worker never waits for
    the grader to prepare its next one). That it is sent before the grader records the last result is a
    speed property, measured by benchmarks/grading.py."""
    workspace = _course(tmp_path, tuple(Student(f"s{n}", "S", str(n), "solves everything") for n in range(7)))
    api, settings = workspace.api(), prepare.settings_from_course(workspace)
    taken = []

    def payloads():
        for job in engine.submitted_jobs(workspace):
            taken.append(job.student)
            yield prepare.payload(workspace, api.config, job.assignment, job.student, settings).payload

    seen = []
    with open(tmp_path / "worker.log", "w") as log:
        for payload, answer in LocalPool(2, log, job_timeout=300).run(payloads()):
            assert isinstance(answer, dict), answer
            seen.append((payload.student, len(taken)))
    assert [n for _, n in seen] == [4, 5, 6, 7, 7, 7, 7], "2 running + 2 ahead, then one more per result"
    assert sorted(s for s, _ in seen) == [f"s{n}" for n in range(7)], "each submission once"
