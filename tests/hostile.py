"""A corpus of hostile and broken submissions of the tiny lab, as a cheating or careless student would make them.

Each case is code put in front of the first answer (``add``) of an otherwise fully solved notebook, or a change
to the notebook file, plus the most the submission may score (every other task is solved, so an honest
submission scores ``CLEAN``) and what the report must say. ``{course}`` in code is the course folder on the
grader's disk, which a sandboxed kernel must never reach.
"""
from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat
import tinylab

CLEAN = float(len(tinylab.TASKS))  # one point per auto-graded test; the written answer is graded by hand
TASK = CLEAN - 1                   # the first task's point lost, the others kept


@dataclass(frozen=True)
class Case:
    code: str = ""                                         # put before the first answer
    change: Callable[[nbformat.NotebookNode], None] | None = None  # applied to the solved notebook
    file: Callable[[Path], None] | None = None             # applied to the submitted folder
    most: float | None = CLEAN                             # highest acceptable score; None: must fail to grade
    says: str = ""                                         # in the report's notes
    wrong: bool = False                                    # every answer wrong (tampering must not hide it)


_HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n?", re.S)
_SOLUTION = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$\n?", re.M)


def _as_submitted(nb):
    """What a student hands in: the release (no hidden tests) with the answers typed in (no markers)."""
    for cell in nb.cells:
        cell.source = _SOLUTION.sub("", _HIDDEN.sub("", cell.source)).rstrip("\n")


def _wrong(nb):
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("solution") and cell.cell_type == "code":
            cell.source = cell.source.replace("return", "return 1000 +")


def _duplicate_test(nb):
    copy_ = copy.deepcopy(nb.cells[3])
    copy_.id = "pasted-copy"
    nb.cells.insert(4, copy_)


def _strip_metadata(nb):
    for cell in nb.cells:
        cell.metadata.pop("nbgrader", None)


def _edit_test(nb):
    _wrong(nb)
    nb.cells[3].source = "pass  # no test here"


def _retype_test(nb):
    _wrong(nb)
    nb.cells[3] = nbformat.v4.new_code_cell("pass  # retyped without its metadata")


def _inflate(nb):
    nb.cells[3].metadata.nbgrader["points"] = 100


def _kernel(nb):
    nb.metadata.kernelspec = {"name": "julia-1.9", "display_name": "Julia", "language": "julia"}


def _forge_outputs(nb):
    _wrong(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.execution_count = 1
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="all tests passed\n")]


def _rename(folder: Path):
    (folder / "tiny.ipynb").rename(folder / "tiny (1).ipynb")


def _symlink_source(folder: Path):
    course = folder.parents[2]
    (folder / "answers.txt").symlink_to(course / "source" / "00-tiny" / "tiny.ipynb")


def _write(text: str) -> Callable[[Path], None]:
    return lambda folder: (folder / "tiny.ipynb").write_text(text)


