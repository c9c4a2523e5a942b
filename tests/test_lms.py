"""`substrate-labs export --format canvas|moodle`: the gradebook as each platform's documented import CSV.

Canvas: the header starts with Student, ID, SIS User ID, SIS Login ID, Section, then one column per assignment,
and an optional "Points Possible" row (Canvas Instructor Guide, "How do I import grades in the Gradebook?").
Moodle: a header row, a user-identifying column to map (username, email, ...) and one column per grade item;
empty cells are skipped (Moodle docs, "Grade import"; grade/import/csv/classes/load_data.php).
"""
from __future__ import annotations

import csv
import subprocess
import sys
from datetime import datetime

import pytest
from nbgrader.api import Gradebook

from autograder.course.workspace import Workspace
from autograder.reports import lms

STUDENTS = {  # id -> (first, last, email, Canvas user id)
    "alice": ("Ada", "Lovelace", "ada@example.edu", "1001"),
    "bob": ("", "", "", ""),
    "chen": ("Chen", "Li", "chen@example.edu", "1003"),
}
LABS = {"01-census": {"task": 3.0, "why": 2.0}, "02-onnx": {"task": 4.0}}  # grade cell -> points
WORK = {  # (lab, student) -> (autograded score of "task", manual score of "why" or None if unmarked, penalty)
    ("01-census", "alice"): (3.0, 2.0, 0.5),
    ("01-census", "bob"): (1.0, None, 0.0),   # written answer not marked yet
    ("02-onnx", "alice"): (2.5, None, 0.0),    # no written question in this lab
    ("01-census", "chen"): (0.0, 1.0, 0.0),   # chen never submitted 02-onnx
}


@pytest.fixture
def workspace(tmp_path):
    ws = Workspace(tmp_path / "classroom")
    ws.course.mkdir(parents=True)
    ws.config_file.write_text(f"c = get_config()\nc.CourseDirectory.root = {str(ws.course)!r}\n"
                              "c.CourseDirectory.course_id = 'cs-test'\n")
    with Gradebook(ws.db_url, "cs-test") as gb:
        for lab, cells in LABS.items():
            gb.add_assignment(lab, duedate=datetime(2026, 12, 1))
            gb.add_notebook("nb", lab)
            for cell, points in cells.items():
                gb.add_grade_cell(cell, "nb", lab, max_score=points, cell_type="code" if cell == "task" else
                                  "markdown")
        for sid, (first, last, email, lms_id) in STUDENTS.items():
            gb.add_student(sid, first_name=first or None, last_name=last or None, email=email or None,
                           lms_user_id=lms_id or None)
        for (lab, sid), (auto, manual, penalty) in WORK.items():
            gb.add_submission(lab, sid)
            task = gb.find_grade("task", "nb", lab, sid)
            task.auto_score, task.needs_manual_grade = auto, False
            if "why" in LABS[lab]:  # as formgrader leaves it: marked, or still to mark
                why = gb.find_grade("why", "nb", lab, sid)
                why.manual_score, why.needs_manual_grade = manual, manual is None
            gb.find_submission_notebook("nb", lab, sid).late_submission_penalty = penalty
        gb.db.commit()
    return ws


def expected(lab: str, sid: str) -> str:
    if (lab, sid) not in WORK:
        return "0.0"  # never submitted: 0, as nbgrader's own export
    auto, manual, penalty = WORK[lab, sid]
    if "why" in LABS[lab] and manual is None:
        return ""  # not final: left blank so the platform keeps what it has
    return str(auto + (manual or 0) - penalty)


def read(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_canvas_csv_has_the_documented_columns_points_possible_and_final_scores(workspace, tmp_path):
    rows = read(lms.write(lms.collect(workspace), "canvas", tmp_path / "canvas.csv"))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *LABS]
    assert rows[1][:5] == ["Points Possible", "", "", "", ""]
    assert [float(v) for v in rows[1][5:]] == [sum(cells.values()) for cells in LABS.values()]
    by_login = {r[3]: r for r in rows[2:]}
    assert set(by_login) == set(STUDENTS)
    for sid, (first, last, _, lms_id) in STUDENTS.items():
        row = by_login[sid]
        assert row[0] == (f"{last}, {first}" if last else sid)
        assert row[1] == lms_id
        assert row[5:] == [expected(lab, sid) for lab in LABS]


def test_moodle_csv_identifies_users_and_has_one_column_per_lab(workspace, tmp_path):
    rows = read(lms.write(lms.collect(workspace), "moodle", tmp_path / "moodle.csv"))
    assert rows[0] == ["Username", "Email address", *LABS]
    assert {r[0]: r[1:] for r in rows[1:]} == {
        sid: [email] + [expected(lab, sid) for lab in LABS] for sid, (_, _, email, _) in STUDENTS.items()}


def test_unmarked_written_answers_are_reported_not_exported(workspace):
    assert lms.collect(workspace).pending == ["bob / 01-census"]


def test_export_command_writes_the_platform_csv_and_says_what_is_left_blank(workspace):
    run = subprocess.run([sys.executable, "-m", "autograder.cli", "export", "--workspace", str(workspace.root),
                          "--format", "moodle"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    written = workspace.root / "reports" / "grades-moodle.csv"
    assert str(written) in run.stdout and "bob / 01-census" in run.stdout
    assert read(written)[0][0] == "Username"


def test_export_never_overwrites_a_file_it_did_not_write(workspace, tmp_path):
    precious = tmp_path / "marks.csv"
    precious.write_text("my own spreadsheet\n")
    run = subprocess.run([sys.executable, "-m", "autograder.cli", "export", "--workspace", str(workspace.root),
                          "--format", "canvas", "--to", str(precious)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "--force" in run.stderr and "Traceback" not in run.stderr
    assert precious.read_text() == "my own spreadsheet\n"
    earlier = lms.write(lms.collect(workspace), "canvas", tmp_path / "canvas.csv")
    assert lms.destination(earlier, "canvas") == earlier, "an earlier Canvas export is replaced"
    assert lms.destination(tmp_path, "moodle") == tmp_path / "grades-moodle.csv"


def test_unknown_platform_is_a_clear_error(workspace, tmp_path):
    with pytest.raises(ValueError, match="canvas, moodle"):
        lms.write(lms.collect(workspace), "blackboard", tmp_path / "x.csv")
