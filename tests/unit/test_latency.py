"""latency: histogram_quantile semantics, shares within a latency, bounds."""

from __future__ import annotations

import math

import numpy as np

from sloreco.core.models import histogram, latency

BOUNDS = np.array([0.1, 0.5, 1.0, math.inf])
# 50 requests up to 0.1s, 40 more up to 0.5s, 10 more up to 1s, none slower (cumulative).
HISTOGRAM = np.array([50.0, 90.0, 100.0, 100.0])


def test_quantile_interpolates_inside_the_bucket() -> None:
    values, _ = histogram.quantile(HISTOGRAM, BOUNDS, 0.95)

    assert float(values) == 0.5 + (1.0 - 0.5) * (95 - 90) / 10


def test_quantile_on_a_cumulative_count_is_the_bound() -> None:
    values, _ = histogram.quantile(HISTOGRAM, BOUNDS, 0.9)

    assert float(values) == 0.5


def test_quantile_in_the_first_bucket_starts_from_zero() -> None:
    values, _ = histogram.quantile(HISTOGRAM, BOUNDS, 0.25)

    assert float(values) == 0.1 * 25 / 50


def test_quantile_in_the_inf_bucket_is_the_highest_finite_bound_and_flagged() -> None:
    slow = np.array([50.0, 90.0, 95.0, 100.0])

    values, in_inf = histogram.quantile(slow, BOUNDS, 0.99)

    assert (float(values), bool(in_inf)) == (1.0, True)


def test_quantile_works_on_many_histograms_at_once() -> None:
    many = np.stack([HISTOGRAM, HISTOGRAM * 2], axis=1)

    values, _ = histogram.quantile(many, BOUNDS, 0.9)

    assert values.tolist() == [0.5, 0.5]


def test_share_within_a_bound_is_exact() -> None:
    assert float(histogram.fraction_within(HISTOGRAM, BOUNDS, 0.5)) == 0.9


def test_share_within_a_latency_between_bounds_is_interpolated() -> None:
    assert float(histogram.fraction_within(HISTOGRAM, BOUNDS, 0.3)) == (50 + 40 * 0.5) / 100


def test_share_beyond_the_highest_finite_bound_stops_there() -> None:
    slow = np.array([50.0, 90.0, 95.0, 100.0])

    assert float(histogram.fraction_within(slow, BOUNDS, 30.0)) == 0.95


def test_bound_at_or_above_takes_an_equal_bound() -> None:
    assert histogram.bound_at_or_above(BOUNDS, 0.5) == 0.5


def test_bound_at_or_above_takes_the_next_bound() -> None:
    assert histogram.bound_at_or_above(BOUNDS, 0.5000001) == 1.0


def test_bound_at_or_above_is_the_highest_finite_bound_at_most() -> None:
    assert histogram.bound_at_or_above(BOUNDS, 7.0) == 1.0


def test_slow_requests_are_those_over_the_bound() -> None:
    counts = np.array([[50.0, 40.0, 10.0, 0.0], [0.0, 0.0, 0.0, 0.0]])

    slow, total = latency.slow_requests(counts, BOUNDS, bound=0.1)

    assert (slow.tolist(), total.tolist()) == ([50.0, 0.0], [100.0, 0.0])
