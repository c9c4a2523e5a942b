"""The cross-ISA convention of docs/authoring-labs.md ("Same results on ARM64"): which code cells of a lab must give
the same output on x86-64 and aarch64, and the tolerance its numbers are compared with.

- Test cells and autograded answer cells are compared; other code cells only when tagged ``isa-invariant``.
- A cell tagged ``isa-dependent`` (it prints the machine or the clock) is never compared.
- Numbers agree when ``|aarch64 - x86-64| <= atol + rtol * |x86-64|``. The default is exact; a lab states its
  tolerance in the notebook's metadata, a cell overrides it in its own, both under
  ``{"substrate_labs": {"isa_tolerance": {"rtol": ..., "atol": ..., "why": "..."}}}``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from nbformat import NotebookNode

from ..labs import grade_id, is_answer, is_test

INVARIANT_TAG = "isa-invariant"
DEPENDENT_TAG = "isa-dependent"
METADATA_KEY = "substrate_labs"
TOLERANCE_KEY = "isa_tolerance"


class ConventionError(ValueError):
    """A lab states its cross-ISA expectations in a way this checker cannot follow."""


@dataclass(frozen=True)
class Tolerance:
    rtol: float = 0.0
    atol: float = 0.0
    why: str = ""

    def allows(self, reference: float, other: float) -> bool:
        if math.isnan(reference) or math.isnan(other) or math.isinf(reference) or math.isinf(other):
            return reference == other or (math.isnan(reference) and math.isnan(other))
        return abs(other - reference) <= self.atol + self.rtol * abs(reference)

    def __str__(self) -> str:
        return "exact" if not (self.rtol or self.atol) else f"rtol={self.rtol:g}, atol={self.atol:g}"


EXACT = Tolerance()


def tolerance(metadata: dict, default: Tolerance, where: str) -> Tolerance:
    """The tolerance stated in a notebook's or a cell's ``metadata``, else ``default``."""
    stated = metadata.get(METADATA_KEY, {}).get(TOLERANCE_KEY)
    if stated is None:
        return default
    if not isinstance(stated, dict) or set(stated) - {"rtol", "atol", "why"}:
        raise ConventionError(f"{where}: {METADATA_KEY}.{TOLERANCE_KEY} must be an object with keys rtol, atol, "
                              f"why; found {stated!r}")
    values = {}
    for key in ("rtol", "atol"):
        value = stated.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < math.inf:
            raise ConventionError(f"{where}: {TOLERANCE_KEY}.{key} must be a number >= 0, found {value!r}")
        values[key] = float(value)
    why = stated.get("why", "")
    if (values["rtol"] or values["atol"]) and not (isinstance(why, str) and why.strip()):
        raise ConventionError(f"{where}: a non-zero {TOLERANCE_KEY} needs a 'why' saying where it comes from")
    return Tolerance(values["rtol"], values["atol"], why if isinstance(why, str) else "")


@dataclass(frozen=True)
class CellPlan:
    """What the checker expects of one code cell."""
    index: int  # position in the notebook's cells
    grade_id: str | None
    graded: bool  # an nbgrader test cell: it must pass on both ISAs
    compared: bool  # its printed output must agree across ISAs
    tolerance: Tolerance
    dependent: bool = False  # tagged isa-dependent: its output describes the machine or the clock

    @property
    def label(self) -> str:
        return f"cell {self.index}" + (f" ({self.grade_id})" if self.grade_id else "")


def plan(nb: NotebookNode, where: str = "notebook") -> list[CellPlan]:
    """A plan for every code cell of a source notebook, in order."""
    lab_default = tolerance(nb.metadata, EXACT, f"{where} metadata")
    plans = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        tags = set(cell.metadata.get("tags", []))
        label = f"{where} cell {index}"
        if {INVARIANT_TAG, DEPENDENT_TAG} <= tags:
            raise ConventionError(f"{label}: tagged both {INVARIANT_TAG} and {DEPENDENT_TAG}")
        graded = is_test(cell)
        compared = DEPENDENT_TAG not in tags and (INVARIANT_TAG in tags or graded or is_answer(cell))
        plans.append(CellPlan(index, grade_id(cell), graded, compared,
                              tolerance(cell.metadata, lab_default, label), DEPENDENT_TAG in tags))
    return plans
