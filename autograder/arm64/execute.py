"""Run one source notebook top to bottom in a kernel on one ISA and record every code cell (``records``).

A kernel is a kernelspec written under ``build/arm64/kernels/``: this environment's Python for x86-64, the
sysroot's Python under qemu for aarch64; the notebook server side (nbclient) always runs here, natively. Each run
is a process of its own (``python -m autograder.arm64.execute``), so runs go in parallel and a crash loses one run.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import v4

from ..labs import REPO_ROOT
from .emulation import Emulator
from .records import NotebookRecord, record_cell
from .sysroot import Layout

# Reproducible numerics (as make test): one BLAS/OpenMP thread, fixed hash seed.
PINNED = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
PROBE = "import platform; print(platform.machine(), end='')"


@dataclass(frozen=True)
class Kernel:
    isa: str  # 'x86-64' or 'aarch64': the name of its kernelspec
    argv: tuple[str, ...]  # the Python interpreter, with whatever starts it
    env: dict[str, str] = field(default_factory=dict)

    def write_spec(self, kernels: Path) -> Path:
        folder = kernels / self.isa
        folder.mkdir(parents=True, exist_ok=True)
        spec = {"argv": [*self.argv, "-m", "ipykernel_launcher", "-f", "{connection_file}"], "env": self.env,
                "display_name": f"Python ({self.isa})", "language": "python"}
        (folder / "kernel.json").write_text(json.dumps(spec, indent=1) + "\n")
        return kernels


def _home(layout: Layout, isa: str) -> dict[str, str]:
    """A home of its own per ISA (IPython profile, matplotlib's font cache), kept between runs."""
    home = layout.root / "home" / isa
    return {"HOME": str(home), "IPYTHONDIR": str(home / ".ipython"), "MPLCONFIGDIR": str(home / ".matplotlib")}


def host_kernel(layout: Layout) -> Kernel:
    return Kernel("x86-64", (sys.executable,), {**PINNED, **_home(layout, "x86-64")})


def emulated_kernel(layout: Layout, emulator: Emulator) -> Kernel:
    """The aarch64 kernel. Its PATH has only the sysroot's programs: a host program on it would run natively."""
    sysroot_path = ":".join(str(layout.prefix / d) for d in ("usr/local/bin", "usr/bin", "bin"))
    env = {**PINNED, **_home(layout, "aarch64"), **emulator.environment(),
           "PYTHONPATH": f"{layout.site}:{REPO_ROOT}", "PATH": f"{layout.site / 'bin'}:{sysroot_path}",
           "LD_LIBRARY_PATH": str(layout.site / "lib")}  # wheels' shared libraries outside a package (libmpi)
    return Kernel("aarch64", tuple(emulator.command([str(layout.python)])), env)


def run_notebook(lab: str, notebook: Path, kernels: Path, isa: str, *, cell_timeout: float,
                 startup_timeout: float) -> NotebookRecord:
    """Run ``notebook`` (cwd: its folder) in the kernel ``isa`` from the kernelspecs in ``kernels``."""
    nb = nbformat.read(notebook, as_version=4)
    record = NotebookRecord(lab, isa)
    manager = KernelManager(kernel_name=isa, kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))
    client = NotebookClient(nb, km=manager, timeout=cell_timeout, startup_timeout=startup_timeout,
                            allow_errors=True, shutdown_kernel="immediate",
                            resources={"metadata": {"path": str(notebook.parent)}})
    start = time.perf_counter()
    try:
        with client.setup_kernel(cleanup_kc=True):  # shut the kernel down after: nbclient does not own it
            probe = v4.new_code_cell(PROBE)
            client.execute_cell(probe, 0)
            record.isa = "".join(o.get("text", "") for o in probe.outputs if o.get("name") == "stdout") or isa
            record.startup_seconds = time.perf_counter() - start
            for index, cell in enumerate(nb.cells):
                if cell.cell_type == "code":
                    client.execute_cell(cell, index)
                    record.cells[index] = record_cell(index, cell)
    except CellTimeoutError:
        record.failure = f"a cell ran past the {cell_timeout:g} s limit"
    except DeadKernelError as error:
        record.failure = f"the kernel died ({str(error).strip()[:200] or 'no message'})"
    except (RuntimeError, TimeoutError) as error:  # the kernel did not start or answer in time
        record.failure = f"the kernel could not run: {str(error).strip()[:300]}"
    record.seconds = time.perf_counter() - start
    # The kernel is this process's child, waited for at shutdown: the children's peak is the kernel's.
    record.kernel_peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.arm64.execute", description=__doc__.split("\n")[0])
    parser.add_argument("lab")
    parser.add_argument("notebook", type=Path)
    parser.add_argument("kernels", type=Path, help="folder of kernelspecs")
    parser.add_argument("isa", help="the kernelspec to use: x86-64 or aarch64")
    parser.add_argument("out", type=Path, help="where the record (JSON) goes")
    parser.add_argument("--cell-timeout", type=float, default=900)
    parser.add_argument("--startup-timeout", type=float, default=300)
    args = parser.parse_args(argv)
    os.environ.pop("JUPYTER_PATH", None)  # only the kernelspecs we wrote
    record = run_notebook(args.lab, args.notebook, args.kernels, args.isa, cell_timeout=args.cell_timeout,
                          startup_timeout=args.startup_timeout)
    record.save(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
