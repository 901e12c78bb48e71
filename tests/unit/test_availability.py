"""availability: day pools, window availability, rounding, ceiling and caps, budgets."""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from sloreco.core import stats
from sloreco.core.models import availability
from tests import factories


def test_days_without_traffic_leave_the_pool() -> None:
    days = availability.Days.of(factories.daily_availability([10, 0, 20], [1, 0, 2]))

    assert days.pool().tolist() == [[1.0, 10.0], [2.0, 20.0]]


def test_window_availability_is_traffic_weighted() -> None:
    # 1% errors on a quiet day and none on a busy one: 10 of 1,010 requests failed.
    days = availability.Days.of(factories.daily_availability([10, 1000], [0.1, 0]))

    assert availability.rolling(days, 2).tolist() == [1 - 0.1 / 1010]


def test_rolling_windows_cover_every_complete_window() -> None:
    days = availability.Days.of(factories.daily_availability([10, 10, 10, 10], [0, 1, 0, 0]))

    assert availability.rolling(days, 2).tolist() == [0.95, 0.95, 1.0]


def test_percent_rounds_down() -> None:
    assert stats.percent(0.998799, Decimal("0.01")) == Decimal("99.87")


def test_percent_of_a_short_decimal_is_exact() -> None:
    assert stats.percent(0.999, Decimal("0.01")) == Decimal("99.90")


def test_percent_honours_the_precision() -> None:
    assert stats.percent(0.998799, Decimal("0.001")) == Decimal("99.879")


def test_ceiling_is_the_product_of_dependencies() -> None:
    assert availability.ceiling([0.999, 0.998]) == 0.999 * 0.998


def test_targets_above_the_cap_are_capped_where_allowed() -> None:
    chosen = availability.choose(
        (0.9999, 0.9999, 0.9999),
        precision=Decimal("0.01"),
        cap=Decimal("99.90"),
        cappable=(True, True, False),
    )

    assert (chosen.values, chosen.capped) == (
        (Decimal("99.90"), Decimal("99.90"), Decimal("99.99")),
        (True, True, False),
    )


def test_a_target_under_the_cap_is_left_alone() -> None:
    chosen = availability.choose(
        (0.99,),
        precision=Decimal("0.01"),
        cap=Decimal("99.90"),
        cappable=(True,),
    )

    assert (chosen.values, chosen.capped) == ((Decimal("99.00"),), (False,))


def test_error_budget_counts_bad_events_and_outage_minutes() -> None:
    budget = stats.budget(Decimal("99.9"), 1_000_000.0, 28 * 86400)

    assert (budget.bad_events_per_window, budget.outage_minutes_per_window) == (
        1000,
        Decimal("40.32"),
    )


def test_traffic_is_the_recent_rate_over_days_with_data() -> None:
    total = np.array([10.0, 100.0, 50.0])  # the last day only half covered
    data_days = np.array([1.0, 1.0, 0.5])

    assert stats.traffic_per_window(total, data_days, 2) == 150 / 1.5 * 2
