"""``substrate-labs``: build the course, simulate a class, grade, give feedback, export; or all of it (demo).

Every error is one paragraph saying what is wrong and what to do, with a non-zero exit; ``--debug`` adds the
traceback. No command deletes or overwrites a class's data without an explicit flag, and then a backup is made.
"""
from __future__ import annotations

import argparse
import errno
import shutil
import sys
import time
import traceback
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .authoring.lint import lint
from .course.build import DEFAULT_TIMEZONE, build_course
from .course.late_policy import reapply_late_penalties
from .course.simulate import DEFAULT_CLASS, simulate_class
from .course.workspace import DEFAULT_COURSE_ID, DEMO_MARKER, CourseError, Workspace
from .feedback.release import give_feedback
from .grading import engine, forkclient, sandbox, summary
from .labs import LABS_DIR, LabError, discover
from .progress import bar as progress_bar
from .reports import grades as report
from .reports import lms

DEFAULT_WORKSPACE = Path("build/classroom")
DEMO_WORKSPACE = Path("build/demo")


def _default_due() -> datetime:
    today = datetime.now(timezone.utc).replace(hour=23, minute=59, second=0, microsecond=0)
    return today + timedelta(days=7)


def _labs(args: argparse.Namespace):
    return discover(args.labs_dir, only=args.labs or None)


def _course(args: argparse.Namespace) -> Workspace:
    """The workspace of an existing course; a clear error before anything is written when there is none or its
    gradebook is damaged."""
    workspace = Workspace(args.workspace)
    workspace.config()
    workspace.check_gradebook()
    return workspace


def _assignments(workspace: Workspace, args: argparse.Namespace) -> list[str]:
    known = workspace.assignments()
    unknown = [a for a in args.labs or [] if a not in known]
    if unknown:
        raise LabError(f"the course has no lab {', '.join(unknown)}; it has: {', '.join(known)}")
    return args.labs or known


def cmd_build(args: argparse.Namespace) -> int:
    workspace = Workspace(args.workspace)
    labs = _labs(args)
    built = build_course(workspace, labs, due=args.due, cell_timeout=args.cell_timeout,
                         late_fraction=args.late_penalty, course_id=args.course_id, exchange=args.exchange,
                         timezone_name=args.timezone, force=args.force, demo=args.command == "demo")
    given = (f"given as {args.due.isoformat(timespec='minutes')}" if args.due.tzinfo is not None
             else f"read in the course's time zone, {built.timezone}")
    print(f"Built course {args.course_id} with {len(labs)} labs at {workspace.course}")
    print(f"  due {built.due_utc:%Y-%m-%d %H:%M} UTC ({given})")
    if built.generated:
        print(f"  student versions generated: {', '.join(built.generated)} in {workspace.course / 'release'}")
    if built.unchanged:
        print(f"  unchanged (release kept, due date updated): {', '.join(built.unchanged)}")
    if built.backup:
        print(f"  the course as it was before: {built.backup}")
    if built.old_cell_timeout is not None:
        print(f"  the per-cell limit changed from {built.old_cell_timeout:g} s to {args.cell_timeout} s: submissions "
              "graded before keep their old results and notes until `substrate-labs grade` runs again")
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    workspace = _course(args)
    labs = discover(args.labs_dir, only=_assignments(workspace, args))
    with progress_bar(len(labs) * len(DEFAULT_CLASS), "simulating") as bar:
        simulate_class(workspace, labs, progress=lambda what: (bar.set_postfix_str(what), bar.update()))
    print(f"{len(DEFAULT_CLASS)} students submitted {len(labs)} labs; collected into {workspace.course / 'submitted'}")
    for student in DEFAULT_CLASS:
        late = f", {student.days_late:g} days late" if student.days_late else ""
        print(f"  {student.id:<6} {student.behaviour}{late}")
    return 0


def _report_path(workspace: Workspace) -> Path:
    return workspace.root / "reports" / "grading.json"


