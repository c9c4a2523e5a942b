"""``make test-arm64``: set up the aarch64 side (once), run every lab on x86-64 and under emulation, compare.

Exit status 0 when every lab passes, 1 when one fails, 2 when the check cannot run here (the message says why).
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..labs import LABS_DIR, Lab, LabError, discover
from . import dispatch, emulation, sysroot
from .compare import LabComparison, compare_lab
from .convention import ConventionError, plan
from .execute import emulated_kernel, host_kernel
from .records import NotebookRecord
from .report import render

GIB = 2**30
MEMORY_PER_RUN = 1.5 * GIB  # an emulated kernel with the lab stack imported, and its share of qemu


def default_jobs() -> int:
    """Parallel runs: one per CPU, fewer when memory is short."""
    try:
        available = next(int(line.split()[1]) * 1024 for line in Path("/proc/meminfo").read_text().splitlines()
                         if line.startswith("MemAvailable:"))
    except (OSError, StopIteration, ValueError):
        available = 4 * GIB
    return max(1, min(os.cpu_count() or 1, int(available // MEMORY_PER_RUN)))


def set_up(layout: sysroot.Layout, mode: str) -> emulation.Emulator:
    emulation.check_host(platform.machine())
    emulation.install_tools()
    emulator = emulation.emulator(layout.prefix, mode)
    started = time.perf_counter()
    if not (layout.sysroot / sysroot.STAMP).exists() and emulator.mode != "binfmt":
        raise sysroot.SetupError("the aarch64 userland is not set up yet, and setting it up (debootstrap's "
                                 "second stage) needs binfmt_misc: " + emulation.BINFMT_HELP)
    print("aarch64 userland (debootstrap, a few minutes the first time) ...", flush=True)
    built = sysroot.build_userland(layout)
    print("aarch64 wheels of the project's dependencies (pip) ...", flush=True)
    installed = sysroot.install_wheels(layout)
    sysroot.build_prefix(layout)
    state = "set up" if built or installed else "cached"
    print(f"aarch64 side {state} in {time.perf_counter() - started:.0f} s under {layout.root}: userland "
          f"{sysroot.size_mib(layout.sysroot):.0f} MiB, wheels {sysroot.size_mib(layout.site):.0f} MiB; "
          f"emulation through {emulator.mode}", flush=True)
    return emulator


def check_dispatch(layout: sysroot.Layout, emulator: emulation.Emulator) -> list[str]:
    native, emulated = host_kernel(layout), emulated_kernel(layout, emulator)
    cases = [("x86-64, native", native, {}), ("aarch64, emulated Neoverse-N1", emulated, {}),
             ("aarch64, OpenBLAS TSV110", emulated, {"OPENBLAS_CORETYPE": "TSV110"})]
    with ThreadPoolExecutor(len(cases)) as pool:
        futures = [pool.submit(dispatch.probe, label, list(kernel.argv), {**kernel.env, **extra})
                   for label, kernel, extra in cases]
        native_census, emulated_census, kunpeng_census = (f.result() for f in futures)
    censuses = [native_census, emulated_census, dispatch.as_kunpeng(kunpeng_census)]
    print("\nCensus and OpenBLAS dispatch:")
    for census in censuses:
        print(f"  {census}")
    print("Recorded platforms (labkit.platform.load, the same parser):")
    for line in dispatch.recordings():
        print(f"  {line}")
    return dispatch.problems(*censuses)


def _run(lab: Lab, isa: str, kernels: Path, layout: sysroot.Layout, args: argparse.Namespace) -> NotebookRecord:
    out = layout.runs / lab.assignment_id / f"{isa}.json"
    out.unlink(missing_ok=True)
    command = [sys.executable, "-m", "autograder.arm64.execute", lab.assignment_id, str(lab.notebook), str(kernels),
               isa, str(out), "--cell-timeout", str(args.cell_timeout), "--startup-timeout", str(args.startup_timeout)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=args.run_timeout)
    except subprocess.TimeoutExpired:
        return NotebookRecord(lab.assignment_id, isa, failure=f"the run took longer than {args.run_timeout:g} s")
    if done.returncode != 0 or not out.exists():
        return NotebookRecord(lab.assignment_id, isa, failure=f"the runner failed: {done.stderr.strip()[-300:]}")
    record = NotebookRecord.load(out)
    print(f"  {record.isa:<8} {lab.assignment_id:<28} {record.seconds:6.0f} s (kernel start "
          f"{record.startup_seconds:.0f} s){'  ' + record.failure if record.failure else ''}", flush=True)
    return record


def _saved(lab: Lab, isa: str, layout: sysroot.Layout) -> NotebookRecord:
    path = layout.runs / lab.assignment_id / f"{isa}.json"
    if not path.exists():
        raise LabError(f"no saved {isa} run of {lab.assignment_id} in {path.parent}: run without --compare-only")
    return NotebookRecord.load(path)


def check_labs(labs: list[Lab], layout: sysroot.Layout, emulator: emulation.Emulator,
               args: argparse.Namespace) -> list[tuple[LabComparison, NotebookRecord, NotebookRecord]]:
    plans = {}
    for lab in labs:
        try:
            plans[lab.assignment_id] = plan(lab.read(), lab.assignment_id)
        except ConventionError as error:
            raise LabError(str(error)) from error
    kernels = layout.root / "kernels"
    host_kernel(layout).write_spec(kernels)
    emulated_kernel(layout, emulator).write_spec(kernels)
    # The emulated runs are the long ones: start them first.
    jobs = [(lab, isa) for isa in ("aarch64", "x86-64") for lab in labs]
    if args.compare_only:
        records = {job: _saved(*job, layout) for job in jobs}
    else:
        print(f"\nRunning {len(labs)} labs on both ISAs, {args.jobs} at a time:", flush=True)
        with ThreadPoolExecutor(args.jobs) as pool:
            records = dict(zip(jobs, pool.map(lambda job: _run(*job, kernels, layout, args), jobs), strict=True))
    return [(compare_lab(lab.assignment_id, plans[lab.assignment_id], records[lab, "x86-64"],
                         records[lab, "aarch64"]), records[lab, "x86-64"], records[lab, "aarch64"]) for lab in labs]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.arm64", description=__doc__.split("\n")[0])
    parser.add_argument("--labs", nargs="*", help="assignment ids (default: every lab in labs/)")
    parser.add_argument("--labs-dir", type=Path, default=LABS_DIR)
    parser.add_argument("--qemu", choices=("auto", "binfmt", "explicit"), default="auto",
                        help="how aarch64 programs start: binfmt_misc (root enables it), or an explicit "
                             "qemu-aarch64-static -L around each kernel")
    parser.add_argument("--jobs", type=int, default=default_jobs(), help="notebook runs in parallel")
    parser.add_argument("--cell-timeout", type=float, default=900, help="seconds per cell (emulation is slow)")
    parser.add_argument("--startup-timeout", type=float, default=600, help="seconds for a kernel to start")
    parser.add_argument("--run-timeout", type=float, default=3600, help="seconds for a whole notebook run")
    parser.add_argument("--sysroot", type=Path, help="use the aarch64 userland another checkout set up "
                        "(its build/arm64/sysroot) instead of making one here")
    parser.add_argument("--setup-only", action="store_true", help="set up the aarch64 side and stop")
    parser.add_argument("--compare-only", action="store_true",
                        help="compare the runs saved by the last run again (after changing tags or tolerances)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    layout = sysroot.Layout(shared_sysroot=args.sysroot.resolve() if args.sysroot else None)
    try:
        labs = discover(args.labs_dir, only=args.labs or None)
        emulator = set_up(layout, args.qemu)
        if args.setup_only:
            return 0
        problems = [] if args.compare_only else check_dispatch(layout, emulator)
        results = check_labs(labs, layout, emulator, args)
    except (emulation.EmulationUnavailable, sysroot.SetupError, dispatch.ProbeError, LabError) as error:
        print(f"test-arm64: {error}", file=sys.stderr)
        return 2
    print("\n" + render(results))
    failed = [r.lab for r, _, _ in results if not r.ok]
    if problems:
        print("\nCensus and OpenBLAS dispatch:\n" + "\n".join(f"  - {p}" for p in problems))
    verdict = "FAILED: " + ", ".join(failed + (["dispatch"] if problems else [])) if failed or problems else "passed"
    print(f"\ntest-arm64 {verdict} ({len(results)} labs, {time.perf_counter() - started:.0f} s)")
    return 1 if failed or problems else 0


if __name__ == "__main__":
    sys.exit(main())
