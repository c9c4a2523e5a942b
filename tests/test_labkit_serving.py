"""labkit.serving: service-time fit, the dynamic-batching simulator, Little's law, data-parallel inference."""
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from labkit import serving
from labkit.concurrency import spawn_pool
from labkit.inference import session
from labkit.models import digits_mlp

LAB = Path(__file__).resolve().parents[1] / "labs" / "13-inference-serving"


def test_fit_service_time_recovers_a_line_through_the_medians_despite_stalls():
    c, t = 0.02, 0.003
    table = {b: [c + t * b, c + t * b, 10 * (c + t * b), (c + t * b) * 0.5, (c + t * b) * 1.5] for b in (1, 4, 16, 64)}
    fit_c, fit_t = serving.fit_service_time(table)
    assert fit_c == pytest.approx(c, rel=1e-12) and fit_t == pytest.approx(t, rel=1e-12)


def test_fit_service_time_needs_two_batch_sizes():
    with pytest.raises(ValueError, match="at least 2"):
        serving.fit_service_time({8: [1.0, 2.0]})


def test_the_shipped_recording_loads_and_fits_a_positive_line():
    table = serving.load_latencies(LAB / "service_times.json")
    assert sorted(table) == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
    c, t = serving.fit_service_time(table)
    assert c > 0 and t > 0


def test_poisson_arrivals_are_seeded_ascending_with_the_requested_rate():
    a = serving.poisson_arrivals(2.0, 20_000, seed=3)
    assert np.array_equal(a, serving.poisson_arrivals(2.0, 20_000, seed=3))
    assert np.all(np.diff(a) >= 0) and a[0] > 0
    assert len(a) / a[-1] == pytest.approx(2.0, rel=0.03)   # 20,000 gaps: relative error of the mean ~0.7 %
    with pytest.raises(ValueError):
        serving.poisson_arrivals(0.0, 5, seed=0)


def test_simulate_batching_worked_example():
    # service 1 + b ms; max_batch 3, max_delay 2 ms
    finish, sizes = serving.simulate_batching([0.0, 1.0, 1.5, 1.6, 10.0], 3, 2.0, lambda b: 1.0 + b)
    # batch 1 fills at 1.5 (3 requests) -> done 5.5; request 4 waits for the server: starts 5.5, alone -> 7.5;
    # request 5 arrives to an idle server and waits the full delay: starts 12 -> 14
    assert sizes == [3, 1, 1]
    assert finish.tolist() == [5.5, 5.5, 5.5, 7.5, 14.0]


def test_without_batching_the_simulator_is_a_fifo_single_server_queue():
    arrivals = serving.poisson_arrivals(0.9, 2000, seed=5)
    finish, sizes = serving.simulate_batching(arrivals, 1, 0.0, lambda b: 1.0)
    expected, free = [], -np.inf
    for a in arrivals:                      # Lindley's recursion
        free = max(free, a) + 1.0
        expected.append(free)
    assert sizes == [1] * 2000 and np.array_equal(finish, expected)


def test_a_batch_waits_at_most_the_delay_and_never_exceeds_max_batch():
    arrivals = serving.poisson_arrivals(3.0, 3000, seed=8)
    finish, sizes = serving.simulate_batching(arrivals, 8, 0.5, lambda b: 0.2 + 0.05 * b)
    assert sum(sizes) == 3000 and max(sizes) <= 8 and min(sizes) >= 1
    assert all(type(size) is int for size in serving.simulate_batching(arrivals, np.int64(8), 0.5, lambda b: 0.2)[1])
    starts = finish - np.repeat([0.2 + 0.05 * s for s in sizes], sizes)
    assert np.all(starts >= arrivals - 1e-12)
    # while the server is idle the oldest request waits at most max_delay
    first = np.cumsum([0] + sizes[:-1])
    prev_free = np.concatenate([[-np.inf], finish[first[1:] - 1]])
    idle = prev_free <= arrivals[first]
    assert np.all(starts[first][idle] <= arrivals[first][idle] + 0.5 + 1e-12)


