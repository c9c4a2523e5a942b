"""labkit.mpi: decomposition, halo exchange, the heat equation (in-process and on real MPI ranks), alpha-beta."""
from pathlib import Path

import numpy as np
import pytest

from labkit import mpi

LAB = Path(__file__).resolve().parents[1] / "labs" / "09-distributed-mpi"


# -- decomposition --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n, parts", [(10, 3), (7, 7), (100, 1), (5, 2), (64, 8)])
def test_split_domain_covers_the_range_in_order_with_sizes_differing_by_at_most_one(n, parts):
    ranges = mpi.split_domain(n, parts)
    assert len(ranges) == parts and ranges[0][0] == 0 and ranges[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(ranges[:-1], ranges[1:], strict=True))
    sizes = [b - a for a, b in ranges]
    assert max(sizes) - min(sizes) <= 1 and sizes == sorted(sizes, reverse=True)


def test_split_domain_gives_the_remainder_to_the_first_parts_and_rejects_impossible_splits():
    assert mpi.split_domain(10, 3) == [(0, 4), (4, 7), (7, 10)]
    assert mpi.split_domain(np.int64(4), 4) == [(0, 1), (1, 2), (2, 3), (3, 4)]
    for n, parts in [(3, 4), (5, 0), (5, -1), (5, 2.0), (5, True), (-1, 1)]:
        with pytest.raises(ValueError):
            mpi.split_domain(n, parts)


def test_exchange_halos_copies_interior_edges_into_neighbouring_ghosts_only():
    blocks = [np.array([-1.0, 1, 2, 0]), np.array([0.0, 3, 0]), np.array([0.0, 4, 5, 6, -2])]
    mpi.exchange_halos(blocks)
    assert [b.tolist() for b in blocks] == [[-1, 1, 2, 3], [2, 3, 4], [3, 4, 5, 6, -2]]
    single = [np.array([9.0, 1, 2, 9])]
    mpi.exchange_halos(single)
    assert single[0].tolist() == [9, 1, 2, 9]
    with pytest.raises(ValueError):
        mpi.exchange_halos([np.array([0.0, 1, 0]), np.array([0.0, 0])])


# -- heat equation --------------------------------------------------------------------------------------------

def test_heat_serial_conserves_nothing_at_fixed_ends_and_smooths_a_spike():
    u = np.zeros(11)
    u[5] = 1.0
    out = mpi.heat_serial(u, 0.25, 1)
    assert out.tolist()[4:7] == [0.25, 0.5, 0.25] and u[5] == 1.0  # the input is not modified
    ends = np.array([3.0, 0, 0, 0, -1.0])
    assert mpi.heat_serial(ends, 0.5, 40)[[0, -1]].tolist() == [3.0, -1.0]
    assert np.array_equal(mpi.heat_serial(ends, 0.5, 0), ends)


@pytest.mark.parametrize("parts", [1, 2, 3, 4, 7, 13])
def test_heat_halo_equals_the_serial_run_bit_for_bit(parts):
    u = np.random.default_rng(parts).standard_normal(13)
    blocks = mpi.heat_halo(u, 0.37, 25, parts)
    assert [b.size for b in blocks] == [b - a for a, b in mpi.split_domain(13, parts)]
    assert np.array_equal(np.concatenate(blocks), mpi.heat_serial(u, 0.37, 25))


def test_heat_halo_rejects_bad_shapes():
    for u in [np.zeros((3, 3)), np.zeros(1)]:
        with pytest.raises(ValueError):
            mpi.heat_halo(u, 0.2, 1, 1)


# -- alpha-beta -----------------------------------------------------------------------------------------------

def test_fit_alpha_beta_recovers_the_model_from_the_fastest_repeat():
    sizes = [8, 1024, 65536, 1 << 20]
    m, t = mpi.synthetic_pingpong(seed=3, alpha=2e-6, beta=1e-10, sizes=sizes, repeats=1, jitter=0.0)
    alpha, beta = mpi.fit_alpha_beta(m, t)
    assert alpha == pytest.approx(2e-6, rel=1e-9) and beta == pytest.approx(1e-10, rel=1e-9)
    # one slow repeat per size (a delay) must not move the fit: it uses each size's minimum
    slow_m, slow_t = np.concatenate([m, m]), np.concatenate([t, t * 5])
    assert mpi.fit_alpha_beta(slow_m, slow_t) == pytest.approx((alpha, beta), rel=1e-9)


