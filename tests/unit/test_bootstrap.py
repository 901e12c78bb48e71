"""bootstrap: seeds, block layout, simulated window sums, order statistics, replicates."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from sloreco.core import bootstrap, orderstats


def test_seed_is_stable_and_64_bit() -> None:
    seed = bootstrap.seed_from("uid-1", "availability", "1714521600")

    assert (seed, seed < 2**64) == (
        bootstrap.seed_from("uid-1", "availability", "1714521600"),
        True,
    )


def test_seed_parts_do_not_run_into_each_other() -> None:
    assert bootstrap.seed_from("ab", "c") != bootstrap.seed_from("a", "bc")


def test_a_window_is_full_blocks_then_the_remainder() -> None:
    assert bootstrap.block_lengths(28, 5).tolist() == [5, 5, 5, 5, 5, 3]


def test_window_sums_wrap_around_the_end_of_the_pool() -> None:
    values = np.array([[1.0], [10.0], [100.0], [1000.0]])
    # Blocks of 2 days, a window of 3 days: a block at day 3 then a 1-day block at day 0.
    uniforms = np.array([[0.75], [0.0]])

    sums = bootstrap.window_sums(values, uniforms, window_days=3, block_days=2)

    assert sums.tolist() == [[1000.0 + 1.0 + 1.0]]


def test_window_sums_of_many_columns_match_a_direct_sum() -> None:
    rng = np.random.default_rng(0)
    values = rng.integers(0, 100, size=(9, 40)).astype(np.float64)
    uniforms = rng.random((4, 50))
    starts = np.minimum((uniforms * 9).astype(int), 8)
    expected = np.zeros((50, 40))
    for w in range(50):
        days = [(starts[k, w] + i) % 9 for k, n in enumerate([3, 3, 3, 1]) for i in range(n)]
        expected[w] = values[days].sum(axis=0)

    sums = bootstrap.window_sums(values, uniforms, window_days=10, block_days=3)

    assert expected.tolist() == sums.tolist()


def test_tail_count_is_not_fooled_by_binary_floating_point() -> None:
    assert [orderstats.tail_count(c, 10_000) for c in (0.999, 0.99, 0.95)] == [10, 100, 500]


def test_lower_value_leaves_at_most_the_tail_below_it() -> None:
    values = np.arange(100, dtype=np.float64)[::-1].copy()

    assert orderstats.lower_values(values, (0.99, 0.95)).tolist() == [1.0, 5.0]


def test_upper_value_leaves_at_most_the_tail_above_it() -> None:
    values = np.arange(100, dtype=np.float64)

    assert orderstats.upper_values(values, (0.99, 0.95)).tolist() == [98.0, 94.0]


_FINITE = st.floats(-1e12, 1e12, allow_nan=False, allow_subnormal=False)


@given(st.lists(_FINITE, min_size=1, max_size=300), st.floats(0.0, 1.0))
def test_quantile_is_numpys_to_the_last_bit(values: list[float], q: float) -> None:
    array = np.array(values)

    assert orderstats.quantile(array, q) == float(np.quantile(array, q))


@given(st.lists(_FINITE, min_size=1, max_size=300))
def test_median_is_numpys_to_the_last_bit(values: list[float]) -> None:
    array = np.array(values)

    assert orderstats.median(array) == float(np.median(array))


def test_pseudo_histories_are_whole_blocks_of_consecutive_days() -> None:
    uniforms = np.array([[0.5], [0.9]])  # blocks of 3 starting at days 3 and 5 of 6

    indices = bootstrap.pseudo_histories(6, uniforms, block_days=3)

    assert indices.tolist() == [[3, 4, 5, 5, 0, 1]]


def test_backtest_origins_end_with_the_history_and_step_back() -> None:
    history_days = np.arange(101, dtype=np.float64)  # one day of data per day

    found = bootstrap.origins(
        days=100, window_days=28, step_days=7, history_days=history_days, min_history=7
    )

    assert found == [9, 16, 23, 30, 37, 44, 51, 58, 65, 72]


def test_no_origin_without_enough_history_before_it() -> None:
    history_days = np.arange(31, dtype=np.float64)

    found = bootstrap.origins(
        days=30, window_days=28, step_days=7, history_days=history_days, min_history=7
    )

    assert found == []


def test_lower_bound_is_the_cautious_point_across_pseudo_histories() -> None:
    nested = np.array([np.arange(100.0) + shift for shift in range(11)])
    reps = orderstats.Replicates.of(nested)

    # Each pseudo-history's 95% value is its 6th lowest (5 + shift); 10% point of 5..15 is 6.
    assert reps.lower_bound(0.95, 0.10) == 6.0


def test_breach_of_a_value_below_every_window_is_zero() -> None:
    rng = np.random.default_rng(1)
    reps = orderstats.Replicates.of(rng.random((20, 200)) + 1.0, rng.random(2000) + 1.0)

    assert reps.breach(0.0) == 0.0


def test_breach_estimate_exceeds_the_plain_share_in_the_tail() -> None:
    rng = np.random.default_rng(2)
    reference = rng.standard_normal(5000)
    # Pseudo-histories whose tails are sometimes lighter than the reference's: a target set
    # from one of them would be missed more often than its own windows suggest.
    nested = rng.standard_normal((50, 1000)) * rng.uniform(0.6, 1.4, size=(50, 1))
    reps = orderstats.Replicates.of(nested, reference)
    value = float(np.quantile(reference, 0.01))

    assert reps.breach(value) > 0.01
