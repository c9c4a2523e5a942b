"""labkit.scaling: the speed-up laws, the serial-fraction fit, the pseudo-application and the cost model."""
import csv
import threading
from pathlib import Path

import numpy as np
import pytest

from labkit import scaling
from labkit.timing import FakeClock

OFFERS_CSV = Path(__file__).resolve().parents[1] / "labs" / "06-scaling-laws" / "offers.csv"


# -- the laws -------------------------------------------------------------------------------------------------

def test_amdahl_limits_and_broadcasting():
    n = np.array([1, 2, 4, 8, 10**9])
    s = scaling.amdahl_speedup(0.1, n)
    assert isinstance(s, np.ndarray) and s.shape == (5,)
    assert s[0] == 1.0 and s[-1] == pytest.approx(10.0, rel=1e-6)  # 1/f in the limit
    assert np.all(np.diff(s) > 0)
    assert scaling.amdahl_speedup(0.0, 8) == 8.0 and scaling.amdahl_speedup(1.0, 8) == 1.0
    assert isinstance(scaling.amdahl_speedup(0.5, 2), float)
    assert scaling.amdahl_speedup(np.array([0.0, 0.5]), 2).tolist() == [2.0, 4 / 3]


@pytest.mark.parametrize("law", [scaling.amdahl_speedup, scaling.gustafson_speedup])
@pytest.mark.parametrize("f, n", [(-0.1, 4), (1.5, 4), (float("nan"), 4), (0.1, 0), (0.1, [2, 0.5])])
def test_laws_reject_impossible_inputs(law, f, n):
    with pytest.raises(ValueError):
        law(f, n)


def test_gustafson_agrees_with_amdahl_once_the_serial_fraction_is_measured_on_the_parallel_run():
    f, n = 0.2, np.arange(1, 65)
    s_parallel = f / (f + (1 - f) / n)  # the same job's serial share of the N-worker run's time
    np.testing.assert_allclose(scaling.gustafson_speedup(s_parallel, n), scaling.amdahl_speedup(f, n), rtol=1e-13)
    assert scaling.gustafson_speedup(0.25, 5) == 4.0


def test_karp_flatt_recovers_amdahls_serial_fraction_and_flags_superlinear_speedup():
    n = np.arange(2, 130)
    np.testing.assert_allclose(scaling.karp_flatt(scaling.amdahl_speedup(0.07, n), n), 0.07, rtol=1e-12)
    assert scaling.karp_flatt(4.0, 4) == 0.0 and scaling.karp_flatt(1.0, 4) == 1.0
    assert scaling.karp_flatt(5.0, 4) < 0
    for speedup, workers in [(2.0, 1), (0.0, 4), (-1.0, 4), ([2.0, 3.0], [2, 1])]:
        with pytest.raises(ValueError):
            scaling.karp_flatt(speedup, workers)


# -- the fit --------------------------------------------------------------------------------------------------

def test_fit_is_exact_on_noiseless_data_and_matches_numpys_least_squares():
    n = np.repeat(np.arange(1.0, 9.0), 2)
    est, low, high = scaling.fit_serial_fraction(n, 50 * (0.12 + 0.88 / n), rng=np.random.default_rng(0))
    assert est == pytest.approx(0.12, abs=1e-12) and low == pytest.approx(0.12, abs=1e-9) \
        and high == pytest.approx(0.12, abs=1e-9)
    w, t = scaling.synthetic_timings(0.1, 20.0, range(1, 9), repeats=3, noise=0.05, seed=4)
    b, a = np.polyfit(1 / w, t, 1)
    assert scaling.fit_serial_fraction(w, t, rng=np.random.default_rng(1))[0] == pytest.approx(a / (a + b),
                                                                                                rel=1e-10)


def test_fit_interval_is_honest_over_many_seeded_data_sets():
    """A 95 % interval should cover the true value in about 95 % of data sets and be about as wide as the
    estimator's own spread (measured here over the same data sets), neither much wider nor narrower."""
    truth, covered, widths, estimates = 0.08, 0, [], []
    for seed in range(60):
        w, t = scaling.synthetic_timings(truth, 10.0, range(1, 9), repeats=3, noise=0.04, seed=seed)
        est, low, high = scaling.fit_serial_fraction(w, t, rng=np.random.default_rng(seed), n_boot=400)
        covered += low <= truth <= high
        assert low <= est <= high
        widths.append(high - low)
        estimates.append(est)
    assert covered >= 50  # binomial(60, 0.92) is below 50 with probability < 5 %
    spread = np.std(estimates)
    assert 2.5 * spread < np.median(widths) < 6 * spread


