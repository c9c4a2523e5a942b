"""Kernels forked by the fork server are as isolated as kernels bubblewrap starts, and behave the same.

Real bubblewrap, real fork server, real kernels (the hostile corpus in tests/test_engine.py also runs both ways).
"""
import os
import signal
import socket
import time

import nbformat
import psutil
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograder.grading import forkclient, sandbox
from autograder.grading.execute import Payload, Slot, execute

pytestmark = pytest.mark.skipif(not sandbox.probe().isolated or os.geteuid() != 0,
                                reason="needs bubblewrap and root (the fork server makes namespaces as root)")


@pytest.fixture(autouse=True)
def own_sandbox_root(tmp_path, monkeypatch):
    monkeypatch.setenv("SUBSTRATE_SANDBOX_ROOT", str(tmp_path / "sandboxes"))


def run(cells: list[str], slot: Slot | None = None, files: dict[str, str] | None = None) -> list[str]:
    """Each cell's printed text (errors as 'ename: evalue')."""
    nb = new_notebook(cells=[new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    payload = Payload(assignment="a", student="s", notebooks={"n.ipynb": nbformat.writes(nb)}, files=files or {})
    done = nbformat.reads(execute(payload, slot).notebooks["n.ipynb"], as_version=4)
    return ["".join(o.get("text", "") or (f"{o.ename}: {o.evalue}" if o.output_type == "error" else "")
                    for o in c.outputs) for c in done.cells]


def test_a_forked_kernel_sees_only_its_own_submission(tmp_path):
    listener = socket.create_server(("127.0.0.1", 0))
    mine, theirs = Slot(sandbox.Limits()), Slot(sandbox.Limits())
    assert mine.forked is not None, "the fork server is used where it can be"
    try:
        (theirs.work / "other-student.txt").write_text("answers")
        out = run(["import os, resource; print(os.getuid(), sorted(os.listdir('.')))",
                   f"print(os.path.exists({str(theirs.work)!r}), os.path.exists({str(sandbox.scratch_root())!r}))",
                   "print([os.listdir(d) for d in ('/run/substrate/scratch', '/run/substrate/sockets') "
                   "if os.path.isdir(d)])",
                   "print(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))",
                   "print([l.split()[1] for l in open('/proc/self/status') if l.startswith(('CapEff', 'NoNewPrivs'))])",
                   "print(resource.getrlimit(resource.RLIMIT_NPROC)[0], resource.getrlimit(resource.RLIMIT_AS)[0])",
                   f"import socket\ntry:\n    socket.create_connection(('127.0.0.1', {listener.getsockname()[1]}),"
                   f" 2); print('CONNECTED')\nexcept OSError as e: print('refused')",
                   "s = socket.create_server(('127.0.0.1', 0)); print('loopback up')"],
                  slot=mine, files={"answer.py": "eA=="})
    finally:
        theirs.close()
        listener.close()
    limits = sandbox.Limits()
    assert out[0].split(" ", 1) == [str(mine.uid), "['answer.py']\n"]
    assert out[1] == "False False\n", "no other slot, no scratch folder"
    assert out[2] == "[]\n", "the server's staging binds are gone"
    assert max(eval(out[3])) < 20, "only the submission's own processes"
    assert out[4] == "['0000000000000000', '1']\n", "no capabilities, no new privileges"
    assert out[5] == f"{limits.processes} {limits.memory_bytes}\n"
    assert out[6] == "refused\n" and out[7] == "loopback up\n"


def test_what_a_kernel_leaves_in_tmp_or_shared_memory_is_gone_for_the_next():
    run(["open('/tmp/mark', 'w').write('x'); open('/dev/shm/mark', 'w').write('x')"])
    out = run(["import os; print(os.listdir('/tmp'), os.listdir('/dev/shm'))"])
    assert "mark" not in out[0]


def test_every_process_of_a_forked_kernel_ends_with_it():
    slot = Slot(sandbox.Limits())
    uid = slot.uid
    out = run(["import subprocess; subprocess.Popen(['sleep', '600'], start_new_session=True); print('started')"],
              slot=slot)
    assert out == ["started\n"]
    deadline = time.monotonic() + 10
    while sandbox.running_as(uid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not sandbox.running_as(uid), "the detached sleep died with its namespace"


def test_a_forked_kernel_prints_what_a_plain_one_does(monkeypatch):
    """(Not the home folder: a plain kernel builds matplotlib's font list, whose fc-list leaves ~/.cache.)"""
    cells = ["import sys, os, matplotlib.pyplot as plt; plt.plot([1, 2]); print(os.getcwd(), sys.path[0])",
             "print(type(sys.modules['__main__']).__name__, os.environ['MPLBACKEND'], sorted(os.environ)[:3])",
             "import numpy as np; print(np.arange(3).sum(), os.listdir(os.path.expanduser('~/work')))"]
    forked = run(cells)
    monkeypatch.setenv("SUBSTRATE_SANDBOX_FORK", "0")
    slot = Slot(sandbox.Limits())
    assert slot.forked is None, "SUBSTRATE_SANDBOX_FORK=0 starts kernels the plain way"
    assert run(cells, slot=slot) == forked


def test_a_killed_fork_server_is_replaced():
    first = forkclient.server(sandbox.Limits())
    os.kill(first.process.pid, signal.SIGKILL)
    first.process.wait()
    assert run(["print(6 * 7)"]) == ["42\n"]
    assert forkclient.server(sandbox.Limits()) is not first


def test_the_watch_is_told_which_process_is_the_kernel():
    """A forked kernel's command line is the server's; the budget watch must still find the kernel to
    interrupt it, and it must be the slot's user, not the server's root."""
    slot = Slot(sandbox.Limits())
    try:
        kernel = psutil.Process(slot.km.provisioner.process.kernel_pid)
        assert kernel.uids().real == slot.uid and kernel.ppid() == slot.km.provisioner.process.pid
    finally:
        slot.close()
