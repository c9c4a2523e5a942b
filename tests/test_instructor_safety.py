"""A real class is never lost, mixed with the demo, or mis-dated (issue 6).

Each test is one way an instructor's class was damaged by the kit: the demo deleting a course, a build reusing
another class's workspace, a due date moved by the time zone, feedback that looked final before hand marking,
tracebacks and half-written builds on a damaged gradebook, and log noise that reads as tampering. Uses the
tiny lab (tests/tinylab.py) with a class of three; the demo scenario at the end uses the tiny lab too.
"""
from __future__ import annotations

import csv
import hashlib
import re
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import nbformat
import pytest
import tinylab

from autograder.cli import main, parser
from autograder.course.build import build_course
from autograder.course.simulate import LabMaterial, Student, _solve, simulate_class
from autograder.course.workspace import DEMO_MARKER, Workspace
from autograder.feedback.preprocessors import PROVISIONAL_BANNER
from autograder.grading import engine
from autograder.labs import LABS_DIR, discover

REPO = Path(__file__).resolve().parents[1]
CLASS = (Student("ada", "Ada", "Lovelace", "solves everything"),
         Student("ben", "Ben", "Okafor", "submits the blank release"),
         Student("tam", "Tam", "Nguyen", "solves everything"))  # then edits a locked test cell (below)


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def one_paragraph(err: str) -> str:
    """The error a user sees: a single line, no traceback."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.fixture(scope="module")
def labs_dir(tmp_path_factory) -> Path:
    labs = tmp_path_factory.mktemp("labs")
    tinylab.write_lab(labs)
    tinylab.write_lab(labs, "01-later")  # built, never released
    return labs


@pytest.fixture
def course(tmp_path, labs_dir) -> Workspace:
    """A freshly built course with one collected submission, as after a real class's first hand-in."""
    workspace = Workspace(tmp_path / "classroom")
    assert main(["build", "--workspace", str(workspace.root), "--labs-dir", str(labs_dir), "--labs", "00-tiny",
                 "--course-id", "cs4102"]) == 0
    submission = workspace.course / "submitted" / "stu" / "00-tiny"
    submission.mkdir(parents=True)
    shutil.copy(workspace.course / "release" / "00-tiny" / "tiny.ipynb", submission)
    return workspace


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory, labs_dir):
    """A course whose class (three students) submitted and was graded; tests work on copies of it."""
    root = tmp_path_factory.mktemp("graded")
    workspace = Workspace(root / "classroom")
    labs = discover(labs_dir)
    build_course(workspace, labs, due=datetime(2030, 1, 1))
    simulate_class(workspace, labs[:1], CLASS)
    tam = workspace.course / "submitted" / "tam" / "00-tiny" / "tiny.ipynb"
    nb = nbformat.read(tam, as_version=4)
    nb.cells[3].source = "assert True  # the student made the check pass"
    nbformat.write(nb, tam)
    outcomes = engine.grade(workspace, engine.submitted_jobs(workspace), job_timeout=120, show_progress=False)
    engine.save(outcomes, workspace.root / "reports" / "grading.json")
    return workspace


@pytest.fixture
def graded(graded_class, tmp_path) -> Workspace:
    """A copy of the graded course: the config's paths are relative, so the copy is a course of its own."""
    shutil.copytree(graded_class.root, tmp_path / "copy", symlinks=True)
    return Workspace(tmp_path / "copy")


# --- 1. the demo never touches a real course ------------------------------------------------------------------

def test_demo_refuses_a_real_course_and_names_what_it_would_destroy(course, labs_dir, capsys):
    before = digest(course.root)
    assert main(["demo", "--workspace", str(course.root), "--labs-dir", str(labs_dir)]) == 2
    err = one_paragraph(capsys.readouterr().err)
    assert "not a demo workspace" in err and "1 submissions" in err and "gradebook" in err
    assert digest(course.root) == before


def test_demo_refuses_a_plain_folder_that_was_built_into(tmp_path, labs_dir, capsys):
    (tmp_path / "thesis.tex").write_text("precious")
    assert main(["build", "--workspace", str(tmp_path), "--labs-dir", str(labs_dir), "--labs", "00-tiny"]) == 0
    assert main(["demo", "--workspace", str(tmp_path), "--labs-dir", str(labs_dir), "--replace-demo"]) == 2
    assert "thesis.tex" in one_paragraph(capsys.readouterr().err)
    assert (tmp_path / "thesis.tex").read_text() == "precious" and (tmp_path / "course").is_dir()


