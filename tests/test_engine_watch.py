"""The budget watch tells a runaway cell from a starved one, and the engine blames the right party.

The watch runs on a real process; the clock and the run-queue wait are injected, so "a loaded machine" is a
number here, not a hope that the machine is busy.
"""
import subprocess
import time
from dataclasses import asdict

import pytest

from autograder.grading import engine
from autograder.grading.execute import Payload
from autograder.grading.prepare import Prepared
from autograder.grading.watch import Stop, Watch


class StepClock:
    """Half a second passes at every reading."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 0.5
        return self.now


@pytest.fixture
def process():
    p = subprocess.Popen(["sleep", "60"])
    yield p
    p.kill()
    p.wait()


def watch_cell(process, waited_share: float) -> Stop:
    """Run the watch over one cell whose kernel waits for a CPU ``waited_share`` of the time."""
    clock = StepClock()
    watch = Watch(process.pid, limit=2, wall_factor=3, cpu_budget=1e9, memory_budget=1 << 40, clock=clock,
                  interval=0.01)
    watch.kernel_pid = process.pid
    watch._waited = lambda: clock.now * waited_share
    watch.start()
    watch.start_cell(7)
    deadline = time.monotonic() + 30
    while watch.stop is None and time.monotonic() < deadline:
        time.sleep(0.01)
    watch.finish()
    return watch.stop


def test_a_cell_that_runs_or_sleeps_past_the_limit_is_the_code(process):
    stop = watch_cell(process, waited_share=0.0)
    assert (stop.kind, stop.cell) == ("limit", 7) and stop.own > 2
    assert stop.sentence(2).startswith("your code ran past the 2 s limit in cell 7")


def test_a_cell_starved_of_cpu_is_not_stopped_by_the_limit_but_by_the_overload_cap(process):
    stop = watch_cell(process, waited_share=0.9)
    assert stop.kind == "overloaded" and stop.own < 2 < 3 * 2 <= stop.wall
    assert "the grader was overloaded" in stop.sentence(2) and "not the code's fault" in stop.sentence(2)


def _answer(*kinds: str) -> dict:
    return {"notebooks": {}, "stops": [asdict(Stop(k, 3, 1.0, 30.0, 1.0)) for k in kinds], "findings": [],
            "sandbox": "test", "peak_memory": 0, "cpu_seconds": 1.0, "seconds": 30.0}


def test_only_the_machines_fault_is_graded_again():
    assert engine._needs_regrade(_answer("overloaded"))
    assert engine._needs_regrade("the grading worker died (exit code -9) while running this submission")
    assert not engine._needs_regrade(_answer("limit"))
    assert not engine._needs_regrade(_answer())


def test_still_overloaded_when_alone_is_reported_as_the_graders_fault():
    payload = Payload("00-tiny", "amy", {}, cell_timeout=2)
    prepared = Prepared(payload, notes=[], log="")
    o = engine._outcome(None, None, payload, _answer("overloaded"), prepared, regraded=True)
    assert o.status == "failed" and o.regraded
    assert "the grader was overloaded even when this submission was graded alone" in o.notes[0]
    assert "student's code is not at fault" in o.notes[0]
    worker = engine._outcome(None, None, payload, "the grading worker died", prepared, regraded=True)
    assert worker.notes[0].startswith("grader failure, not the student's")
