"""What one run of one source notebook produced, cell by cell, kept as JSON so a comparison can be re-read."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from nbformat import NotebookNode


@dataclass(frozen=True)
class CellRecord:
    index: int
    text: str = ""  # stdout and the text/plain of results and displays, in order
    stderr: str = ""
    error: str | None = None  # "ename: evalue" when the cell raised

    @property
    def passed(self) -> bool:
        """nbgrader's rule for a test cell: no error and nothing on stderr."""
        return self.error is None and not self.stderr


def record_cell(index: int, cell: NotebookNode) -> CellRecord:
    """The record of an executed code cell, read from its outputs."""
    text, stderr, error = [], [], None
    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        if kind == "stream":
            (stderr if output.get("name") == "stderr" else text).append(output.get("text", ""))
        elif kind in ("execute_result", "display_data"):
            text.append(str(output.get("data", {}).get("text/plain", "")) + "\n")
        elif kind == "error":
            error = f"{output.get('ename')}: {output.get('evalue')}"
    return CellRecord(index, "".join(text), "".join(stderr), error)


@dataclass
class NotebookRecord:
    lab: str
    isa: str  # what the kernel's platform.machine() said
    cells: dict[int, CellRecord] = field(default_factory=dict)  # code cells that ran, by index
    seconds: float = 0.0  # wall time of the whole run, kernel start included
    startup_seconds: float = 0.0  # of which starting the kernel and its first cell
    kernel_peak_mib: float = 0.0  # the kernel's peak resident memory (under emulation: qemu's, guest included)
    failure: str | None = None  # the run stopped early: kernel died, timed out, could not start

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = asdict(self)
        data["cells"] = [asdict(c) for c in self.cells.values()]
        path.write_text(json.dumps(data, indent=1) + "\n")

    @classmethod
    def load(cls, path: Path) -> NotebookRecord:
        data = json.loads(path.read_text())
        cells = {c["index"]: CellRecord(**c) for c in data.pop("cells")}
        return cls(cells=cells, **data)