def cmd_grade(args: argparse.Namespace) -> int:
    workspace = _course(args)
    jobs = engine.submitted_jobs(workspace, _assignments(workspace, args))
    if not jobs:
        raise CourseError(f"nothing to grade in {workspace.course / 'submitted'}: collect submissions first")
    verdict = sandbox.probe()
    forked = forkclient.NOTE if forkclient.enabled() and not args.dask else ""  # a cluster's workers say their own
    print(verdict.message + forked if verdict.isolated else f"WARNING: {verdict.message}",
          file=sys.stdout if verdict.isolated else sys.stderr)
    outcomes = engine.grade(workspace, jobs, job_timeout=args.job_timeout, workers=args.workers, dask=args.dask)
    engine.save(outcomes, _report_path(workspace))
    print(summary.table(outcomes))
    print(f"report: {_report_path(workspace)}; logs: {workspace.root / 'logs'}")
    failed = [o for o in outcomes if o.status == "failed"]
    return 1 if failed and not getattr(args, "allow_failures", True) else 0


def _by_lab(pairs: list[tuple[str, str]]) -> list[str]:
    labs: dict[str, list[str]] = {}
    for student, assignment in pairs:
        labs.setdefault(assignment, []).append(student)
    return [f"{lab}: {', '.join(students)}" for lab, students in sorted(labs.items())]


def cmd_feedback(args: argparse.Namespace) -> int:
    workspace = _course(args)
    reapply_late_penalties(workspace)  # marks entered by hand since grading are penalised too
    result = give_feedback(workspace, _assignments(workspace, args), partial=args.partial)
    print(f"{len(result.files)} feedback files written to {workspace.course / 'feedback'}; "
          f"{len(result.released)} submissions' feedback released to the students")
    if result.provisional:
        print(f"  {len(result.provisional)} of them provisional (marked \"written answers not yet marked\"):")
        print("\n".join(f"    {line}" for line in _by_lab(result.provisional)))
    if result.held_back:
        print(f"  held back until their written answers are marked in formgrader ({len(result.held_back)}; "
              "--partial releases them now, marked provisional):")
        print("\n".join(f"    {line}" for line in _by_lab(result.held_back)))
    for problem in result.problems:
        print(f"  PROBLEM {problem}")
    return 1 if result.problems else 0


def cmd_export(args: argparse.Namespace) -> int:
    workspace = _course(args)
    if args.format in lms.FORMATS:
        destination = lms.destination(args.to or workspace.root / "reports", args.format, args.force)
        reapply_late_penalties(workspace)  # marks entered by hand since grading are penalised too
        grades = lms.collect(workspace)
        print(f"{args.format.capitalize()} gradebook import CSV: {lms.write(grades, args.format, destination)}")
        for item in grades.pending:
            print(f"  left blank (written answers still to grade in formgrader): {item}")
        return 0
    destination = report.csv_destination(args.to or workspace.root / "reports" / report.CSV_NAME, args.force)
    reapply_late_penalties(workspace)
    report.export_csv(workspace, destination)
    outcomes = engine.load(_report_path(workspace))
    print(report.score_table(workspace, outcomes))
    print(f"\nGrades CSV: {destination}")
    notes = report.export_notes(workspace, outcomes, destination.with_name("grading-notes.csv"))
    print(f"Grading status and notes: {notes}")
    return 0


def _fresh_demo_workspace(workspace: Workspace, replace: bool) -> None:
    """Make ``workspace`` an empty demo workspace, or refuse: the demo only ever replaces its own."""
    root = workspace.root
    if root.exists() and not root.is_dir():
        raise CourseError(f"{root} is a file, not a workspace folder: give --workspace a folder")
    if root.is_dir() and any(root.iterdir()):
        if not workspace.is_demo:
            held = "; ".join(workspace.class_data() or [f"folders {', '.join(p.name for p in root.iterdir())}"])
            raise CourseError(f"{root} is not a demo workspace (it has no {DEMO_MARKER}), so the demo will not "
                              f"replace it: it holds {held}. Nothing was changed. The demo runs in its own "
                              f"workspace: leave out --workspace (default {DEMO_WORKSPACE}) or give a new folder")
        if not replace:
            raise CourseError(f"{root} holds an earlier demo; pass --replace-demo to start it over "
                              "(`make demo` does). Nothing was changed")
        shutil.rmtree(root)  # only simulated students: the marker says the demo created it
    root.mkdir(parents=True, exist_ok=True)
    (root / DEMO_MARKER).write_text("Created by `substrate-labs demo`: simulated students only. "
                                    "`substrate-labs demo --replace-demo` may delete this folder.\n")


