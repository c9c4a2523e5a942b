"""The command line: help for every step, clear errors, and the pieces of the pipeline it is made of."""
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import nbformat
import pytest
import tinylab

from autograder.cli import main, parser
from autograder.course.late_policy import PenaltyPerDay
from autograder.course.workspace import Workspace
from autograder.feedback.preprocessors import TRACEBACK_NOTE, HideTestTracebacks

COMMANDS = ["build", "simulate", "grade", "feedback", "export", "demo", "lint", "check-lab"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    assert "usage: substrate-labs " + command in capsys.readouterr().out


def test_the_installed_command_runs():
    run = subprocess.run([sys.executable, "-m", "autograder.cli", "--help"], capture_output=True, text=True)
    assert run.returncode == 0 and all(c in run.stdout for c in COMMANDS)


@pytest.mark.parametrize("command", ["simulate", "grade", "feedback", "export"])
def test_steps_before_build_say_what_to_do(command, tmp_path, capsys):
    assert main([command, "--workspace", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err
    assert f"substrate-labs {command}: error: no course at" in err and "substrate-labs build" in err


def test_an_unknown_lab_is_named(tmp_path, capsys):
    assert main(["build", "--workspace", str(tmp_path), "--labs", "99-nope"]) == 2
    assert "no lab named 99-nope" in capsys.readouterr().err


def test_a_bad_due_date_is_refused(capsys):
    with pytest.raises(SystemExit):
        parser().parse_args(["build", "--due", "next tuesday"])
    assert "not an ISO date/time" in capsys.readouterr().err


def test_demo_refuses_to_wipe_a_folder_that_is_not_a_workspace(tmp_path, capsys):
    (tmp_path / "thesis.tex").write_text("precious")
    assert main(["demo", "--workspace", str(tmp_path)]) == 2
    assert (tmp_path / "thesis.tex").exists()
    assert "not a demo workspace" in capsys.readouterr().err


def test_lint_exit_code_follows_the_findings(tmp_path, capsys):
    labs = tinylab.write_lab(tmp_path).parent
    assert main(["lint", "--labs-dir", str(labs)]) == 0
    nb = tinylab.notebook()
    nb.cells[2].execution_count = 1
    tinylab.write_lab(tmp_path, nb=nb)
    assert main(["lint", "--labs-dir", str(labs)]) == 1
    assert "stored outputs" in capsys.readouterr().out


def test_check_lab_reports_each_wrong_answer(tmp_path, capsys):
    labs = tinylab.write_lab(tmp_path).parent
    assert main(["check-lab", "--labs-dir", str(labs)]) == 0
    out = capsys.readouterr().out
    assert out.count("ok  00-tiny") == 4 * 4 + 1 and "every wrong answer loses points" in out
    assert "ok  00-tiny blank release: 1 of 1 non-task code cells run, 4 of 4 test cells fail, 0 free points" in out


def test_build_writes_a_standard_nbgrader_course(tmp_path):
    folder = tinylab.write_lab(tmp_path / "labs")
    (folder / "data").mkdir()
    (folder / "data" / "table.csv").write_text("x,y\n1,2\n")  # an asset the notebook reads
    labs = folder.parent
    workspace = tmp_path / "ws"
    shared_exchange = tmp_path / "srv" / "exchange"
    assert main(["build", "--workspace", str(workspace), "--labs-dir", str(labs), "--due", "2030-01-01T12:00",
                 "--cell-timeout", "7", "--course-id", "cs4102", "--exchange", str(shared_exchange)]) == 0
    course = workspace / "course"
    config = (course / "nbgrader_config.py").read_text()
    assert "c.Execute.timeout = 7" in config
    assert (Workspace(workspace).course_id, Workspace(workspace).exchange) == ("cs4102", shared_exchange)
    release = nbformat.read(course / "release" / "00-tiny" / "tiny.ipynb", as_version=4)
    assert "raise NotImplementedError()" in release.cells[2].source
    assert tinylab.HIDDEN_MARKER not in nbformat.writes(release)
    assert (course / "release" / "00-tiny" / "data" / "table.csv").read_text() == "x,y\n1,2\n"
    assert not (course / "release" / "00-tiny" / "wrong_answers.yml").exists(), "wrong answers must not be released"
    assert (course / "gradebook.db").exists()


# --- the nbgrader plug-ins the course config loads -----------------------------------------------------------

def test_tracebacks_of_test_cells_are_cut_to_the_message():
    cell = nbformat.v4.new_code_cell("assert f(3) == 9  # hidden", metadata=tinylab.meta(
        "t", grade=True, solution=False, locked=True, points=1))
    cell.outputs = [nbformat.v4.new_output("error", ename="AssertionError", evalue="f(3) should be 9",
                                           traceback=["----> 1 assert f(3) == 9  # hidden"])]
    other = nbformat.v4.new_code_cell("1/0")
    other.outputs = [nbformat.v4.new_output("error", ename="ZeroDivisionError", evalue="division by zero",
                                            traceback=["----> 1 1/0"])]
    nb = nbformat.v4.new_notebook(cells=[cell, other])
    nb, _ = HideTestTracebacks().preprocess(nb, {})
    assert nb.cells[0].outputs[0].traceback == ["AssertionError: f(3) should be 9", TRACEBACK_NOTE]
    assert nb.cells[1].outputs[0].traceback == ["----> 1 1/0"], "cells without tests keep their traceback"


@pytest.mark.parametrize("seconds_late, penalty", [(1, 1.0), (86400, 1.0), (86401, 2.0), (30 * 86400, 10.0)])
def test_late_penalty_per_started_day_never_exceeds_the_score(seconds_late, penalty):
    assert PenaltyPerDay(fraction_per_day=0.1).late_submission_penalty("s", 10.0, seconds_late) == penalty


def test_default_due_date_is_a_week_ahead_in_utc():
    due = parser().parse_args(["build"]).due
    assert due.utcoffset().total_seconds() == 0
    assert 6 <= (due - datetime.now(timezone.utc)).days <= 7


def test_a_class_is_simulated_once_per_course(tmp_path, capsys):
    labs = tinylab.write_lab(tmp_path / "labs").parent
    common = ["--workspace", str(tmp_path / "ws"), "--labs-dir", str(labs)]
    assert main(["build", *common]) == 0
    assert main(["simulate", *common]) == 0
    assert main(["simulate", *common]) == 2
    assert "00-tiny already released" in capsys.readouterr().err


def test_a_class_through_plain_nbgrader_commands(tmp_path):
    """The README's real-class workflow: our build, nbgrader's own release/fetch/submit/collect, our grade."""
    labs = tinylab.write_lab(tmp_path / "labs").parent
    workspace, exchange = tmp_path / "ws", tmp_path / "srv" / "exchange"
    assert main(["build", "--workspace", str(workspace), "--labs-dir", str(labs), "--course-id", "cs4102",
                 "--exchange", str(exchange)]) == 0
    nbgrader = str(Path(sys.executable).parent / "nbgrader")

    def run(*args, cwd):
        done = subprocess.run([nbgrader, *args], cwd=cwd, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]

    run("release_assignment", "00-tiny", cwd=workspace / "course")
    home = tmp_path / "home" / "stu"
    home.mkdir(parents=True)
    as_student = ["--course", "cs4102", f"--Exchange.root={exchange}", "--CourseDirectory.student_id=stu",
                  f"--Exchange.cache={home / '.cache'}"]
    run("fetch_assignment", "00-tiny", *as_student, cwd=home)
    release = home / "00-tiny" / "tiny.ipynb"
    nb = nbformat.read(release, as_version=4)
    nb.cells[2].source = "def add(a, b=0):\n    return a + b"
    nbformat.write(nb, release)
    run("submit", "00-tiny", *as_student, cwd=home)
    run("collect", "00-tiny", cwd=workspace / "course")
    assert main(["grade", "--workspace", str(workspace)]) == 0
    with Workspace(workspace).gradebook() as gradebook:
        assert gradebook.find_submission("00-tiny", "stu").score == 1.0