def test_fit_alpha_beta_weights_relative_errors_so_small_messages_set_the_latency():
    sizes = [1, 64, 4096, 1 << 20, 1 << 21, 1 << 22]
    m, t = mpi.synthetic_pingpong(seed=0, alpha=2e-6, beta=1e-10, sizes=sizes, repeats=1, jitter=0.0)
    t = t * np.array([1.0, 1.0, 1.0, 1.05, 0.95, 1.05])  # +-5 % at MiB sizes: several latencies each
    alpha, _ = mpi.fit_alpha_beta(m, t)
    assert alpha == pytest.approx(2e-6, rel=0.02)
    unweighted_alpha = np.polyfit(m, t, 1)[1]
    assert abs(unweighted_alpha - 2e-6) > 5 * abs(alpha - 2e-6)


def test_synthetic_pingpong_is_seeded_and_only_ever_slower_than_the_model():
    a = mpi.synthetic_pingpong(1, 1e-6, 1e-9, [1, 10], 50, 0.2)
    b = mpi.synthetic_pingpong(1, 1e-6, 1e-9, [1, 10], 50, 0.2)
    assert np.array_equal(a[1], b[1]) and a[0].size == 100
    assert np.all(a[1] >= 1e-6 + 1e-9 * a[0])


@pytest.mark.parametrize("m, t", [([8, 8], [1e-6, 2e-6]), ([8, 16], [1e-6]), ([8, -16], [1e-6, 1e-6]),
                                  ([8, 16], [1e-6, float("nan")]), ([8, 16], [0.0, 1e-6])])
def test_fit_alpha_beta_rejects_data_that_cannot_be_fitted(m, t):
    with pytest.raises(ValueError):
        mpi.fit_alpha_beta(m, t)


def test_halo_step_seconds_counts_the_busiest_rank():
    one = mpi.halo_step_seconds(1000, 1, 1e-6, 1e-9, 1e-8)
    assert one == {"compute_s": 1e-5, "comm_s": 0.0, "total_s": 1e-5}
    two = mpi.halo_step_seconds(1001, 2, 1e-6, 1e-9, 1e-8)
    assert two["compute_s"] == pytest.approx(501e-8) and two["comm_s"] == pytest.approx(1e-6 + 8e-9)
    many = mpi.halo_step_seconds(1000, 8, 1e-6, 1e-9, 1e-8, value_bytes=16)
    assert many["comm_s"] == pytest.approx(2 * (1e-6 + 16e-9)) and many["compute_s"] == pytest.approx(125e-8)
    with pytest.raises(ValueError):
        mpi.halo_step_seconds(1000, 2, -1e-6, 1e-9, 1e-8)


# -- real MPI ranks -------------------------------------------------------------------------------------------

def test_mpi_command_rejects_bad_rank_counts():
    for ranks in [0, 2.5, True]:
        with pytest.raises(ValueError):
            mpi.mpi_command("x.py", ranks)


def test_heat_on_three_real_mpi_ranks_equals_the_serial_run_bit_for_bit(tmp_path):
    out = tmp_path / "heat.npy"
    run = mpi.run_mpi(LAB / "heat_mpi.py", 3, 50, 0.3, 40, 5, out, cwd=tmp_path)
    assert "3 ranks, blocks of [17, 17, 16] points, 160 halo messages" in run.stdout
    expected = mpi.heat_serial(np.random.default_rng(5).random(50), 0.3, 40)
    assert np.array_equal(np.load(out), expected)


def test_a_failing_mpi_program_gives_one_error_with_its_stderr(tmp_path):
    script = tmp_path / "boom.py"
    script.write_text("raise SystemExit('rank gave up')\n")
    with pytest.raises(mpi.MPIError, match="rank gave up"):
        mpi.run_mpi(script, 2, cwd=tmp_path)
