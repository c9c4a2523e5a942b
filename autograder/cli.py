"""``substrate-labs``: build the course, simulate a class, grade, give feedback, export; or all of it (demo)."""
from __future__ import annotations

import argparse
import shutil
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .authoring.lint import lint
from .course.build import build_course
from .course.simulate import DEFAULT_CLASS, simulate_class
from .course.workspace import DEFAULT_COURSE_ID, CourseError, Workspace
from .feedback.release import give_feedback
from .grading import engine, sandbox, summary
from .labs import LABS_DIR, LabError, discover
from .progress import bar as progress_bar
from .reports import grades as report

DEFAULT_WORKSPACE = Path("build/classroom")


def _default_due() -> datetime:
    today = datetime.now(timezone.utc).replace(hour=23, minute=59, second=0, microsecond=0, tzinfo=None)
    return today + timedelta(days=7)


def _labs(args: argparse.Namespace):
    return discover(args.labs_dir, only=args.labs or None)


def _course(args: argparse.Namespace) -> Workspace:
    """The workspace of an existing course; a clear error before anything else when there is none."""
    workspace = Workspace(args.workspace)
    workspace.config()
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
    build_course(workspace, labs, due=args.due, cell_timeout=args.cell_timeout, late_fraction=args.late_penalty,
                 course_id=args.course_id, exchange=args.exchange)
    print(f"Built course with {len(labs)} labs at {workspace.course} (due {args.due:%Y-%m-%d %H:%M} UTC)")
    print(f"  student versions: {workspace.course / 'release'}")
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
    print(sandbox.probe().message, file=sys.stderr if sandbox.probe().isolated else sys.stdout)
    outcomes = engine.grade(workspace, jobs, job_timeout=args.job_timeout, workers=args.workers, dask=args.dask)
    engine.save(outcomes, _report_path(workspace))
    print(summary.table(outcomes))
    print(f"report: {_report_path(workspace)}; logs: {workspace.root / 'logs'}")
    failed = [o for o in outcomes if o.status == "failed"]
    return 1 if failed and not getattr(args, "allow_failures", True) else 0


def cmd_feedback(args: argparse.Namespace) -> int:
    workspace = _course(args)
    files, problems = give_feedback(workspace, _assignments(workspace, args))
    print(f"{len(files)} feedback files in {workspace.course / 'feedback'}, released to the exchange")
    for problem in problems:
        print(f"  PROBLEM {problem}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    workspace = _course(args)
    destination = report.export_csv(workspace, args.to or workspace.root / "reports" / "grades.csv")
    outcomes = engine.load(_report_path(workspace))
    print(report.score_table(workspace, outcomes))
    print(f"\nGrades CSV: {destination}")
    if outcomes:
        print(f"Grading status and notes: {report.export_notes(outcomes, destination.with_name('grading-notes.csv'))}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    workspace = Workspace(args.workspace)
    if workspace.root.exists() and any(workspace.root.iterdir()):
        if not workspace.config_file.exists():
            raise CourseError(f"{workspace.root} is not empty and not a course workspace; choose another --workspace")
        shutil.rmtree(workspace.root)
    started = time.monotonic()
    steps = [("build the course", cmd_build), ("simulate a class", cmd_simulate), ("grade", cmd_grade),
             ("feedback", cmd_feedback), ("grades and score table", cmd_export)]
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
    from .authoring.wrong_answers import check_lab  # imports a kernel client: only when asked
    bad = 0
    for lab in _labs(args):
        for v in check_lab(lab, cell_timeout=args.cell_timeout):
            expected = not v.loses_points if v.why == "solution" else v.loses_points
            bad += not expected
            mark = "ok " if expected else "BAD"
            hidden = " (only the hidden tests catch it)" if v.passes_visible else ""
            print(f"{mark} {lab.assignment_id} {v.task:<24} {v.score:g}/{v.max_score:g}  {v.why}{hidden}")
    print("every wrong answer loses points" if not bad else f"{bad} checks failed")
    return 1 if bad else 0


def _due(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text).replace(tzinfo=None)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date/time: {text!r} (e.g. 2026-12-01T23:59)") from None


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="substrate-labs", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name, func, help_text, workspace=True, labs=True, sources=False):
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=func)
        if workspace:
            p.add_argument("--workspace", type=Path, default=DEFAULT_WORKSPACE,
                           help=f"folder holding course/, exchange/, students/ (default: {DEFAULT_WORKSPACE})")
        if labs:
            p.add_argument("--labs", nargs="+", metavar="LAB", help="assignment ids (default: all labs)")
        if sources:
            p.add_argument("--labs-dir", type=Path, default=LABS_DIR, help=f"lab sources (default: {LABS_DIR})")
        return p

    def build_options(p):
        p.add_argument("--due", type=_due, default=_default_due(), help="due date, UTC, ISO format")
        p.add_argument("--cell-timeout", type=int, default=30, help="seconds one cell may run when graded")
        p.add_argument("--late-penalty", type=float, default=0.1, help="fraction of the score lost per day late")
        p.add_argument("--course-id", default=DEFAULT_COURSE_ID,
                       help=f"nbgrader course id (default: {DEFAULT_COURSE_ID})")
        p.add_argument("--exchange", type=Path,
                       help="nbgrader exchange folder (default: WORKSPACE/exchange; on JupyterHub, the shared one)")

    build_options(command("build", cmd_build, "build the nbgrader course and the student versions from labs/",
                          sources=True))
    command("simulate", cmd_simulate, "simulate a class fetching, working and submitting every lab",
            sources=True)
    grade = command("grade", cmd_grade, "autograde every collected submission, each in its own sandbox, in parallel")
    command("feedback", cmd_feedback, "write feedback HTML (hidden tests removed) and release it")
    export = command("export", cmd_export, "write the grades CSV and print the score table", labs=False)
    export.add_argument("--to", type=Path, help="CSV path (default: WORKSPACE/reports/grades.csv)")
    demo = command("demo", cmd_demo, "build, simulate, grade, give feedback and export on a fresh workspace",
                   sources=True)
    build_options(demo)
    demo.set_defaults(cell_timeout=10)  # the simulated infinite loop costs one cell this long
    for p in (grade, demo):
        p.add_argument("--job-timeout", type=float, default=600,
                       help="seconds one submission may take in all before it is stopped")
        p.add_argument("--workers", type=int, help="sandboxed kernels at a time (default: the cores)")
        p.add_argument("--dask", metavar="ADDRESS", help="grade on a Dask cluster: a scheduler address "
                       "(tcp://host:port), or 'local' for a LocalCluster of --workers processes")
    grade.add_argument("--allow-failures", action="store_true",
                       help="exit 0 even when some submissions could not be graded")
    demo.add_argument("--to", type=Path, help="CSV path (default: WORKSPACE/reports/grades.csv)")
    command("lint", cmd_lint, "check every lab against the authoring rules", workspace=False, sources=True)
    check = command("check-lab", cmd_check_lab, "grade every known wrong answer; each must lose points",
                    workspace=False, sources=True)
    check.add_argument("--cell-timeout", type=int, default=60, help="seconds one cell may run")
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (CourseError, LabError, engine.WorkerError, ValueError) as error:
        print(f"substrate-labs {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
