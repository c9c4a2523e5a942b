"""A term in miniature, in a real browser on a real JupyterHub: `make hub`'s classroom, the tiny lab, two students.

alice solves every task and writes an answer; bob gets two tasks wrong and writes nothing. Both log in, fetch
the lab, run it, validate and submit in JupyterLab. The instructor collects in formgrader (inside JupyterLab),
grades with `substrate-labs grade`, marks the written answers in formgrader, and generates and releases
feedback there. Each student fetches their feedback and sees their own score; neither can reach the other's
server, feedback or submission, through the browser or through nbgrader's exchange.

The phases share one classroom and run in order; each screen is saved in build/test-output/hub-e2e/.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hubtest import LAB, SHOTS, log_tail, memory_mib, notebook_in
from tinylab import HIDDEN_MARKER, TASKS

WAIT = 120_000  # ms: a user server can take tens of seconds to start on a busy 2-core machine
POINTS = len(TASKS) + 1  # one point per task, one for the written answer
ALICE = {name: f"def {name}(a, b=0):\n    {body}" for name, (body, *_rest) in TASKS.items()}
BOB = {**ALICE, **{name: f"def {name}(a, b=0):\n    {TASKS[name][3][0]}" for name in ("add", "square")}}
WRITTEN = {"alice": "Addition combines two quantities into one; everything else builds on it.", "bob": None}
EXPECTED = {"alice": POINTS, "bob": POINTS - 3}  # bob: two wrong tasks, no written answer


SET_PREFERENCE = """async ([plugin, raw]) => {
  const xsrf = document.cookie.match(/_xsrf=([^;]+)/)[1];
  const base = JSON.parse(document.getElementById('jupyter-config-data').textContent).baseUrl;
  const response = await fetch(base + 'lab/api/settings/' + plugin, {method: 'PUT', body: JSON.stringify({raw}),
      headers: {'X-XSRFToken': xsrf, 'Content-Type': 'application/json'}});
  return response.status;
}"""


def shot(page, name: str) -> Path:
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    assert path.stat().st_size > 5_000, f"screenshot {path} is empty"
    return path


@pytest.fixture(scope="module")
def pages(hub, browser):
    """One browser context (its own cookies) per account, logged in through the hub's login form."""
    opened = {}

    def page_of(account: str):
        if account not in opened:
            page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
            page.set_default_timeout(WAIT)
            page.goto(f"{hub.url}/hub/login")
            page.fill("#username_input", account)
            page.fill("#password_input", hub.accounts[account].password)
            shot(page, f"01-login-{account}")
            page.click("#login_submit")
            page.wait_for_url(re.compile(rf"/user/{account}/lab"), wait_until="commit")
            page.locator("#jp-main-dock-panel").wait_for()
            # Render every cell (JupyterLab lays out only the visible ones by default, which makes clicks into
            # cells race with scrolling): a preference any user can set, saved through the settings API.
            status = page.evaluate(SET_PREFERENCE, ["@jupyterlab/notebook-extension:tracker",
                                                    '{"windowingMode": "none"}'])
            assert status == 204, status
            opened[account] = page
        return opened[account]

    page_of.opened = opened
    yield page_of
    for page in opened.values():
        page.context.close()


def open_from_menu(page, command: str) -> None:
    page.locator('#jp-menu-panel div.lm-MenuBar-itemLabel:text-is("Nbgrader")').click()
    page.locator(f'#jp-mainmenu-nbgrader li[data-command="{command}"]').click()


def wait_rows(page, name: str, count: int):
    rows = page.locator(f"#{name}_assignments_list > .list_item")
    page.wait_for_function(f"document.querySelectorAll('#{name}_assignments_list > .list_item').length == {count}")
    return rows


def kernel_idle(page) -> None:
    page.locator("#jp-main-statusbar", has_text="| Idle").wait_for()


def replace_cell(page, cell, text: str) -> None:
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(text)
    page.keyboard.press("Escape")


