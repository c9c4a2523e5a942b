"""Instructor-side tooling: build an nbgrader course from ``labs/``, simulate a class, grade, give feedback.

Modules, one job each:

- ``labs``: find the labs and their parts in ``labs/``
- ``lint``: check a lab's source notebook against the authoring rules
- ``wrong_answers``: prove the hidden tests catch plausible mistakes
- ``course``: build a standard nbgrader course directory (config, source/, release/, gradebook)
- ``simulate``: a scripted class that fetches, works and submits through nbgrader's exchange
- ``engine`` + ``worker``: autograde submissions in a separate process, one failure per student at most
- ``feedback``: feedback HTML that never shows hidden tests, released through the exchange
- ``report``: grades CSV (nbgrader's exporter) and the score table
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
