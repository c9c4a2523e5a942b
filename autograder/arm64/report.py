"""The comparison as a table for the terminal, and the problems under it."""
from __future__ import annotations

from .compare import LabComparison
from .records import NotebookRecord

HEADER = ("lab", "graded", "pass x86-64", "pass aarch64", "cells compared", "numbers", "max |diff|",
          "max rel diff (where)", "wall x86-64", "wall aarch64 (kernel start)",
          "peak MiB x86-64 / aarch64", "verdict")


def _seconds(run: NotebookRecord) -> str:
    return f"{run.seconds:.0f} s" if run.cells or run.failure else "-"


def row(result: LabComparison, native: NotebookRecord, emulated: NotebookRecord) -> tuple[str, ...]:
    where = f" ({result.where_max})" if result.where_max else ""
    return (result.lab, str(result.graded_cells), str(result.passed.get(native.isa, 0)),
            str(result.passed.get(emulated.isa, 0)), str(result.cells_compared), str(result.numbers_compared),
            f"{result.max_abs:.3g}", f"{result.max_rel:.3g}{where}", _seconds(native),
            f"{_seconds(emulated)} ({emulated.startup_seconds:.0f} s)",
            f"{native.kernel_peak_mib:.0f} / {emulated.kernel_peak_mib:.0f}", "ok" if result.ok else "FAILED")


def table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in [HEADER, *rows]) for i in range(len(HEADER))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(r, widths, strict=True)).rstrip()
             for r in [HEADER, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def render(results: list[tuple[LabComparison, NotebookRecord, NotebookRecord]]) -> str:
    text = table([row(*r) for r in results])
    for result, _, _ in results:
        if result.problems:
            text += f"\n\n{result.lab}:\n" + "\n".join(f"  - {p}" for p in result.problems)
        if result.untagged_differ:
            text += (f"\n\n{result.lab}: untagged cells whose output differs between the ISAs (not a failure; tag "
                     f"them isa-dependent, or isa-invariant with a tolerance): {', '.join(result.untagged_differ)}")
    return text