def cmd_demo(args: argparse.Namespace) -> int:
    workspace = Workspace(args.workspace)
    _fresh_demo_workspace(workspace, args.replace_demo)
    started = time.monotonic()
    steps = [("build the course", cmd_build), ("simulate a class", cmd_simulate), ("grade", cmd_grade),
             ("feedback (provisional: nobody has marked the written answers)", cmd_feedback),
             ("grades and score table", cmd_export)]
    for n, (title, step) in enumerate(steps, 1):
        print(f"\n== {n}/{len(steps)} {title} ==", flush=True)
        step(args)
    print(f"\nDemo finished in {time.monotonic() - started:.0f} s. Where everything is:")
    reports, course = workspace.root / "reports", workspace.course
    for what, path in [("course (nbgrader root)", course), ("student versions", course / "release"),
                       ("submissions", course / "submitted"), ("autograded", course / "autograded"),
                       ("feedback HTML", course / "feedback"), ("grades CSV", reports / "grades.csv"),
                       ("grading notes CSV", reports / "grading-notes.csv"),
                       ("grading report", _report_path(workspace)), ("grading logs", workspace.root / "logs")]:
        print(f"  {what:<24} {path}")
    return 0


def cmd_lint(args: argparse.Namespace) -> int:
    problems = [p for lab in _labs(args) for p in lint(lab)]
    print("\n".join(problems) if problems else "all labs are clean")
    return 1 if problems else 0


def cmd_check_lab(args: argparse.Namespace) -> int:
    # both import a kernel client: only when asked
    from .authoring.blank_release import run_lab_blank
    from .authoring.wrong_answers import check_lab
    bad = 0
    for lab in _labs(args):
        for v in check_lab(lab, cell_timeout=args.cell_timeout):
            expected = not v.loses_points if v.why == "solution" else v.loses_points
            bad += not expected
            mark = "ok " if expected else "BAD"
            hidden = " (only the hidden tests catch it)" if v.passes_visible else ""
            print(f"{mark} {lab.assignment_id} {v.task:<24} {v.score:g}/{v.max_score:g}  {v.why}{hidden}")
        blank = run_lab_blank(lab, cell_timeout=args.cell_timeout)
        problems = blank.problems()
        bad += len(problems)
        print(f"{'ok ' if not problems else 'BAD'} {lab.assignment_id} {blank.summary()}")
        print("".join(f"BAD {lab.assignment_id} {p}\n" for p in problems), end="")
    print("every wrong answer loses points and the blank release is clean" if not bad else f"{bad} checks failed")
    return 1 if bad else 0


