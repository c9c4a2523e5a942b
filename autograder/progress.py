"""Progress bars for long work, shown on a terminal only: in a log file or a pipe a bar is a wall of carriage
returns that hides the lines that matter."""
from __future__ import annotations

import sys

from tqdm import tqdm


def bar(total: int, desc: str, *, unit: str = "submission", show: bool = True, stream=None) -> tqdm:
    """A tqdm bar on ``stream`` (default stderr), disabled unless ``show`` and the stream is a terminal."""
    stream = stream or sys.stderr
    return tqdm(total=total, desc=desc, unit=unit, file=stream, disable=not (show and stream.isatty()))
