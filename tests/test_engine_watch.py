"""The budget watch tells a runaway cell from a starved one, and the engine blames the right party.

The watch runs on a real process; the clock and the run-queue wait are injected, so "a loaded machine" is a
number here, not a hope that the machine is busy.
"""
import subprocess
import sys
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


def memory_stop(code: str, budget: int) -> Stop | None:
    """Watch a Python process running ``code`` for a few seconds against a memory budget."""
    p = subprocess.Popen([sys.executable, "-c", code])
    watch = Watch(p.pid, limit=1e9, wall_factor=3, cpu_budget=1e9, memory_budget=budget, interval=0.05)
    watch.start()
    try:
        p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        pass
    finally:
        watch.finish()
        p.kill()
        p.wait()
    return watch.stop


MiB = 2**20
ALLOCATE = "import os, time\nmemory = bytearray(150 * 2**20)\n"  # touched: resident


def test_processes_forked_after_allocating_share_their_memory():
    """Eight forks of a process holding 150 MiB: resident sizes add up to 1.3 GiB, the memory is 150 MiB."""
    code = ALLOCATE + "children = [os.fork() or time.sleep(4) or os._exit(0) for _ in range(8)]\ntime.sleep(4)\n"
    assert memory_stop(code, budget=600 * MiB) is None


def test_memory_past_the_budget_is_stopped():
    code = ALLOCATE + "more = [bytearray(150 * 2**20) for _ in range(4)]\ntime.sleep(4)\n"
    stop = memory_stop(code, budget=600 * MiB)
    assert stop is not None and stop.kind == "memory" and stop.memory_mib > 600


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
