"""What the classroom browser test and its fixtures share: the tiny lab, where screenshots go, file helpers."""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell
from tinylab import notebook, write_lab

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SHOTS = REPO / "build" / "test-output" / "hub-e2e"  # screenshots of every screen, kept after the test
LAB = "00-tiny"
LABKIT_CELL = "import labkit\nprint('labkit ready:', labkit.__name__)"


def tiny_lab(labs_dir: Path) -> None:
    nb = notebook()
    nb.cells.insert(1, new_code_cell(LABKIT_CELL))  # labs import the kit from wherever nbgrader puts them
    write_lab(labs_dir, LAB, nb)


def notebook_in(home: Path) -> nbformat.NotebookNode:
    return nbformat.read(home / LAB / "tiny.ipynb", as_version=4)


def log_tail(path: Path) -> str:
    return json.dumps(path.read_text()[-3000:]) if path.exists() else f"(no log at {path})"




def memory_mib(root: str, account: str) -> dict[str, float]:
    """Resident memory of an account's user server and its kernels, by command (a measurement for the guides'
    sizing, written next to the screenshots; never a pass/fail threshold)."""
    marks = {f"SUBSTRATE_HUB_ROOT={root}".encode(), f"JUPYTERHUB_USER={account}".encode()}
    found: dict[str, float] = {}
    for proc in Path("/proc").iterdir():
        try:
            if not proc.name.isdigit() or not marks <= set((proc / "environ").read_bytes().split(b"\0")):
                continue
            kib = next(int(line.split()[1]) for line in (proc / "status").read_text().splitlines()
                       if line.startswith("VmRSS:"))
            kind = "kernel" if b"ipykernel" in (proc / "cmdline").read_bytes() else "server"
            found[kind] = found.get(kind, 0) + kib / 1024
        except (OSError, StopIteration):
            continue
    return found
