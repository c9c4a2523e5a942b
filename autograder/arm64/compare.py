"""Compare a lab's run on x86-64 (the reference) with its run on aarch64, as the convention asks: every graded cell
passes on both, the source notebook runs top to bottom on both, and compared cells print the same text with numbers
that agree within the cell's tolerance."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from .convention import CellPlan, Tolerance
from .records import NotebookRecord

# A number standing alone: not part of a name ('float32', 'L1', 'x86_64') nor of a version ('2.4.1'); with an
# optional sign, thousands separators ('1,797') and exponent. A full stop after it may end the sentence.
NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d{1,3}(?:,\d{3})+(?:\.\d*)?|\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?!\d|\.\d)")
_WHITESPACE = re.compile(r"\s+")
_SLOT = "\x00"


def split_numbers(text: str) -> tuple[str, list[float]]:
    """The text with each number replaced by a slot and all whitespace removed (column alignment moves when a
    number prints with more digits), and the numbers in order."""
    numbers = [float(m.group().replace(",", "")) for m in NUMBER.finditer(text)]
    return _WHITESPACE.sub("", NUMBER.sub(_SLOT, text)), numbers


def relative_difference(reference: float, other: float) -> float:
    if reference == other or (math.isnan(reference) and math.isnan(other)):
        return 0.0
    return abs(other - reference) / abs(reference) if reference else math.inf


@dataclass(frozen=True)
class TextComparison:
    numbers: int  # how many numbers were compared
    max_abs: float
    max_rel: float
    problem: str | None = None  # why the texts do not agree

    @property
    def agrees(self) -> bool:
        return self.problem is None


def _first_difference(reference: str, other: str) -> str:
    ref_lines, other_lines = reference.splitlines(), other.splitlines()
    for number in range(max(len(ref_lines), len(other_lines))):
        a = ref_lines[number] if number < len(ref_lines) else ""
        b = other_lines[number] if number < len(other_lines) else ""
        (a_text, a_numbers), (b_text, b_numbers) = split_numbers(a), split_numbers(b)
        if a_text != b_text or len(a_numbers) != len(b_numbers):
            return f"line {number + 1}: x86-64 {a[:100]!r} vs aarch64 {b[:100]!r}"
    return "the texts differ only in line breaks"


def compare_text(reference: str, other: str, tolerance: Tolerance) -> TextComparison:
    """Does ``other`` (aarch64) print what ``reference`` (x86-64) printed, within ``tolerance``?"""
    ref_text, ref_numbers = split_numbers(reference)
    other_text, other_numbers = split_numbers(other)
    if ref_text != other_text or len(ref_numbers) != len(other_numbers):
        return TextComparison(0, 0.0, 0.0, f"different text: {_first_difference(reference, other)}")
    pairs = list(zip(ref_numbers, other_numbers, strict=True))
    max_abs = max((abs(b - a) if a != b else 0.0 for a, b in pairs), default=0.0)
    max_rel = max((relative_difference(a, b) for a, b in pairs), default=0.0)
    outside = [(a, b) for a, b in pairs if not tolerance.allows(a, b)]
    problem = None
    if outside:
        a, b = max(outside, key=lambda pair: abs(pair[1] - pair[0]))
        problem = (f"{len(outside)} of {len(pairs)} numbers outside the tolerance ({tolerance}), "
                   f"e.g. x86-64 {a!r} vs aarch64 {b!r}")
    return TextComparison(len(pairs), max_abs, max_rel, problem)


@dataclass
class LabComparison:
    lab: str
    graded_cells: int = 0
    passed: dict[str, int] = field(default_factory=dict)  # graded cells that passed, per ISA
    cells_compared: int = 0
    numbers_compared: int = 0
    max_abs: float = 0.0
    max_rel: float = 0.0
    where_max: str = ""  # the cell with the largest relative difference
    problems: list[str] = field(default_factory=list)
    untagged_differ: list[str] = field(default_factory=list)  # untagged demo cells whose output differs (a hint)

    @property
    def ok(self) -> bool:
        return not self.problems


def _run_problems(run: NotebookRecord, plans: list[CellPlan]) -> list[str]:
    """Why one ISA's run fails on its own: it stopped early, a cell raised, a graded cell failed."""
    problems = [f"{run.isa}: the run stopped: {run.failure}"] if run.failure else []
    for plan in plans:
        cell = run.cells.get(plan.index)
        if cell is None:
            if not run.failure:
                problems.append(f"{run.isa}: {plan.label} did not run")
        elif cell.error:
            problems.append(f"{run.isa}: {plan.label} raised {cell.error[:200]}")
        elif plan.graded and cell.stderr:
            problems.append(f"{run.isa}: {plan.label} wrote to stderr, which nbgrader scores 0: "
                            f"{cell.stderr.strip()[:200]!r}")
    return problems


def compare_lab(lab: str, plans: list[CellPlan], reference: NotebookRecord, other: NotebookRecord) -> LabComparison:
    """The verdict for one lab: ``reference`` is the x86-64 run, ``other`` the aarch64 run."""
    result = LabComparison(lab, graded_cells=sum(p.graded for p in plans))
    result.problems = _run_problems(reference, plans) + _run_problems(other, plans)
    for run in (reference, other):
        result.passed[run.isa] = sum(1 for p in plans if p.graded and p.index in run.cells
                                     and run.cells[p.index].passed)
    for plan in plans:
        ref_cell, other_cell = reference.cells.get(plan.index), other.cells.get(plan.index)
        if ref_cell is None or other_cell is None or ref_cell.error or other_cell.error or plan.dependent:
            continue
        text = compare_text(ref_cell.text, other_cell.text, plan.tolerance)
        if not plan.compared:
            if not text.agrees:
                result.untagged_differ.append(plan.label)
            continue
        result.cells_compared += 1
        result.numbers_compared += text.numbers
        result.max_abs = max(result.max_abs, text.max_abs)
        if text.max_rel > result.max_rel:
            result.max_rel, result.where_max = text.max_rel, plan.label
        if text.problem:
            result.problems.append(f"{plan.label}: {text.problem}")
    return result
