"""A background that rose in its last days and stayed (``core.shift``)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sloreco.core import evidence, history, persistence, shift
from tests import factories

DAYS = 90


def test_a_tripled_background_is_read_where_it_rose() -> None:
    pool = factories.daily_pool(factories.risen_shares(DAYS, rise_days=14, factor=3.0)[0])

    rise = shift.find(pool)

    assert rise is not None
    assert 12 <= rise.days <= 16
    assert 2.4 < rise.factor < 3.8


def test_a_fall_is_not_a_rise() -> None:
    pool = factories.daily_pool(factories.risen_shares(DAYS, rise_days=14, factor=1 / 3)[0])

    assert shift.find(pool) is None


def test_independent_days_are_rarely_read_as_a_rise() -> None:
    # 200 histories of 'steady''s days: the scan's maximum over its splits passes the threshold
    # in about none (measured 0 of 100 in the calibration harness); 4 of 200 would mean its
    # null variance is too small.
    shares = factories.risen_shares(DAYS, rise_days=14, factor=1.0, series=200, seed=3)

    found = sum(
        shift.find(factories.daily_pool(row, seed=i)) is not None for i, row in enumerate(shares)
    )

    assert found <= 3


def test_a_rise_within_its_drift_is_mostly_not_read() -> None:
    # Spells of about ten days (AR(1) 0.9, coefficient of variation 1) whose last two weeks run
    # at twice the earlier level: mostly a spell, which the earlier stretch's own persistence
    # allows (measured: 7 of 60 read as a rise; 41 of 60 with the null's persistence at 0).
    found = 0
    for seed in range(60):
        drift = factories.drifting_shares(0.9, DAYS, seed=seed)[0]
        drift[-14:] *= 2.0 * drift[:-14].mean() / drift[-14:].mean()
        found += shift.find(factories.daily_pool(drift)) is not None

    assert found <= 15


def mean_variance(reading: persistence.Persistence, noise: float, span: int) -> float:
    """A ``span``-day mean's relative variance under ``reading``'s AR(1), written out."""
    k = np.arange(1, span)
    carried = 1 + 2 * float(np.sum((1 - k / span) * reading.phi**k))
    return (reading.variance * carried + noise) / span


def test_each_splits_statistic_reads_its_earlier_stretch_as_persistence_does() -> None:
    pool = factories.daily_pool(factories.drifting_shares(0.8, DAYS, seed=2)[0])
    recent, factor, z = shift.scan(pool)

    for index in (0, len(z) // 2, len(z) - 1):
        split = DAYS - int(recent[index])
        earlier = persistence.Persistence.read(pool[:split])
        assert earlier is not None
        mean = pool[:split, 0].sum() / pool[:split, 1].sum()
        noise = float(np.mean(1.0 / (mean * pool[:split, 1])))
        error = math.sqrt(
            mean_variance(earlier, noise, DAYS - split)
            + mean_variance(earlier, noise, split)
            + 1 / pool[split:, 0].sum()
        )
        expected = max(math.log(factor[index]), 0.0) / error
        assert math.isclose(z[index], expected, rel_tol=1e-9, abs_tol=1e-12)


def test_rebase_puts_the_days_before_the_rise_at_its_level() -> None:
    pool = factories.daily_pool(factories.risen_shares(DAYS, rise_days=14, factor=3.0)[0])
    kept = pool.copy()

    rebased = shift.rebase(pool, shift.Rise(days=14, factor=3.0, z=9.0))

    np.testing.assert_array_equal(rebased[:-14, 0], kept[:-14, 0] * 3.0)
    np.testing.assert_array_equal(rebased[-14:], kept[-14:])
    np.testing.assert_array_equal(rebased[:, 1], kept[:, 1])
    np.testing.assert_array_equal(pool, kept)  # the input is left as it was


def test_the_evidence_bootstraps_the_risen_level_and_reads_spells_as_they_were() -> None:
    days = factories.daily_pool(factories.risen_shares(DAYS, rise_days=14, factor=3.0)[0])
    seen = evidence.of(
        days[:, 0],
        days[:, 1],
        np.ones(DAYS, dtype=np.bool_),
        bucket_seconds=history.SECONDS_PER_DAY,
    )

    assert seen.rise is not None
    recent_share = days[-14:, 0].sum() / days[-14:, 1].sum()
    assert math.isclose(seen.pool[:, 0].sum() / seen.pool[:, 1].sum(), recent_share, rel_tol=0.05)
    assert seen.spells == persistence.Persistence.read(seen.days)


def test_a_history_that_rose_gets_tiers_for_the_level_it_rose_to() -> None:
    # The last 14 days at three times the 76 before (0.1% -> 0.3%): a window from now on runs at
    # 0.3%, so the balanced tier must allow at least that. The history's mean is 0.13%.
    days = factories.daily_pool(factories.risen_shares(DAYS, rise_days=14, factor=3.0)[0])
    data = factories.daily_availability(days[:, 1], days[:, 0])

    result = factories.recommend_availability(data, window_seconds=28 * 86400, seed=1)

    balanced = next(t for t in result.tiers if t.name == "balanced")
    assert 100 - float(balanced.target) >= 100 * days[-14:, 0].sum() / days[-14:, 1].sum()


@pytest.mark.parametrize(
    "factor",
    [
        # At 2,000 requests an hour a tenfold background passes the incident detector's floor
        # (ten times normal) in about half its hours; judged against the risen level, in none.
        10.0,
        # Thirtyfold passes it in nearly every hour, so the first split sees one incident that
        # has not ended and no rise; judged against its own level, a rise.
        30.0,
    ],
)
def test_a_large_rise_is_read_as_a_level_not_as_incidents(factor: float) -> None:
    data = factories.hourly_availability(
        factories.risen_shares(DAYS, rise_days=14, factor=factor)[0]
    )

    seen = evidence.of(data.bad, data.total, ~data.excluded, bucket_seconds=3600)

    assert seen.rise is not None
    assert seen.rise.days == 14
    assert factor * 0.7 < seen.rise.factor < factor * 1.3
    assert seen.incidents <= 1