@pytest.mark.parametrize("args", [([1.0, 0.5], 2, 0.0), ([0.0], 0, 0.0), ([0.0], 2, -1.0), ([0.0], True, 0.0)])
def test_simulate_batching_rejects_bad_input(args):
    with pytest.raises(ValueError):
        serving.simulate_batching(*args, lambda b: 1.0)


def test_littles_law_holds_exactly_over_a_window_that_holds_every_request():
    arrivals = serving.poisson_arrivals(5.0, 4000, seed=1)
    finish, _ = serving.simulate_batching(arrivals, 16, 0.3, lambda b: 0.5 + 0.02 * b)
    in_system, lam, w = serving.littles_law(arrivals, finish, 0.0, float(finish[-1]))
    assert in_system == pytest.approx(lam * w, rel=1e-9)
    assert w == pytest.approx(float(np.mean(finish - arrivals)), rel=1e-12)


def test_littles_law_clips_requests_at_the_window_edges():
    # in the system: [0, 4], [1, 3], [5, 9]; window [2, 6]: areas 2 + 1 + 1 = 4 over 4 ms
    L, lam, W = serving.littles_law([0.0, 1.0, 5.0], [4.0, 3.0, 9.0], 2.0, 6.0)
    assert (L, lam, W) == (1.0, 0.25, 4.0)
    with pytest.raises(ValueError):
        serving.littles_law([0.0, 1.0], [4.0, 0.5], 0.0, 5.0)
    with pytest.raises(ValueError):
        serving.littles_law([0.0], [1.0], 3.0, 3.0)


@pytest.fixture(scope="module")
def workers():
    sys.path.insert(0, str(LAB))            # spawned workers get this sys.path and import serving_workers from it
    import serving_workers

    with spawn_pool(2) as pool:
        yield pool, serving_workers
    sys.path.remove(str(LAB))


class _Recorder:
    """Passes jobs on to the real pool and remembers them, so a test can look for the blocks they named."""

    def __init__(self, pool):
        self.pool, self.jobs = pool, []

    def submit(self, fn, job):
        self.jobs.append(job)
        return self.pool.submit(fn, job)

    def left_behind(self):
        # only the blocks these jobs named: other processes on the machine may create blocks meanwhile
        return {n for j in self.jobs for n in (j.in_name, j.out_name) if os.path.exists(f"/dev/shm/{n}")}


def test_parallel_predict_equals_one_session_and_leaves_no_shared_memory(workers, tmp_path):
    pool, serving_workers = workers
    mlp = digits_mlp()
    path = tmp_path / "digits.onnx"
    path.write_bytes(mlp.onnx())
    X = mlp.X_test[:301]
    expected = session(str(path)).run(None, {"pixels": X})[0]
    for parts in (1, 2, 5, 400):
        recorder = _Recorder(pool)
        Y = serving.parallel_predict(recorder, serving_workers.predict_rows, serving_workers.RowsJob, path, X, parts)
        assert Y.dtype == np.float32 and np.array_equal(Y, expected)
        assert len(recorder.jobs) == min(parts, 301) and recorder.left_behind() == set()
    recorder = _Recorder(pool)
    assert serving.parallel_predict(recorder, serving_workers.predict_rows, serving_workers.RowsJob, path,
                                    X[:0], 2).shape == (0, 10)
    assert recorder.jobs == []


def test_parallel_predict_unlinks_its_blocks_when_a_worker_fails(workers, tmp_path):
    pool, serving_workers = workers
    recorder = _Recorder(pool)
    with pytest.raises(Exception, match="missing.onnx"):  # no model file there: the worker's session cannot load it
        serving.parallel_predict(recorder, serving_workers.predict_rows, serving_workers.RowsJob,
                                 tmp_path / "missing.onnx", np.zeros((4, 64), np.float32), 2)
    assert len(recorder.jobs) == 2 and recorder.left_behind() == set()
