"""A service is read over the time it served: days without a request are not history.

A launch inside the lookback, a counter exported before traffic reached it, a month failed over
to another region: days with zero requests could not have shown an incident, and read as days
without one they made the incident rate look lower by their share (``history.
since_first_request``, ``evidence``'s exposure).
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import numpy as np

from sloreco.core import history
from sloreco.core.slis import base
from tests import factories

WINDOW = 28 * 86400


def quiet_service(days: int = 90) -> history.AvailabilityHistory:
    return factories.hourly_availability(np.full(days, 0.001), seed=3)


def blanked(
    hist: history.AvailabilityHistory, first_day: int, end_day: int, value: float
) -> history.AvailabilityHistory:
    """``hist`` with days ``[first_day, end_day)`` holding ``value`` (0: no requests; NaN: no
    data) in both counts."""
    total, bad = hist.total.copy(), hist.bad.copy()
    total[first_day * 24 : end_day * 24] = value
    bad[first_day * 24 : end_day * 24] = value
    return dataclasses.replace(hist, total=total, bad=bad)


def tiers(hist: history.AvailabilityHistory) -> list[Decimal]:
    result = factories.recommend_availability(hist, window_seconds=WINDOW, seed=1)
    return [t.target for t in result.tiers]


def test_a_history_starts_at_its_first_request() -> None:
    hist = blanked(quiet_service(), 0, 60, 0.0)

    trimmed, lead = history.since_first_request(hist)

    assert lead == history.Lead(buckets=60 * 24, present=60 * 24)
    assert trimmed.start == hist.start + 60 * 86400
    assert trimmed.end == hist.end
    np.testing.assert_array_equal(trimmed.total, hist.total[60 * 24 :])


def test_a_latency_history_starts_at_its_first_request() -> None:
    hist = factories.steady_latency(30, bucket_seconds=3600)
    cumulative = hist.cumulative.copy()
    cumulative[:48] = 0.0
    cumulative[48:50] = np.nan

    trimmed, lead = history.since_first_request(dataclasses.replace(hist, cumulative=cumulative))

    assert lead == history.Lead(buckets=50, present=48)
    assert len(trimmed.cumulative) == 30 * 24 - 50


def test_a_history_without_a_request_is_left_for_the_guards() -> None:
    hist = blanked(quiet_service(20), 0, 20, 0.0)

    trimmed, lead = history.since_first_request(hist)

    assert trimmed is hist
    assert lead.buckets == 0


def test_days_before_a_launch_count_as_no_history_at_all() -> None:
    # 60 days of zeros before 30 days served are read as the 30 days alone, and the result
    # says why; before, they were 60 more days without an incident (balanced 98.28% where
    # the 30 days give 95.87%).
    launched = blanked(quiet_service(), 0, 60, 0.0)
    alone = dataclasses.replace(
        quiet_service(),
        start=quiet_service().start + 60 * 86400,
        total=quiet_service().total[60 * 24 :],
        bad=quiet_service().bad[60 * 24 :],
        excluded=quiet_service().excluded[60 * 24 :],
    )

    result = factories.recommend_availability(launched, window_seconds=WINDOW, seed=1)

    assert [t.target for t in result.tiers] == tiers(alone)
    assert any("first 60.0 days hold zero requests" in n for n in result.data_quality.notes)


def test_a_month_without_requests_reads_as_a_month_without_data() -> None:
    # A month failed over elsewhere: no exposure to incidents, as a month of missing data.
    idle = blanked(quiet_service(), 20, 50, 0.0)
    missing = blanked(quiet_service(), 20, 50, np.nan)

    assert tiers(idle) == tiers(missing)
    assert tiers(idle) != tiers(quiet_service())


def test_a_backtest_origin_with_too_few_served_days_is_skipped() -> None:
    # Two days served, 48 without a request, 40 served: the earliest origins' pools hold fewer
    # days than the blocks drawn for the whole history (an IndexError in the bootstrap before).
    hist = blanked(quiet_service(), 2, 50, 0.0)

    result = factories.recommend_availability(
        hist,
        window_seconds=WINDOW,
        seed=1,
        settings=dataclasses.replace(base.DEFAULT_SETTINGS, backtest_step_days=1),
    )

    assert result.backtest.tiers[0].evaluations > 0


def test_a_lead_without_data_is_named_as_such_and_not_listed_as_a_gap() -> None:
    # A lookback longer than the source keeps: the first 60 days are missing, not zeros.
    result = factories.recommend_availability(
        blanked(quiet_service(), 0, 60, np.nan), window_seconds=WINDOW, seed=1
    )

    assert result.data_quality.gaps == ()
    assert any(
        "first 60.0 days hold no data (the source kept none" in n for n in result.data_quality.notes
    )