def test_fit_is_reproducible_with_a_seeded_generator():
    w, t = scaling.synthetic_timings(0.2, 5.0, [1, 2, 4, 8], repeats=4, noise=0.03, seed=9)
    first = scaling.fit_serial_fraction(w, t, rng=np.random.default_rng(3))
    assert first == scaling.fit_serial_fraction(w, t, rng=np.random.default_rng(3))


@pytest.mark.parametrize("workers, times, kwargs", [
    ([1, 2], [1.0, 0.6], {}),                      # two points
    ([2, 2, 2], [1.0, 1.1, 0.9], {}),              # one worker count: no slope
    ([1, 2, 4], [1.0, 0.6], {}),                   # lengths differ
    ([1, 2, 4], [1.0, -0.6, 0.4], {}),             # a negative time
    ([1, 2, 4], [1.0, np.nan, 0.4], {}),           # NaN
    ([0, 2, 4], [1.0, 0.6, 0.4], {}),              # zero workers
    ([1, 2, 4], [1.0, 0.6, 0.4], {"level": 1.0}),
])
def test_fit_rejects_unusable_data(workers, times, kwargs):
    with pytest.raises(ValueError):
        scaling.fit_serial_fraction(workers, times, rng=np.random.default_rng(0), **kwargs)


def test_synthetic_timings_are_seeded_and_shaped():
    a = scaling.synthetic_timings(0.1, 10.0, [1, 2, 4], repeats=5, noise=0.02, seed=1)
    b = scaling.synthetic_timings(0.1, 10.0, [1, 2, 4], repeats=5, noise=0.02, seed=1)
    assert a[0].tolist() == [1] * 5 + [2] * 5 + [4] * 5
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], scaling.synthetic_timings(0.1, 10.0, [1, 2, 4], repeats=5, noise=0.02,
                                                              seed=2)[1])


# -- the pseudo-application ----------------------------------------------------------------------------------

class RecordingSleep:
    """A sleep that returns at once and records its requests (thread-safe: the pool calls it concurrently)."""

    def __init__(self):
        self.calls, self.lock = [], threading.Lock()

    def __call__(self, seconds):
        with self.lock:
            self.calls.append(seconds)


@pytest.mark.parametrize("weak, chunk", [(False, 0.25), (True, 1.0)])
def test_pseudo_app_splits_the_parallel_part_into_one_chunk_per_worker(weak, chunk):
    sleep = RecordingSleep()
    scaling.run_pseudo_app(4, serial_s=0.5, parallel_s=1.0, weak=weak, sleep=sleep, clock=FakeClock())
    assert sleep.calls[0] == 0.5 and sorted(sleep.calls[1:]) == [chunk] * 4


def test_pseudo_app_really_sleeps_at_least_its_critical_path():
    # A lower bound only: sleep never wakes early, but on a loaded machine it may wake arbitrarily late.
    assert scaling.run_pseudo_app(4, serial_s=0.01, parallel_s=0.04) >= 0.01 + 0.04 / 4
    with pytest.raises(ValueError):
        scaling.run_pseudo_app(0, serial_s=0.01, parallel_s=0.04)


def test_measure_scaling_keeps_the_minimum_of_interleaved_rounds():
    order = []
    noisy = iter([3.0, 2.0, 9.0, 1.0, 4.0, 0.5])  # round 1: N=1, N=2; round 2: ...; round 3: ...

    def run(workers, **_):
        order.append(workers)
        return next(noisy)

    result = scaling.measure_scaling([1, 2], serial_s=0, parallel_s=1, repeats=3, run=run)
    assert order == [1, 2, 1, 2, 1, 2]
    assert result.seconds == (3.0, 0.5)
    np.testing.assert_allclose(result.speedup, [1.0, 6.0])
    with pytest.raises(ValueError, match="start at 1"):
        scaling.measure_scaling([2, 4], serial_s=0, parallel_s=1, run=run)