_PROCESSES = "import os, signal\n"
CASES: dict[str, Case] = {
    "loop": Case("while True:\n    pass\n", most=TASK, says="your code ran past the"),
    "swallow": Case("import time\nwhile True:\n    try:\n        time.sleep(0.05)\n    except KeyboardInterrupt:\n"
                    "        pass\n", most=0, says="your code ran past the"),
    "sleeper": Case("import time\ntime.sleep(10**6)\n", most=TASK, says="your code ran past the"),
    "osexit": Case("import os\nos._exit(0)\n", most=0, says="kernel died"),
    "sysexit": Case("import sys\nsys.exit(3)\n", most=TASK),
    "ipyexit": Case("exit()\n", most=0, says="called exit()"),
    "signal": Case(_PROCESSES + "os.kill(os.getpid(), signal.SIGKILL)\n", most=0, says="kernel died"),
    "killall": Case(_PROCESSES + "for p in os.listdir('/proc'):\n    if p.isdigit() and int(p) != os.getpid():\n"
                    "        try:\n            os.kill(int(p), signal.SIGKILL)\n        except OSError:\n"
                    "            pass\n"),
    "memhog": Case("hog = bytearray(6 * 2**30)\n", most=TASK),
    "forkbomb": Case("import os, time\nfor _ in range(500):\n    try:\n        if os.fork() == 0:\n"
                     "            time.sleep(600)\n            os._exit(0)\n    except OSError:\n        break\n"),
    "spinner": Case("import threading\nthreading.Thread(target=lambda: [None for _ in iter(int, 1)]).start()\n"),
    "detached": Case("import subprocess\nsubprocess.Popen(['sleep', '1000'], start_new_session=True)\n"
                     "subprocess.Popen(['setsid', 'sh', '-c', 'sleep 1000 &'])\n"),
    "stderrspam": Case("import sys\nfor i in range(20000):\n    print('warning', i, file=sys.stderr)\n"),
    "hugeout": Case("print('x' * (40 * 2**20))\n", says="output cut"),
    "readsource": Case("try:\n    print('LEAKED' if 'HIDDEN-ONLY' in open({course!r} + '/source/00-tiny/tiny.ipynb')"
                       ".read() else 'no')\nexcept OSError as e:\n    print('blocked', e)\n"),
    "symlink": Case("try:\n    print('LEAKED' if 'HIDDEN-ONLY' in open('answers.txt').read() else 'no')\n"
                    "except OSError as e:\n    print('blocked', e)\n", file=_symlink_source,
                    says="answers.txt is a symbolic link"),
    "gradebook": Case("import sqlite3, glob\nfor db in [{course!r} + '/gradebook.db'] + glob.glob('/**/gradebook.db',"
                      " recursive=True):\n    try:\n        c = sqlite3.connect(db)\n"
                      "        c.execute('update grade set auto_score = 1000')\n        c.commit()\n"
                      "    except Exception as e:\n        print('blocked', e)\n"),
    "writeout": Case("import os\nfor path in [{course!r} + '/MARK', os.path.expanduser('~/substrate-hostile-MARK'),"
                     " '/tmp/substrate-hostile-MARK', '/root/substrate-hostile-MARK']:\n    try:\n"
                     "        open(path, 'w').write('x')\n    except OSError as e:\n        print('blocked', e)\n"),
    "network": Case("import socket\nfor host in [('127.0.0.1', {port}), ('pypi.org', 443)]:\n    try:\n"
                    "        socket.create_connection(host, timeout=3)\n        print('CONNECTED')\n"
                    "    except OSError as e:\n        print('blocked', e)\n"),
    "patchnumpy": Case("import numpy.testing\nnumpy.testing.assert_allclose = lambda *a, **k: None\n", most=0,
                       says="replaced checking code"),
    "customexc": Case("get_ipython().set_custom_exc((Exception,), lambda *a, **k: None)\n", most=0, wrong=True),
    "runcell": Case("ip = get_ipython()\n_run, _arun = ip.run_cell, ip.run_cell_async\n"
                    "ip.run_cell = lambda raw_cell, *a, **k: _run('pass', *a, **k)\n"
                    "ip.run_cell_async = lambda raw_cell, *a, **k: _arun('pass', *a, **k)\n", most=0, wrong=True),
    "traceback": Case("get_ipython().showtraceback = lambda *a, **k: None\n", most=0, wrong=True),
    "detect": Case("import os\nif os.environ.get('NBGRADER_EXECUTION'):\n    import glob\n"
                   "    print('LEAKED' if glob.glob({course!r} + '/source/*') else 'nothing to see')\n"),
    "duplicate": Case(change=_duplicate_test, most=None, says="copies of graded cells ['add_test']"),
    "strip": Case(change=_strip_metadata, most=0, says="lost all its grading metadata"),
    "deletetest": Case(change=lambda nb: nb.cells.pop(3), most=TASK, says="missing graded cells ['add_test']"),
    "edittest": Case(change=_edit_test, most=0),
    "retype": Case(change=_retype_test, most=0),
    "inflate": Case(change=_inflate),
    "kernelname": Case(change=_kernel),
    "forged": Case(change=_forge_outputs, most=0),
    "badjson": Case(file=_write("{this is not json"), most=None, says="not a readable notebook"),
    "empty": Case(file=_write(""), most=None, says="not a readable notebook"),
    "renamed": Case(file=_rename, most=None, says="renamed?"),
}


def notebook(case: Case, **where) -> nbformat.NotebookNode:
    nb = tinylab.notebook(prepend_to_first_answer=case.code.format(**where))
    _as_submitted(nb)
    if case.wrong:
        _wrong(nb)
    if case.change:
        case.change(nb)
    return nb


def plant(submitted: Path, **where) -> None:
    """Write every case as a student's submission (students named after the cases)."""
    for name, case in CASES.items():
        folder = submitted / name / "00-tiny"
        nbformat.write(notebook(case, **where), folder / "tiny.ipynb")
        if case.file:
            case.file(folder)


def build_class(root: Path, fine: list[str], port: int):
    """A course of the tiny lab where ``fine`` students solve everything and each case is one more student."""
    from datetime import datetime

    from autograder.course.build import build_course
    from autograder.course.simulate import Student, simulate_class
    from autograder.course.workspace import Workspace
    from autograder.labs import discover

    labs = discover(tinylab.write_lab(root / "labs").parent)
    workspace = Workspace(root / "workspace")
    build_course(workspace, labs, due=datetime(2030, 1, 1), cell_timeout=2)
    students = sorted(fine + list(CASES))
    simulate_class(workspace, labs, tuple(Student(s, s.title(), "Test", "solves everything") for s in students))
    plant(workspace.course / "submitted", course=str(workspace.course.resolve()), port=port)
    return workspace


def table(outcomes) -> str:
    """The corpus report: what each case scored against what it may score, and what the report said."""
    lines = [f"{'case':<12} {'status':<7} {'score':>5} {'max ok':>6}  integrity           first note"]
    for o in outcomes:
        case = CASES.get(o.student)
        most = "-" if case is None else ("fail" if case.most is None else f"{case.most:g}")
        score = "" if o.score is None else f"{o.score:g}"
        lines.append(f"{o.student:<12} {o.status:<7} {score:>5} {most:>6}  {o.integrity or '-':<19} "
                     f"{(o.notes or [''])[0][:90]}")
    return "\n".join(lines)