def test_demo_starts_over_only_in_its_own_workspace_and_only_when_asked(tmp_path, labs_dir, capsys):
    earlier = tmp_path / "demo"
    earlier.mkdir()
    (earlier / DEMO_MARKER).write_text("")
    (earlier / "course").mkdir()
    assert main(["demo", "--workspace", str(earlier), "--labs-dir", str(labs_dir)]) == 2
    assert "--replace-demo" in one_paragraph(capsys.readouterr().err) and (earlier / "course").is_dir()


def test_a_simulated_class_is_never_mixed_into_a_course_with_students(course, labs_dir, capsys):
    before = digest(course.root)
    assert main(["simulate", "--workspace", str(course.root), "--labs-dir", str(labs_dir)]) == 2
    assert "has students of its own (stu)" in one_paragraph(capsys.readouterr().err)
    assert digest(course.root) == before


def test_demo_and_a_real_class_have_different_default_workspaces():
    assert parser().parse_args(["demo"]).workspace == Path("build/demo")
    for command in ("build", "grade", "feedback", "export"):
        assert parser().parse_args([command]).workspace == Path("build/classroom")
    make = subprocess.run(["make", "-n", "demo"], cwd=REPO, capture_output=True, text=True).stdout
    assert "--workspace build/demo" in make and "--replace-demo" in make


def test_make_clean_removes_the_demo_but_keeps_a_real_class(tmp_path):
    (tmp_path / "build" / "classroom" / "course").mkdir(parents=True)
    (tmp_path / "build" / "classroom" / "course" / "gradebook.db").write_text("grades")
    (tmp_path / "build" / "demo").mkdir()
    (tmp_path / "build" / "demo" / DEMO_MARKER).write_text("")
    subprocess.run(["make", "-f", str(REPO / "Makefile"), "clean"], cwd=tmp_path, check=True, capture_output=True)
    assert (tmp_path / "build" / "classroom" / "course" / "gradebook.db").read_text() == "grades"
    assert not (tmp_path / "build" / "demo").exists()


# --- 2. build never mixes classes and is atomic ----------------------------------------------------------------

def test_build_refuses_a_workspace_of_another_course(course, labs_dir, capsys):
    before = digest(course.root)
    assert main(["build", "--workspace", str(course.root), "--labs-dir", str(labs_dir), "--labs", "00-tiny",
                 "--course-id", "other"]) == 2
    err = one_paragraph(capsys.readouterr().err)
    assert "holds course 'cs4102', not 'other'" in err
    assert digest(course.root) == before


def test_build_refuses_the_demo_workspace(tmp_path, labs_dir, capsys):
    (tmp_path / DEMO_MARKER).write_text("")
    assert main(["build", "--workspace", str(tmp_path), "--labs-dir", str(labs_dir), "--labs", "00-tiny"]) == 2
    assert "demo's workspace" in one_paragraph(capsys.readouterr().err)
    assert not (tmp_path / "course").exists()


def test_rebuild_with_the_same_labs_keeps_everything_but_moves_the_due_date(course, labs_dir, capsys):
    release = digest(course.course / "release")
    submitted = digest(course.course / "submitted")
    assert main(["build", "--workspace", str(course.root), "--labs-dir", str(labs_dir), "--labs", "00-tiny",
                 "--course-id", "cs4102", "--due", "2031-02-03T04:05", "--cell-timeout", "7"]) == 0
    assert digest(course.course / "release") == release and digest(course.course / "submitted") == submitted
    assert "limit changed from 30 s to 7 s" in capsys.readouterr().out, "grading notes would quote the old limit"
    with course.gradebook() as gradebook:
        assert gradebook.find_assignment("00-tiny").duedate == datetime(2031, 2, 3, 4, 5)


def _change_the_lab(labs_dir: Path, tmp_path: Path) -> Path:
    labs = tmp_path / "changed-labs"
    shutil.copytree(labs_dir, labs)
    nb = nbformat.read(labs / "00-tiny" / "tiny.ipynb", as_version=4)
    nb.cells[0].source += "\n\nA clarification added after the release."
    nbformat.write(nb, labs / "00-tiny" / "tiny.ipynb")
    return labs