def test_weak_scaling_times_the_grown_job_on_one_worker_too():
    calls = []

    def run(workers, *, serial_s, parallel_s, weak):
        calls.append((workers, parallel_s, weak))
        # a perfect machine: the serial part, then the parallel work spread over the workers
        return serial_s + (parallel_s if weak else parallel_s / workers)

    result = scaling.measure_scaling([1, 2, 4], serial_s=1.0, parallel_s=3.0, weak=True, repeats=1, run=run)
    assert calls == [(1, 3.0, True), (2, 3.0, True), (1, 6.0, False), (4, 3.0, True), (1, 12.0, False)]
    assert result.seconds == (4.0, 4.0, 4.0) and result.one_worker_seconds == (4.0, 7.0, 13.0)
    s = 1.0 / 4.0  # the serial share of every N-worker run
    np.testing.assert_allclose(result.speedup, scaling.gustafson_speedup(s, np.array([1, 2, 4])))


# -- the cost model -------------------------------------------------------------------------------------------

def _offer(name, workers, speed, price, minimum=60):
    return {"offer": name, "workers": workers, "speed_per_worker": speed, "usd_per_hour": price,
            "min_billed_s": minimum}


def test_shipped_cost_table_loads_with_sources_and_dates():
    offers = scaling.load_offers(OFFERS_CSV)
    assert len(offers) >= 8 and len({o["offer"] for o in offers}) == len(offers)
    for offer in offers:
        assert offer["workers"] >= 1 and offer["usd_per_hour"] > 0 and offer["speed_per_worker"] > 0
        assert offer["price_source"].startswith("https://") and offer["as_of"]
        assert "illustrative" in offer["note"]
    assert {o["cpu"] for o in offers if o["provider"].startswith("Huawei")} >= {"Kunpeng 920"}


def test_load_offers_names_missing_columns(tmp_path):
    path = tmp_path / "bad.csv"
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows([["offer", "workers"], ["x", "4"]])
    with pytest.raises(ValueError, match="usd_per_hour"):
        scaling.load_offers(path)


def test_job_time_and_cost_follow_amdahl_and_the_billing_minimum():
    offer = _offer("a", 4, 2.0, 3.6)
    assert scaling.job_seconds(offer, 1000.0, 0.2) == pytest.approx(1000 / 2 * (0.2 + 0.8 / 4))
    assert scaling.job_cost(offer, 200.0) == pytest.approx(0.2)
    assert scaling.job_cost(offer, 10.0) == pytest.approx(0.06)  # billed for the 60 s minimum


def test_cheapest_offer_meets_the_deadline_and_breaks_ties_by_size_then_name():
    offers = [_offer("slow-cheap", 4, 1.0, 0.4), _offer("fast", 16, 1.0, 1.6), _offer("mid", 8, 1.0, 0.8)]
    work, f = 3600.0, 0.05
    assert scaling.cheapest_offer(offers, work, f, deadline_s=1e6) == "slow-cheap"
    seconds = {o["offer"]: scaling.job_seconds(o, work, f) for o in offers}
    assert scaling.cheapest_offer(offers, work, f, deadline_s=seconds["mid"]) == "mid"   # exactly on time counts
    assert scaling.cheapest_offer(offers, work, f, deadline_s=seconds["fast"] * 0.999) is None
    twins = [_offer("b", 8, 1.0, 1.0), _offer("a", 8, 1.0, 1.0), _offer("c", 4, 2.0, 1.0)]
    assert scaling.cheapest_offer(twins, 10.0, 0.0, 1e6) == "c"   # all billed 60 s: fewer workers wins
    assert scaling.cheapest_offer(twins[:2], 10.0, 0.0, 1e6) == "a"
    assert scaling.cheapest_offer([], work, f, 10.0) is None
    for bad in [dict(work_s=0, serial_fraction=f, deadline_s=1), dict(work_s=1, serial_fraction=2, deadline_s=1),
                dict(work_s=1, serial_fraction=f, deadline_s=0)]:
        with pytest.raises(ValueError):
            scaling.cheapest_offer(offers, **bad)
