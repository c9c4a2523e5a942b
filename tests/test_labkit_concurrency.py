"""labkit.concurrency: accounting, thread and spawn pools, private counts, BLAS thread limits."""
import os
import sys
import threading
import time
from concurrent.futures import Executor
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from labkit import concurrency
from labkit.timing import FakeClock

LAB = Path(__file__).resolve().parents[1] / "labs" / "07-threads-processes-gil"


@pytest.fixture
def pool_workers(monkeypatch):
    """The lab's worker module, importable here and (through sys.path) in spawned workers."""
    monkeypatch.syspath_prepend(str(LAB))
    import pool_workers

    monkeypatch.setattr(pool_workers, "MARK", "changed by the parent")
    yield pool_workers
    sys.modules.pop("pool_workers", None)


def test_cpu_wall_report_formulas_and_validation():
    r = concurrency.cpu_wall_report(2.0, 3.0, 4)
    assert r == {"parallelism": 1.5, "efficiency": 0.375, "idle_core_s": 5.0}
    assert concurrency.cpu_wall_report(0.5, 0.0, 8)["idle_core_s"] == 4.0  # a sleeping pool: all idle
    assert concurrency.cpu_wall_report(1.0, 2.0, np.int64(2))["efficiency"] == 1.0
    for wall, cpu, n in [(0, 1, 1), (-1, 1, 1), (1, -0.1, 1), (float("nan"), 1, 1), (1, float("inf"), 1),
                         (1, 1, 0), (1, 1, 1.5), (1, 1, True)]:
        with pytest.raises(ValueError):
            concurrency.cpu_wall_report(wall, cpu, n)


def test_timed_reads_both_injected_clocks_around_one_call():
    wall, cpu = FakeClock(10.0), FakeClock(3.0)

    def work(x):
        wall.advance(2.0)
        cpu.advance(0.5)
        return x + 1

    t = concurrency.timed(work, 41, wall=wall, cpu=cpu)
    assert (t.wall_s, t.cpu_s, t.result) == (2.0, 0.5, 42)


def test_thread_map_runs_items_at_once_and_keeps_input_order():
    barrier = threading.Barrier(4, timeout=10)  # raises unless 4 items run at the same time

    def meet(x):
        barrier.wait()
        return x * 10

    results, wall = concurrency.thread_map(meet, [3, 1, 2, 0], 4)
    assert results == [30, 10, 20, 0] and wall > 0
    results, wall = concurrency.thread_map(time.sleep, [0.05] * 4, 2)
    assert wall >= 0.1  # two rounds of 50 ms sleeps: sleep never wakes early
    assert concurrency.thread_map(abs, [], 3)[0] == []
    with pytest.raises(ValueError):
        concurrency.thread_map(abs, [1], 0)


def test_spawn_map_workers_are_fresh_processes(pool_workers):
    assert concurrency.spawn_map(pool_workers.py_work, [0, 3, 10], 2) == [0, 5, 285]
    marks = concurrency.spawn_map(pool_workers.read_mark, range(2), 2)
    assert marks == ["fresh import"] * 2  # a forked worker would see "changed by the parent"
    pids = concurrency.spawn_map(pool_workers.worker_pid, range(3), 1)
    assert len(set(pids)) == 1 and os.getpid() not in pids
    with pytest.raises(ValueError):
        concurrency.spawn_map(pool_workers.py_work, [1], 0)


def test_pool_timings_keeps_each_counts_fastest_round_and_adds_process_cpu(pool_workers):
    runs = concurrency.pool_timings(pool_workers.sleep_task, [0.03] * 4, [1, 4], kind="sleep", repeats=2)
    assert [(r.kind, r.workers) for r in runs] == [("sleep", 1), ("sleep", 4)]
    assert runs[0].wall_s >= 0.12 and runs[1].wall_s >= 0.03  # one-sided: sleeps never end early

    class InlinePool(Executor):
        """Stands in for a process pool (not a thread pool): pool_timings must add the tasks' CPU reports."""

        def map(self, fn, items):
            return [fn(item) for item in items]

    runs = concurrency.pool_timings(lambda _: 0.25, [0, 1, 2], [1], kind="fake", repeats=1,
                                    executor=lambda n: InlinePool(),
                                    wall=FakeClock(), cpu=FakeClock())
    assert runs[0].cpu_s == 0.75 and runs[0].wall_s == 0.0


@pytest.mark.parametrize("n, parts", [(10, 3), (2, 4), (0, 2), (7, 1)])
def test_chunk_bounds_cover_the_range_once(n, parts):
    bounds = concurrency.chunk_bounds(n, parts)
    assert len(bounds) == parts and bounds[0][0] == 0 and bounds[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:], strict=False))
    sizes = [hi - lo for lo, hi in bounds]
    assert max(sizes) - min(sizes) <= 1


def test_fill_private_counts_rows_are_the_chunks_histograms():
    x = np.random.default_rng(7).integers(0, 5, 1001)
    local = np.zeros((3, 5), dtype=np.int64)
    concurrency.fill_private_counts(x, local)
    for row, (lo, hi) in zip(local, concurrency.chunk_bounds(len(x), 3), strict=True):
        assert row.tolist() == np.bincount(x[lo:hi], minlength=5).tolist()
    assert local.sum(axis=0).tolist() == np.bincount(x, minlength=5).tolist()
    assert concurrency.lost_updates(local.sum(axis=0), x) == 0
    assert concurrency.lost_updates(np.array([1, 2]), x[:5]) == 2


def test_run_with_blas_threads_reports_the_limit_and_restores_it():
    before = threadpool_info()
    if not any(lib["user_api"] == "blas" for lib in before):
        pytest.skip("numpy reports no BLAS library to threadpoolctl here")
    result, reported = concurrency.run_with_blas_threads(lambda: "done", 1)
    assert result == "done" and reported and set(reported) == {1}
    assert threadpool_info() == before

    def boom():
        raise KeyError("inside")

    with pytest.raises(KeyError):
        concurrency.run_with_blas_threads(boom, 1)
    assert threadpool_info() == before
    with pytest.raises(ValueError):
        concurrency.run_with_blas_threads(lambda: None, 0)


def test_oversubscription_counts_threads_per_core():
    assert concurrency.oversubscription(2, 2, 2) == 2.0
    assert concurrency.oversubscription(4, 1, 64) == 0.0625
    with pytest.raises(ValueError):
        concurrency.oversubscription(0, 1, 2)