def test_rebuilding_a_lab_students_submitted_refuses_unless_forced_then_backs_up(course, labs_dir, tmp_path,
                                                                                 capsys):
    changed = _change_the_lab(labs_dir, tmp_path)
    common = ["build", "--workspace", str(course.root), "--labs-dir", str(changed), "--labs", "00-tiny",
              "--course-id", "cs4102"]
    before = digest(course.root)
    assert main(common) == 2
    err = one_paragraph(capsys.readouterr().err)
    assert "already submitted" in err and "00-tiny by 1 (stu)" in err and "--force" in err
    assert digest(course.root) == before
    assert main([*common, "--force"]) == 0
    backups = list((course.root / "backups").iterdir())
    assert len(backups) == 1
    assert digest(backups[0] / "release") == digest_of(before, "course/release/")
    assert digest(backups[0] / "source") == digest_of(before, "course/source/")
    assert "clarification" in (course.course / "release" / "00-tiny" / "tiny.ipynb").read_text()
    assert "until `substrate-labs grade` runs again" not in capsys.readouterr().out
    assert digest(course.course / "submitted") == digest_of(before, "course/submitted/")


def digest_of(full: dict[str, str], prefix: str) -> dict[str, str]:
    return {k[len(prefix):]: v for k, v in full.items() if k.startswith(prefix)}


def _break_the_lab(labs_dir: Path, tmp_path: Path) -> Path:
    """A lab nbgrader cannot generate: two cells share one grade id."""
    labs = tmp_path / "broken-labs"
    shutil.copytree(labs_dir, labs)
    nb = nbformat.read(labs / "00-tiny" / "tiny.ipynb", as_version=4)
    nb.cells[6].metadata = nb.cells[3].metadata
    nbformat.write(nb, labs / "00-tiny" / "tiny.ipynb")
    return labs


def test_a_failed_build_leaves_the_course_exactly_as_it_was(tmp_path, labs_dir, capsys):
    workspace = tmp_path / "classroom"
    common = ["build", "--workspace", str(workspace), "--labs", "00-tiny"]
    assert main([*common, "--labs-dir", str(labs_dir)]) == 0
    before = digest(workspace)
    assert main([*common, "--labs-dir", str(_break_the_lab(labs_dir, tmp_path)), "--cell-timeout", "99"]) == 2
    assert "generate_assignment 00-tiny failed" in one_paragraph(capsys.readouterr().err)
    assert digest(workspace) == before, "config, source/, release/ and gradebook must be untouched"
    assert sorted(p.name for p in workspace.iterdir()) == ["course", "exchange", "students"], "no staging left"


def test_a_failed_first_build_leaves_no_course_behind(tmp_path, labs_dir, capsys):
    workspace = tmp_path / "classroom"
    assert main(["build", "--workspace", str(workspace), "--labs-dir", str(_break_the_lab(labs_dir, tmp_path)),
                 "--labs", "00-tiny"]) == 2
    capsys.readouterr()
    assert not (workspace / "course").exists()
    assert main(["grade", "--workspace", str(workspace)]) == 2
    assert "no course at" in capsys.readouterr().err


def test_a_copied_workspace_is_a_course_of_its_own(graded, graded_class):
    config = graded.config()
    assert Path(config.CourseDirectory.root) == graded.course
    assert graded.exchange == graded.root / "exchange"
    assert graded_class.root not in graded.exchange.parents


# --- 3. due dates keep their time zone ---------------------------------------------------------------------------

def _due_in_gradebook(workspace: Path) -> datetime:
    with Workspace(workspace).gradebook() as gradebook:
        return gradebook.find_assignment("00-tiny").duedate


def test_a_due_date_with_an_offset_is_stored_in_utc(tmp_path, labs_dir, capsys):
    assert main(["build", "--workspace", str(tmp_path), "--labs-dir", str(labs_dir), "--labs", "00-tiny",
                 "--due", "2026-12-01T23:59+02:00"]) == 0
    assert _due_in_gradebook(tmp_path) == datetime(2026, 12, 1, 21, 59)
    assert "due 2026-12-01 21:59 UTC (given as 2026-12-01T23:59+02:00)" in capsys.readouterr().out