def _due(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date/time: {text!r} (e.g. 2026-12-01T23:59 or "
                                         "2026-12-01T23:59+02:00)") from None


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="substrate-labs", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    top.add_argument("--debug", action="store_true", help="on an error, show the traceback too")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name, func, help_text, workspace=True, labs=True, sources=False, default_workspace=DEFAULT_WORKSPACE):
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=func)
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="on an error, show the traceback too")
        if workspace:
            p.add_argument("--workspace", type=Path, default=default_workspace,
                           help=f"folder holding course/, exchange/, students/ (default: {default_workspace})")
        if labs:
            p.add_argument("--labs", nargs="+", metavar="LAB", help="assignment ids (default: all labs)")
        if sources:
            p.add_argument("--labs-dir", type=Path, default=LABS_DIR, help=f"lab sources (default: {LABS_DIR})")
        return p

    def build_options(p):
        p.add_argument("--due", type=_due, default=_default_due(),
                       help="due date, ISO format; with an offset (2026-12-01T23:59+02:00) it is converted to UTC, "
                            "without one it is read in --timezone (default: a week from today, 23:59 UTC)")
        p.add_argument("--timezone", metavar="ZONE",
                       help=f"IANA time zone a --due without offset is read in, kept by the course (default: the "
                            f"course's, {DEFAULT_TIMEZONE} for a new course)")
        p.add_argument("--cell-timeout", type=int, default=30, help="seconds one cell may run when graded")
        p.add_argument("--late-penalty", type=float, default=0.1, help="fraction of the score lost per day late")
        p.add_argument("--course-id", default=DEFAULT_COURSE_ID,
                       help=f"nbgrader course id (default: {DEFAULT_COURSE_ID})")
        p.add_argument("--exchange", type=Path,
                       help="nbgrader exchange folder (default: WORKSPACE/exchange; on JupyterHub, the shared one)")

    build = command("build", cmd_build, "build the nbgrader course and the student versions from labs/; on an "
                    "existing course (same --course-id) update it in place", sources=True)
    build_options(build)
    build.add_argument("--force", action="store_true",
                       help="regenerate labs students have already submitted (the course is copied to "
                            "WORKSPACE/backups/ first)")
    command("simulate", cmd_simulate, "simulate a class fetching, working and submitting every lab",
            sources=True)
    grade = command("grade", cmd_grade, "autograde every collected submission, each in its own sandbox, in parallel")
    feedback = command("feedback", cmd_feedback, "write feedback HTML (hidden tests removed) and release it; "
                       "submissions with written answers not yet marked are held back")
    feedback.add_argument("--partial", action="store_true",
                          help="release those too, marked \"written answers not yet marked\"")
    export = command("export", cmd_export, "write the grades CSV and print the score table", labs=False)
    export.add_argument("--format", choices=["nbgrader", *lms.FORMATS], default="nbgrader",
                        help="nbgrader's CSV (default), or a learning platform's gradebook import CSV "
                             "(default: WORKSPACE/reports/grades-FORMAT.csv)")
    demo = command("demo", cmd_demo, "build, simulate, grade, give feedback and export in a demo workspace",
                   sources=True, default_workspace=DEMO_WORKSPACE)
    build_options(demo)
    demo.add_argument("--replace-demo", action="store_true",
                      help="start over in a workspace an earlier demo created (never any other workspace)")
    # the simulated infinite loop costs one cell; the demo exports nbgrader's CSV
    demo.set_defaults(cell_timeout=10, force=False, partial=True, format="nbgrader")
    for p in (grade, demo):
        p.add_argument("--job-timeout", type=float, default=600,
                       help="seconds one submission may take in all before it is stopped")
        p.add_argument("--workers", type=int, help="sandboxed kernels at a time (default: the cores)")
        p.add_argument("--dask", metavar="ADDRESS", help="grade on a Dask cluster: a scheduler address "
                       "(tcp://host:port), or 'local' for a LocalCluster of --workers processes")
    grade.add_argument("--allow-failures", action="store_true",
                       help="exit 0 even when some submissions could not be graded")
    for p in (export, demo):
        p.add_argument("--to", type=Path,
                       help="CSV file, or a folder (existing, or a new path without .csv) to write grades.csv in "
                            "(default: WORKSPACE/reports/grades.csv)")
    export.add_argument("--force", action="store_true", help="replace a --to file that is not a grades CSV")
    command("lint", cmd_lint, "check every lab against the authoring rules", workspace=False, sources=True)
    check = command("check-lab", cmd_check_lab, "grade every known wrong answer (each must lose points) and run "
                    "the blank release (no free points, every non-task cell runs)",
                    workspace=False, sources=True)
    check.add_argument("--cell-timeout", type=int, default=60, help="seconds one cell may run")
    return top


_OS_MEANINGS = {errno.EISDIR: "a folder was given where a file is expected",
                errno.ENOTDIR: "a file was given where a folder is expected",
                errno.ENOENT: "it does not exist", errno.EACCES: "no permission", errno.EPERM: "not permitted",
                errno.EROFS: "the file system is read-only", errno.ENOSPC: "the disk is full"}


def explain(error: BaseException) -> str:
    """One paragraph for the user: our own errors say what to do; others say what happened and where."""
    if isinstance(error, (CourseError, LabError, engine.WorkerError, ValueError)):
        text = str(error)
    elif isinstance(error, OSError):
        where = " -> ".join(str(p) for p in (error.filename, error.filename2) if p) or "a file"
        meaning = _OS_MEANINGS.get(error.errno, error.strerror or type(error).__name__)
        text = f"cannot use {where}: {meaning}. Nothing else was attempted"
    else:
        text = (f"unexpected {type(error).__name__}: {error}. Run the command again with --debug for the "
                "traceback and report it")
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print(f"substrate-labs {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 (the one place every error becomes a message, never a traceback)
        if args.debug:
            traceback.print_exc()
            if getattr(error, "details", ""):
                print(error.details, file=sys.stderr)
        print(f"substrate-labs {args.command}: error: {explain(error)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
