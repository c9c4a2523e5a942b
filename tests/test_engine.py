"""The grading engine contains every hostile or broken submission (tests/hostile.py) to that one student.

The whole corpus is graded in one batch together with well-behaved students, on two workers, in the real
bubblewrap sandbox; then the dynamic cases are graded again one at a time in the same course, which must give
the same scores (graded on its own = graded among hostile neighbours; grading again is idempotent). Uses the
tiny lab (tests/tinylab.py) so a submission grades in a couple of seconds; real labs: tests/test_pipeline.py.
"""
import hashlib
import os
import socket
import tempfile
from pathlib import Path

import hostile
import nbformat
import pytest

from autograder.feedback.release import give_feedback
from autograder.grading import engine, forkclient, sandbox

FINE = ["amy", "zoe"]
STUDENTS = sorted(FINE + list(hostile.CASES))
# the cases that reach for the machine (processes, memory, files, the gradebook) rather than the notebook
REACHING = ["detached", "forkbomb", "gradebook", "ipyexit", "killall", "memhog", "spinner", "swallow", "writeout"]
LEAKS = ("LEAKED", "CONNECTED")


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def printed(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))


@pytest.fixture(scope="module")
def listener():
    """A server on the grader's loopback that a sandboxed kernel must not reach."""
    server = socket.create_server(("127.0.0.1", 0))
    server.setblocking(False)
    yield server
    server.close()


@pytest.fixture(scope="module", params=["forked", "plain"])
def graded(request, tmp_path_factory, listener):
    """Kernels forked by the fork server (the default as root), and started by bubblewrap one by one."""
    root = tmp_path_factory.mktemp("engine")
    workspace = hostile.build_class(root, FINE, listener.getsockname()[1])
    before = digest(workspace.course / "submitted")
    with pytest.MonkeyPatch.context() as env:  # this run's own sandbox folders: other runs may be going on
        env.setenv("SUBSTRATE_SANDBOX_ROOT", str(root / "sandboxes"))
        env.setenv("SUBSTRATE_SANDBOX_FORK", "1" if request.param == "forked" else "0")
        outcomes = engine.grade(workspace, engine.submitted_jobs(workspace), workers=2, show_progress=False)
        yield workspace, {o.student: o for o in outcomes}, before


def test_the_real_sandbox_is_in_use(graded, request):
    assert sandbox.probe().isolated, sandbox.probe().message
    assert all("bubblewrap" in o.sandbox for o in graded[1].values())
    forked = request.node.callspec.params["graded"] == "forked" and os.geteuid() == 0
    assert all((forkclient.NOTE in o.sandbox) == forked for o in graded[1].values() if o.status == "graded")


def test_one_outcome_per_submission_in_order(graded):
    assert list(graded[1]) == STUDENTS


def test_well_behaved_students_get_a_clean_score_despite_hostile_neighbours(graded):
    for student in FINE:
        o = graded[1][student]
        assert (o.status, o.score, o.integrity) == ("graded", hostile.CLEAN, "clean"), o


@pytest.mark.parametrize("name", sorted(hostile.CASES))
def test_each_hostile_submission_is_contained(graded, name):
    workspace, outcomes, _ = graded
    case, o = hostile.CASES[name], outcomes[name]
    notes = " | ".join(o.notes)
    if case.most is None:
        assert o.status == "failed" and o.score is None, o
        assert not (workspace.course / "autograded" / name / "00-tiny").exists(), "no half-graded leftovers"
    else:
        assert o.status == "graded" and o.score <= case.most, o
    assert case.says in notes, notes
    autograded = workspace.course / "autograded" / name / "00-tiny" / "tiny.ipynb"
    if autograded.exists():
        assert not any(leak in printed(autograded) for leak in LEAKS), f"{name} reached what it must not"
        assert autograded.stat().st_size < 3 * sandbox.MiB, "output is capped"


def test_tampering_is_named_in_the_report(graded):
    outcomes = graded[1]
    assert {n for n, o in outcomes.items() if o.integrity == "tampering detected"} >= {"patchnumpy", "runcell"}


def test_a_timeout_blames_the_code_not_the_grader(graded):
    for name in ("loop", "swallow", "sleeper"):
        notes = " ".join(graded[1][name].notes)
        assert "your code ran past" in notes and "overloaded" not in notes, notes


def test_nothing_written_outside_and_no_process_left(graded, listener):
    workspace = graded[0]
    leftovers = [Path(tempfile.gettempdir()) / "substrate-hostile-MARK", Path.home() / "substrate-hostile-MARK",
                 workspace.course / "MARK"]
    assert not [p for p in leftovers if p.exists()]
    processes, folders = sandbox.leftovers()  # of sandbox users no live kernel holds (other runs may be going)
    assert not processes, "every process a submission started has ended"
    assert not folders, "every sandbox folder was removed"
    with pytest.raises(BlockingIOError):
        listener.accept()  # nobody connected


def test_submissions_are_never_modified(graded):
    workspace, _, before = graded
    assert digest(workspace.course / "submitted") == before


def test_the_gradebook_holds_exactly_the_reported_scores(graded):
    workspace, outcomes, _ = graded
    with workspace.gradebook() as gradebook:
        assert sorted(s.id for s in gradebook.students) == STUDENTS
        for student, o in outcomes.items():
            if o.status == "graded":
                assert gradebook.find_submission("00-tiny", student).score == o.score, student


def test_one_at_a_time_gives_the_batch_scores(graded):
    """Graded alone, each case that reaches for the machine scores what it scored among the others: no
    neighbour influenced it, and grading again changes nothing."""
    workspace, outcomes, _ = graded
    jobs = [engine.Job("00-tiny", s) for s in REACHING + FINE]
    again = engine.grade(workspace, jobs, workers=1, show_progress=False)
    assert {o.student: (o.status, o.score) for o in again} == \
           {s: (outcomes[s].status, outcomes[s].score) for s in REACHING + FINE}


def test_save_keeps_the_newest_result_per_submission(tmp_path, graded):
    _, outcomes, _ = graded
    report = tmp_path / "grading.json"
    engine.save(list(outcomes.values()), report)
    regraded = outcomes["osexit"].__class__("00-tiny", "osexit", "graded", 4.0, 5.0)
    engine.save([regraded], report)
    loaded = {o.student: o for o in engine.load(report)}
    assert len(loaded) == len(outcomes) and loaded["osexit"].status == "graded"


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


def test_hidden_tests_stay_hidden_from_the_kernel(graded):
    """The notebook a kernel executes has the hidden tests (it must run them), but the kernel's folder holds
    no source/ or release/ and the autograded copy of a leaking attempt shows it was blocked."""
    text = printed(graded[0].course / "autograded" / "readsource" / "00-tiny" / "tiny.ipynb")
    assert "blocked" in text and "LEAKED" not in text
