"""Instructor-side tooling: build an nbgrader course from ``labs/``, simulate a class, grade, give feedback.

Packages, one pipeline stage each (as nbgrader keeps ``apps/``, ``preprocessors/``, ``exchange/``):

- ``labs``: find the labs and the roles of their cells in ``labs/`` (shared by every stage)
- ``authoring/``: check a lab while it is written (linter, wrong-answer checker)
- ``course/``: the course lifecycle (workspace, build, a simulated class, the late policy)
- ``grading/``: autograde submissions (engine, worker, integrity preflight, outcomes)
- ``feedback/``: feedback HTML that never shows hidden tests, released through the exchange
- ``reports/``: grades CSV, grading notes and the score table
- ``cli``: the ``substrate-labs`` command
"""

import os as _os
import sys as _sys
from pathlib import Path as _Path

# nbgrader's Gradebook shells out to ``alembic`` by name. Make this environment's tools findable when the kit
# is used without activating its environment (``.venv/bin/substrate-labs``, a kernel, a test run).
_tools = str(_Path(_sys.executable).parent)
if _tools not in _os.environ.get("PATH", "").split(_os.pathsep):
    _os.environ["PATH"] = _tools + _os.pathsep + _os.environ.get("PATH", "")
