"""The hostile corpus report: every case of tests/hostile.py graded in one batch with two honest students.

Run by hand (``python benchmarks/hostile_report.py``); the same batch is asserted on in tests/test_engine.py.
Prints each case's status and score against the most it may score, its integrity verdict and the report's
first note, then the batch's wall time.
"""
from __future__ import annotations

import socket
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import hostile  # noqa: E402  (the corpus lives with the tests)

from autograder.grading import engine, sandbox  # noqa: E402


def main() -> int:
    with socket.create_server(("127.0.0.1", 0)) as server:
        workspace = hostile.build_class(Path(tempfile.mkdtemp(prefix="hostile-")), ["amy", "zoe"],
                                        server.getsockname()[1])
        started = time.monotonic()
        outcomes = engine.grade(workspace, engine.submitted_jobs(workspace), workers=2, show_progress=False)
        wall = time.monotonic() - started
    print(sandbox.probe().message)
    print(hostile.table(outcomes))
    over = [o.student for o in outcomes if o.student in hostile.CASES and hostile.CASES[o.student].most is not None
            and (o.score is None or o.score > hostile.CASES[o.student].most)]
    print(f"\n{len(outcomes)} submissions in {wall:.0f} s; over their limit: {over or 'none'}; "
          f"left behind: {sandbox.leftovers()}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