def test_a_due_date_without_offset_is_read_in_the_course_time_zone(tmp_path, labs_dir, capsys):
    common = ["build", "--workspace", str(tmp_path), "--labs-dir", str(labs_dir), "--labs", "00-tiny"]
    assert main([*common, "--due", "2026-12-01T23:59", "--timezone", "Europe/Berlin"]) == 0
    assert _due_in_gradebook(tmp_path) == datetime(2026, 12, 1, 22, 59)  # CET is UTC+1 in December
    assert main([*common, "--due", "2026-07-01T23:59"]) == 0  # the course keeps its zone: CEST, UTC+2
    assert _due_in_gradebook(tmp_path) == datetime(2026, 7, 1, 21, 59)
    assert "read in the course's time zone, Europe/Berlin" in capsys.readouterr().out


def test_the_default_time_zone_is_utc_and_said_so(tmp_path, labs_dir, capsys):
    assert main(["build", "--workspace", str(tmp_path), "--labs-dir", str(labs_dir), "--labs", "00-tiny",
                 "--due", "2026-12-01T23:59"]) == 0
    assert _due_in_gradebook(tmp_path) == datetime(2026, 12, 1, 23, 59)
    assert "read in the course's time zone, UTC" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["build", "--help"])
    assert "UTC" in capsys.readouterr().out


def test_an_unknown_time_zone_is_a_clear_error(tmp_path, labs_dir, capsys):
    assert main(["build", "--workspace", str(tmp_path), "--labs-dir", str(labs_dir), "--labs", "00-tiny",
                 "--timezone", "Mars/Base"]) == 2
    assert "unknown time zone 'Mars/Base'" in one_paragraph(capsys.readouterr().err)


def test_marks_entered_after_grading_are_late_penalised_too(graded, capsys):
    """nbgrader penalises the autograded score only; a late student's hand-marked answers must not escape."""
    with graded.gradebook() as gradebook:
        submission = gradebook.find_submission("00-tiny", "ada")
        submission.timestamp = submission.assignment.duedate + timedelta(days=1, hours=12)  # two started days
        grade = gradebook.find_grade("why", "tiny", "00-tiny", "ada")
        grade.manual_score, grade.needs_manual_grade = 1.0, False
        gradebook.db.commit()
    assert main(["export", "--workspace", str(graded.root)]) == 0
    with graded.gradebook() as gradebook:
        notebook = gradebook.find_submission_notebook("tiny", "00-tiny", "ada")
        assert notebook.score == 5.0 and notebook.late_submission_penalty == pytest.approx(0.2 * 5.0)
    with open(graded.root / "reports" / "grades.csv") as f:
        ada = next(r for r in csv.DictReader(f) if (r["student_id"], r["assignment"]) == ("ada", "00-tiny"))
    assert float(ada["score"]) == pytest.approx(4.0)


# --- 4. feedback before hand marking is held back, or visibly provisional ---------------------------------------

def test_feedback_holds_back_submissions_whose_written_answers_are_unmarked(graded, capsys):
    assert main(["feedback", "--workspace", str(graded.root)]) == 0
    out = capsys.readouterr().out
    assert "held back" in out and "00-tiny: ada, tam" in out
    assert not (graded.course / "feedback" / "ada").exists()
    assert (graded.course / "feedback" / "ben" / "00-tiny" / "tiny.html").exists(), "nothing to mark: released"
    assert len(list(graded.exchange.glob("*/feedback/*.html"))) == 1


def test_partial_feedback_says_written_answers_are_not_yet_marked(graded, capsys):
    assert main(["feedback", "--workspace", str(graded.root), "--partial"]) == 0
    assert "provisional" in capsys.readouterr().out
    page = (graded.course / "feedback" / "ada" / "00-tiny" / "tiny.html").read_text()
    assert "Provisional feedback: written answers not yet marked." in page and "Not yet marked" in page
    assert len(list(graded.exchange.glob("*/feedback/*.html"))) == 3
    assert "Provisional" not in (graded.course / "feedback" / "ben" / "00-tiny" / "tiny.html").read_text()
    assert PROVISIONAL_BANNER.startswith("**Provisional")


def test_feedback_after_hand_marking_is_released_as_final(graded, capsys):
    with graded.gradebook() as gradebook:
        grade = gradebook.find_grade("why", "tiny", "00-tiny", "ada")
        grade.manual_score, grade.needs_manual_grade = 1.0, False  # what formgrader does when a mark is saved
        gradebook.db.commit()
    assert main(["feedback", "--workspace", str(graded.root)]) == 0
    assert "00-tiny: tam" in capsys.readouterr().out
    assert "Provisional" not in (graded.course / "feedback" / "ada" / "00-tiny" / "tiny.html").read_text()