@pytest.mark.parametrize("student", ["alice", "bob"])
def test_student_fetches_works_validates_and_submits(hub, pages, student):
    page = pages(student)
    page.locator('#jp-menu-panel div.lm-MenuBar-itemLabel:text-is("Nbgrader")').click()
    items = page.locator("#jp-mainmenu-nbgrader li[data-command]")
    items.first.wait_for()
    commands = {items.nth(i).get_attribute("data-command") for i in range(items.count()) if items.nth(i).is_visible()}
    shot(page, f"02-menu-{student}")
    # Students get Assignments (and Validate in the notebook); the instructor's tools are not there.
    assert not commands & {"nbgrader:open-formgrader", "nbgrader:open-course-list",
                           "nbgrader:open-create-assignment"}, commands
    assert page.locator(".jp-Notification-Toast").count() == 0, "a notification (news pop-up?) is showing"
    formgrader = page.request.get(f"{hub.url}/user/{student}/formgrader")
    assert formgrader.status == 404, "a student's server serves formgrader"
    page.locator('#jp-mainmenu-nbgrader li[data-command="nbgrader:open-assignment-list"]').click()
    rows = wait_rows(page, "released", 1)
    assert rows.first.locator(".item_name").inner_text() == LAB
    shot(page, f"03-assignments-{student}")
    rows.first.locator(".item_status button").click()
    wait_rows(page, "fetched", 1)

    page.goto(f"{hub.url}/user/{student}/lab/tree/{LAB}/tiny.ipynb")
    cells = page.locator(".jp-Notebook .jp-Cell")
    cells.filter(has_text="raise NotImplementedError").first.wait_for()  # the notebook has loaded
    kernel_idle(page)
    answers = BOB if student == "bob" else ALICE
    for i in range(cells.count()):
        cell, text = cells.nth(i), cells.nth(i).inner_text()
        if "raise NotImplementedError" in text:
            name = re.search(r"def (\w+)\(", text).group(1)
            replace_cell(page, cell, answers[name])
        elif "YOUR ANSWER HERE" in text and WRITTEN[student]:
            cell.dblclick()
            replace_cell(page, cell, WRITTEN[student])
    page.locator('#jp-menu-panel div.lm-MenuBar-itemLabel:text-is("Run")').click()
    page.locator('li[data-command="runmenu:run-all"]').click()
    outputs = page.locator(".jp-OutputArea-output")
    outputs.filter(has_text="labkit ready: labkit").wait_for()  # labs import the kit in the user's server
    page.wait_for_function("![...document.querySelectorAll('.jp-InputPrompt')].some(p => p.textContent.includes('*'))")
    kernel_idle(page)
    errors = outputs.filter(has_text="AssertionError").count()
    prompts = [cells.nth(i).locator(".jp-InputPrompt").text_content() for i in range(cells.count())
               if "jp-CodeCell" in cells.nth(i).get_attribute("class")]
    if student == "bob":  # Run All stops at his first failing self-check
        assert errors == 1, "bob's wrong answer does not fail its visible test"
    else:
        assert errors == 0 and all(re.search(r"\[\d+\]", p) for p in prompts), prompts
    page.locator('.jp-NotebookPanel-toolbar [data-command="docmanager:save"]').click()
    page.locator(".lm-TabBar-tab.jp-mod-current:not(.jp-mod-dirty)", has_text="tiny.ipynb").wait_for()
    saved = notebook_in(hub.room.home(student))
    assert any(answers["add"] in c.source for c in saved.cells), "the answer did not reach the saved notebook"
    outputs.filter(has_text="AssertionError" if errors else "labkit ready").first.scroll_into_view_if_needed()
    shot(page, f"04-notebook-{student}")
    memory = memory_mib(hub.room.root, student)
    assert memory.get("server") and memory.get("kernel"), f"{student}'s server or kernel not found: {memory}"
    (SHOTS / f"memory-{student}.json").write_text(json.dumps(memory))

    page.locator("jp-button.validate-button").click()
    verdict = ".nbgrader-ErrorDialog .validation-failed" if student == "bob" else \
        ".nbgrader-SuccessDialog .validation-success"
    page.locator(verdict).wait_for()
    shot(page, f"05-validate-{student}")
    page.locator(".jp-Dialog button.jp-Dialog-button").last.click()

    open_from_menu(page, "nbgrader:open-assignment-list")
    rows = wait_rows(page, "fetched", 1)
    rows.first.locator('.item_status button:text-is("Submit")').click()
    rows = wait_rows(page, "submitted", 1)
    assert rows.first.locator(".item_name").first.inner_text() == LAB
    shot(page, f"06-submitted-{student}")


def wait_until(check, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.5)
    return False


def instructor_env(hub) -> dict[str, str]:
    home = hub.room.home(hub.room.instructor)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "JPY_"))}
    return {**env, **hub.room.environment(hub.room.instructor), "HOME": str(home)}


