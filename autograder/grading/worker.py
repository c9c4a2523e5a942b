"""A local grading worker process: reads payloads as JSON lines on stdin, answers one :class:`Executed` each.

It keeps kernels started ahead of their submissions (a fresh sandbox per submission, never reused), so a
submission neither waits for nor is charged the half second a kernel takes to start. It holds no gradebook and
no course path: it only executes what it is sent. Run as ``python -m autograder.grading.worker``; it ends when
stdin closes (also when the engine was killed), ending its pre-started kernels.
"""
from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict

from .execute import Payload, Slot, execute
from .sandbox import Limits


def main() -> int:
    # The result stream is a private copy of stdout; anything else written to stdout goes to stderr instead.
    results = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    limits = Limits()
    spare = Slot(limits)
    try:
        results.write(json.dumps({"ready": True}) + "\n")  # start-up is not charged to the first job's budget
        for line in sys.stdin:
            payload = Payload(**json.loads(line))
            if Limits(**payload.limits) != limits:  # started with other limits: start anew
                limits = Limits(**payload.limits)
                spare.close()
                spare = Slot(limits)
            # the next submission's kernel starts now: it boots (half a second) while this one runs
            slot, spare = spare, Slot(limits)
            results.write(json.dumps(asdict(execute(payload, slot))) + "\n")  # execute closes the slot
    except BrokenPipeError:  # the engine is gone
        pass
    finally:
        spare.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