def test_feedback_counts_only_the_labs_asked_for(graded, capsys):
    other = graded.course / "feedback" / "ben" / "01-later"
    other.mkdir(parents=True)
    (other / "old.html").write_text("<p>feedback of another lab</p>")
    assert main(["feedback", "--workspace", str(graded.root), "--labs", "00-tiny", "--partial"]) == 0
    assert capsys.readouterr().out.startswith("3 feedback files")


# --- 5. damaged gradebooks and bad paths: one paragraph, non-zero, nothing half-written -------------------------

@pytest.mark.parametrize("command", ["simulate", "grade", "feedback", "export", "build"])
def test_a_damaged_gradebook_is_one_paragraph_and_changes_nothing(graded, labs_dir, command, capsys):
    graded.gradebook_file.write_bytes(b"this is not a database" * 100)
    before = digest(graded.root)
    extra = ["--labs-dir", str(labs_dir)] if command in ("simulate", "build") else []
    assert main([command, "--workspace", str(graded.root), *extra]) == 2
    err = one_paragraph(capsys.readouterr().err)
    assert "gradebook" in err and "cannot be read (file is not a database)" in err
    assert digest(graded.root) == before


def test_debug_shows_the_traceback(graded, capsys):
    graded.gradebook_file.write_bytes(b"this is not a database" * 100)
    assert main(["export", "--workspace", str(graded.root), "--debug"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and "DatabaseError" in err


def test_a_missing_gradebook_is_not_silently_recreated(graded, capsys):
    graded.gradebook_file.unlink()
    assert main(["export", "--workspace", str(graded.root)]) == 2
    assert "has no gradebook" in one_paragraph(capsys.readouterr().err)
    assert not graded.gradebook_file.exists()


@pytest.mark.parametrize("exists", [True, False])
def test_export_to_a_folder_writes_inside_it(graded, tmp_path, exists):
    out = tmp_path / "grades-for-registrar"
    if exists:
        out.mkdir()
    assert main(["export", "--workspace", str(graded.root), "--to", str(out)]) == 0
    assert (out / "grades.csv").is_file() and (out / "grading-notes.csv").is_file()
    assert main(["export", "--workspace", str(graded.root), "--to", str(tmp_path / "term.csv")]) == 0
    assert (tmp_path / "term.csv").is_file()


def test_export_never_overwrites_a_file_that_is_not_a_grades_csv_without_force(graded, tmp_path, capsys):
    precious = tmp_path / "notes.csv"
    precious.write_text("my own notes\n")
    assert main(["export", "--workspace", str(graded.root), "--to", str(precious)]) == 2
    assert "not a grades CSV" in one_paragraph(capsys.readouterr().err)
    assert precious.read_text() == "my own notes\n"
    assert main(["export", "--workspace", str(graded.root), "--to", str(precious), "--force"]) == 0
    assert main(["export", "--workspace", str(graded.root), "--to", str(precious)]) == 0, "an earlier export"


@pytest.mark.parametrize("case", ["workspace is a file", "labs dir missing", "unwritable csv", "exchange is a file"])
def test_bad_paths_are_one_paragraph(graded, tmp_path, labs_dir, case, capsys):
    a_file = tmp_path / "a-file.txt"
    a_file.write_text("x")
    args = {"workspace is a file": ["export", "--workspace", str(a_file)],
            "labs dir missing": ["build", "--workspace", str(tmp_path / "new"), "--labs-dir", str(tmp_path / "no")],
            "unwritable csv": ["export", "--workspace", str(graded.root), "--to", str(a_file / "grades.csv")],
            "exchange is a file": ["build", "--workspace", str(tmp_path / "new"), "--labs-dir", str(labs_dir),
                                   "--exchange", str(a_file)]}[case]
    assert main(args) == 2
    err = one_paragraph(capsys.readouterr().err)
    assert str(a_file) in err or str(tmp_path / "no") in err


# --- 6. logs say what matters -------------------------------------------------------------------------------------

def test_untouched_test_cells_raise_no_checksum_alarm_but_tampering_is_reported(graded_class):
    logs = graded_class.root / "logs" / "00-tiny"
    for student in ("ada", "ben"):
        assert "checksum" not in (logs / f"{student}.log").read_text()
    tam = (logs / "tam.log").read_text()
    assert "Cell add_test was edited by the student" in tam and tam.count("edited by the student") == 1
    with graded_class.gradebook() as gradebook:  # the edited check was restored: tam scores what ada scores
        assert gradebook.find_submission("00-tiny", "tam").score == gradebook.find_submission("00-tiny", "ada").score


def test_worker_log_has_no_sqlalchemy_warnings(graded_class):
    assert "SAWarning" not in (graded_class.root / "logs" / "worker.log").read_text()


def test_progress_bars_stay_out_of_logs(graded):
    run = subprocess.run([sys.executable, "-m", "autograder.cli", "feedback", "--workspace", str(graded.root),
                          "--partial"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "\r" not in run.stderr + run.stdout


# --- 7. smaller ones ----------------------------------------------------------------------------------------------

def test_grading_notes_say_a_lab_was_not_released(graded, capsys):
    assert main(["export", "--workspace", str(graded.root)]) == 0
    with open(graded.root / "reports" / "grading-notes.csv") as f:
        rows = {(r["assignment"], r["student"]): r for r in csv.DictReader(f)}
    assert len(rows) == 2 * len(CLASS)
    assert all(rows[("01-later", s.id)]["status"] == "not released" for s in CLASS)
    assert rows[("00-tiny", "ada")]["status"] == "graded"


@pytest.mark.parametrize("lab", discover(LABS_DIR), ids=lambda lab: lab.assignment_id)
def test_the_simulated_student_writes_an_answer_not_the_marking_guide(lab):
    nb = _solve(nbformat.read(lab.notebook, as_version=4), LabMaterial.of(lab))
    written = [c.source for c in nb.cells if c.cell_type == "markdown" and c.metadata.get("nbgrader", {})
               .get("solution")]
    assert written
    for answer in written:
        assert not re.search(r"(?i)marking guide|model answer|\(\d+ points?\b", answer), answer[:300]
        assert len(answer.split()) >= 20, "a plausible answer says something"


# --- the closing scenario: `make demo`, then a real class in the default workspace ---------------------------------

def test_a_real_class_after_the_demo_holds_only_real_students(tmp_path, labs_dir, monkeypatch):
    """The README's instructor guide right after `make demo`: the real gradebook, CSV and exchange hold only the
    real student."""
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--labs-dir", str(labs_dir), "--labs", "00-tiny", "--cell-timeout", "5"]) == 0
    exchange = tmp_path / "srv" / "exchange"
    assert main(["build", "--labs-dir", str(labs_dir), "--labs", "00-tiny", "--course-id", "cs4102",
                 "--exchange", str(exchange)]) == 0
    course = tmp_path / "build" / "classroom" / "course"
    nbgrader = str(Path(sys.executable).parent / "nbgrader")

    def run(*args, cwd):
        done = subprocess.run([nbgrader, *args], cwd=cwd, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]

    run("release_assignment", "00-tiny", cwd=course)
    home = tmp_path / "home" / "stu"
    home.mkdir(parents=True)
    as_student = ["--course", "cs4102", f"--Exchange.root={exchange}", "--CourseDirectory.student_id=stu",
                  f"--Exchange.cache={home / '.cache'}"]
    run("fetch_assignment", "00-tiny", *as_student, cwd=home)
    run("submit", "00-tiny", *as_student, cwd=home)
    run("collect", "00-tiny", cwd=course)
    assert main(["grade"]) == 0
    assert main(["feedback", "--partial"]) == 0
    assert main(["export"]) == 0
    with Workspace(Path("build/classroom")).gradebook() as gradebook:
        assert [s.id for s in gradebook.students] == ["stu"]
    with open("build/classroom/reports/grades.csv") as f:
        assert {r["student_id"] for r in csv.DictReader(f)} == {"stu"}
    assert len(list((exchange / "cs4102" / "feedback").glob("*.html"))) == 1
    assert {p.parent.parent.name for p in course.glob("feedback/*/*/*.html")} == {"stu"}
    assert Workspace(Path("build/demo")).is_demo and Workspace(Path("build/demo")).course_id == "substrate-labs"