def test_instructor_collects_grades_marks_and_releases_feedback(hub, pages):
    page = pages(hub.room.instructor)
    open_from_menu(page, "nbgrader:open-formgrader")
    frame = page.frame_locator("iframe").first
    row = frame.locator("tr", has=frame.locator(f'a:text-is("{LAB}")'))
    row.wait_for()  # formgrader renders inside JupyterLab: frame-ancestors 'self' (nbgrader #1870)
    shot(page, "07-formgrader-in-lab")

    def formgrader_action(cls: str, what: str) -> None:
        row.locator(f"td.{cls} a").click()
        modal = frame.locator("#success-modal")
        modal.wait_for()
        assert what in modal.inner_text()
        shot(page, f"08-{cls}")
        modal.locator("button").last.click()
        modal.wait_for(state="hidden")

    formgrader_action("collect", "Successfully collected")
    graded = subprocess.run([str(Path(sys.executable).parent / "substrate-labs"), "grade", "--workspace",
                             str(hub.room.workspace.root)], capture_output=True, text=True,
                            env=instructor_env(hub), timeout=600)
    assert graded.returncode == 0, graded.stdout + graded.stderr
    api = f"{hub.url}/user/{hub.room.instructor}/formgrader"

    def submission_of(student):
        return page.request.get(f"{api}/api/submission/{LAB}/{student}").json()

    for student, score in EXPECTED.items():  # autograded; a written answer waits for a person (an untouched
        autograded = submission_of(student)  # answer cell scores 0 without one)
        assert autograded["needs_manual_grade"] == bool(WRITTEN[student]), autograded
        assert autograded["score"] == pytest.approx(score - bool(WRITTEN[student])), autograded
    submissions = page.request.get(f"{api}/api/submitted_notebooks/{LAB}/tiny").json()
    by_student = {s["student"]: s for s in submissions}
    assert set(by_student) == {"alice", "bob"}, submissions
    for student, submission in by_student.items():
        page.evaluate("url => document.querySelector('iframe').src = url",
                      f"{api}/submissions/{submission['id']}/?index=0")
        cell = frame.locator(".nbgrader_cell", has=frame.locator("input#why"))
        cell.wait_for()
        if WRITTEN[student]:
            # formgrader's script marks the box once it has loaded the grade: only then does a click save
            cell.locator("input#why.needs_manual_grade").wait_for()
            cell.locator(".full-credit").click()
            cell.locator("input#why:not(.needs_manual_grade)").wait_for()
            marked = wait_until(lambda who=student: not submission_of(who)["needs_manual_grade"])
            assert marked, f"formgrader did not record the mark for {student}'s written answer"
        shot(page, f"09-manual-grade-{student}")
    for student in by_student:
        listed = submission_of(student)
        assert listed["score"] == pytest.approx(EXPECTED[student]), (student, listed)
        assert not listed["needs_manual_grade"], (student, listed)

    page.evaluate("url => document.querySelector('iframe').src = url", f"{api}/manage_assignments")
    row.wait_for()
    formgrader_action("generate-feedback", "Successfully generated feedback")
    formgrader_action("release-feedback", "Successfully released feedback")


def _feedback_files(hub, student: str) -> list[Path]:
    return sorted((hub.room.home(student) / LAB / "feedback").rglob("*.html"))


@pytest.mark.parametrize("student", ["alice", "bob"])
def test_student_fetches_feedback_and_sees_own_score(hub, pages, student):
    page = pages(student)
    page.goto(f"{hub.url}/user/{student}/lab?reset")
    open_from_menu(page, "nbgrader:open-assignment-list")
    rows = wait_rows(page, "submitted", 1)
    rows.first.locator('.item_status button:text-is("Fetch Feedback")').click()
    page.locator("#submitted_assignments_list a", has_text="view feedback").first.wait_for()
    shot(page, f"10-feedback-available-{student}")
    files = _feedback_files(hub, student)
    assert len(files) == 1, files
    relative = files[0].relative_to(hub.room.home(student))
    page.goto(f"{hub.url}/user/{student}/files/{relative}")
    heading = page.locator("h4", has_text="Score")
    heading.first.wait_for()
    assert f"(Score: {EXPECTED[student]:.1f} / {POINTS:.1f})" in heading.first.inner_text()
    assert HIDDEN_MARKER not in page.content(), "feedback shows a hidden test"
    shot(page, f"11-feedback-{student}")


def test_a_student_cannot_reach_another_students_work(hub, pages):
    alice_feedback = _feedback_files(hub, "alice")[0].relative_to(hub.room.home("alice"))
    page = pages("bob")
    # Through the browser: alice's server, her files and her feedback are refused to bob's login.
    for path in ["lab", f"files/{alice_feedback}", f"files/{LAB}/tiny.ipynb", "api/contents"]:
        response = page.goto(f"{hub.url}/user/alice/{path}")
        assert response.status == 403, (path, response.status)
        assert f"{POINTS:.1f} / {POINTS:.1f}" not in page.content()
        if path == "lab":
            shot(page, "12-bob-refused-alice")
    # Through bob's own server: nbgrader lists only his submission and his feedback.
    listed = page.request.get(f"{hub.url}/user/bob/assignments?course_id={hub.room.course_id}").json()
    assert listed["success"], listed
    students = {s.get("student_id") for a in listed["value"] if a["status"] == "submitted"
                for s in a.get("submissions", [])}
    assert students == {"bob"}, listed
    (own,) = _feedback_files(hub, "bob")
    assert f"(Score: {EXPECTED['bob']:.1f} / {POINTS:.1f})" in own.read_text(), "bob's feedback is his own"
    # Through the exchange: bob claiming alice's student id still cannot fetch her feedback, because it is
    # filed under a hash of her submission's secret, which only her exchange cache holds.
    bob = hub.room.home("bob")
    before = sorted(bob.rglob("*.html"))
    env = {**instructor_env(hub), **hub.room.environment("bob"), "HOME": str(bob), "JUPYTERHUB_USER": "bob"}
    claim = subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "fetch_feedback", LAB,
                            "--course", hub.room.course_id, "--CourseDirectory.student_id=alice"],
                           cwd=bob, env=env, capture_output=True, text=True, timeout=120)
    after = sorted(bob.rglob("*.html"))
    assert after == before, (claim.stdout, claim.stderr)
    assert not any(f"{POINTS:.1f} / {POINTS:.1f}" in p.read_text() for p in after), log_tail(hub.log)
