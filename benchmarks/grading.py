"""Grading throughput: plain ``nbgrader autograde`` against the engine (1 and 2 workers) and a 2-worker Dask
LocalCluster, on one class of real labs, on this machine, in one run, interleaved.

Run by hand (not a test): ``make bench-grading`` or ``python benchmarks/grading.py --students 26 --rounds 3``
(``--per-student`` adds one ``nbgrader autograde --student`` call per submission). Prints the best wall time of
the rounds, submissions per minute, ratio to nbgrader, peak memory of the whole process tree, the floor (the
notebooks' own execution time divided by the cores: their cells' time as nbgrader ran them, one at a time), the
engine's kernels' CPU time, the grader process's own CPU time and whether every method gave every submission
the same score.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import psutil

from autograder.course.build import build_course
from autograder.course.simulate import Student, simulate_class
from autograder.course.workspace import Workspace
from autograder.grading import engine
from autograder.labs import discover

BEHAVIOURS = ["solves everything", "submits the blank release", "gets every other task wrong",
              "writes code that raises"]


class PeakMemory(threading.Thread):
    """Peak summed RSS of this process and all its descendants (workers, kernels, Dask), sampled."""

    def __init__(self, interval: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.peak, self.interval, self._done = 0, interval, threading.Event()

    def run(self) -> None:
        me = psutil.Process()
        while not self._done.wait(self.interval):
            total = 0
            for p in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):  # a process that just ended
                    total += p.memory_info().rss
            self.peak = max(self.peak, total)

    def stop(self) -> int:
        self._done.set()
        self.join()
        return self.peak


def make_class(root: Path, labs, students: int) -> Workspace:
    workspace = Workspace(root / "template")
    build_course(workspace, labs, due=datetime(2030, 1, 1), cell_timeout=60)
    cls = tuple(Student(f"s{n:03d}", "S", str(n), BEHAVIOURS[n % len(BEHAVIOURS)]) for n in range(students))
    simulate_class(workspace, labs, cls)
    return workspace


def copy_course(template: Workspace, target: Path) -> Workspace:
    shutil.copytree(template.root, target, symlinks=True)
    copy = Workspace(target)
    copy.config_file.write_text(copy.config_file.read_text().replace(str(template.root.resolve()),
                                                                    str(target.resolve())))
    return copy


def scores(workspace: Workspace) -> dict[tuple[str, str], float]:
    with workspace.gradebook() as gradebook:
        return {(a.name, s.student.id): s.score for a in gradebook.assignments for s in a.submissions}


def cells_own_time(workspace: Workspace) -> float:
    """Seconds the autograded notebooks' cells took to execute (nbclient's timestamps, kept by nbgrader): the
    notebooks' own execution time, without any grader's overhead around it."""
    total = 0.0
    for path in (workspace.course / "autograded").glob("*/*/*.ipynb"):
        for cell in json.loads(path.read_text())["cells"]:
            times = cell.get("metadata", {}).get("execution", {})
            if "iopub.execute_input" in times and "shell.execute_reply" in times:
                total += (datetime.fromisoformat(times["shell.execute_reply"].replace("Z", "+00:00"))
                          - datetime.fromisoformat(times["iopub.execute_input"].replace("Z", "+00:00"))
                          ).total_seconds()
    return total


def run_nbgrader(workspace: Workspace, labs) -> None:
    for lab in labs:
        subprocess.run([sys.executable, "-m", "nbgrader", "autograde", lab.assignment_id, "--force"],
                       cwd=workspace.course, capture_output=True, check=True)


def run_nbgrader_per_student(workspace: Workspace, labs) -> None:
    """One ``nbgrader autograde --student`` call per submission, as a grading script over a class often does
    (each call pays nbgrader's start-up); only with ``--per-student``, it is slow."""
    for lab in labs:
        for student in sorted(p.name for p in (workspace.course / "submitted").iterdir()):
            subprocess.run([sys.executable, "-m", "nbgrader", "autograde", lab.assignment_id, "--student", student,
                            "--force"], cwd=workspace.course, capture_output=True, check=True)


def run_engine(workspace: Workspace, workers: int, dask: str | None = None) -> list:
    return engine.grade(workspace, engine.submitted_jobs(workspace), workers=workers, dask=dask,
                        show_progress=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=26, help="students; each submits every lab")
    parser.add_argument("--labs", nargs="+", default=["01-platform-census", "02-onnx-from-scratch"])
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds (each method once a round)")
    parser.add_argument("--skip", nargs="*", default=[], help="method names to leave out (nbgrader is the baseline)")
    parser.add_argument("--per-student", action="store_true",
                        help="also time one nbgrader call per submission (adds about 7 s per submission a round)")
    args = parser.parse_args()
    labs = discover(only=args.labs)
    root = Path(tempfile.mkdtemp(prefix="bench-grading-"))
    template = make_class(root, labs, args.students)
    n = len(engine.submitted_jobs(template))
    methods = {
        "nbgrader autograde": lambda ws: run_nbgrader(ws, labs),
        "engine, 1 worker": lambda ws: run_engine(ws, 1),
        "engine, 2 workers": lambda ws: run_engine(ws, 2),
        "Dask LocalCluster, 2 workers": lambda ws: run_engine(ws, 2, dask="local"),
    }
    if args.per_student:
        methods["nbgrader, one call per submission"] = lambda ws: run_nbgrader_per_student(ws, labs)
    methods = {m: run for m, run in methods.items() if m not in args.skip or m == "nbgrader autograde"}
    walls: dict[str, list[float]] = {m: [] for m in methods}
    peaks: dict[str, int] = dict.fromkeys(methods, 0)
    grader_cpu: dict[str, list[float]] = {m: [] for m in methods}  # this process: the engine's prepare and record
    results, cpu, own = {}, [], []
    order = list(methods)
    for r in range(args.rounds):
        for method in order[r % len(order):] + order[:r % len(order)]:  # rotate: no method always goes first
            workspace = copy_course(template, root / f"round{r}-method{order.index(method)}")
            watch = PeakMemory()
            watch.start()
            started, grader_started = time.monotonic(), time.process_time()
            outcomes = methods[method](workspace)
            walls[method].append(time.monotonic() - started)
            grader_cpu[method].append(time.process_time() - grader_started)
            peaks[method] = max(peaks[method], watch.stop())
            results[method] = scores(workspace)
            if method.startswith("engine"):
                cpu.append(sum(o.cpu_seconds for o in outcomes))
            if method == "nbgrader autograde":
                own.append(cells_own_time(workspace))
            print(f"  round {r + 1}: {method:<34} {walls[method][-1]:7.1f} s", flush=True)
    cores = os.cpu_count() or 1
    floor = min(own) / cores
    base = min(walls["nbgrader autograde"])
    print(f"\n{n} submissions ({args.students} students x {len(labs)} labs: {', '.join(args.labs)}); "
          f"{cores} cores; load average at the end {os.getloadavg()[0]:.1f}")
    print(f"{'method':<34} {'best wall s':>11} {'subs/min':>9} {'vs nbgrader':>12} {'vs floor':>9} {'peak MiB':>9}")
    for method in methods:
        wall = min(walls[method])
        print(f"{method:<34} {wall:11.1f} {n / wall * 60:9.1f} {base / wall:11.2f}x {wall / floor:8.2f}x "
              f"{peaks[method] / 2**20:9.0f}")
    print(f"floor (the cells' own execution time in nbgrader's run / {cores} cores): {floor:.1f} s; the engine's "
          f"kernels used {min(cpu, default=0):.1f} s of CPU (imports done once per worker, in its fork server)")
    for method in (m for m in methods if m.startswith("engine")):
        print(f"{method}: grader process CPU (prepare + record) {min(grader_cpu[method]):.1f} s, "
              f"all rounds: {', '.join(f'{w:.1f}' for w in walls[method])} s")
    agree = all(results[m] == results["nbgrader autograde"] for m in methods)
    print("all methods gave every submission the same score" if agree else
          "SCORES DIFFER: " + ", ".join(m for m in methods if results[m] != results["nbgrader autograde"]))
    shutil.rmtree(root, ignore_errors=True)
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
