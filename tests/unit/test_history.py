"""history: exclusions, cleaning of bad values, daily sums, gaps and coverage."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sloreco import errors
from sloreco.core import history
from tests import factories


def hourly(total: list[float], bad: list[float]) -> history.AvailabilityHistory:
    return history.AvailabilityHistory(
        bucket_seconds=3600,
        start=0,
        total=np.array(total, dtype=np.float64),
        bad=np.array(bad, dtype=np.float64),
        excluded=np.zeros(len(total), dtype=np.bool_),
    )


def test_exclusion_marks_every_bucket_it_touches_and_no_other() -> None:
    hist = hourly([10.0] * 6, [1.0] * 6)

    excluded = history.exclude(hist, [history.Exclusion(start=3601, end=3 * 3600 + 1)])

    assert excluded.excluded.tolist() == [False, True, True, True, False, False]


def test_excluded_buckets_become_nan() -> None:
    hist = hourly([10.0] * 3, [1.0] * 3)

    excluded = history.exclude(hist, [history.Exclusion(start=3600, end=7200)])

    assert np.isnan(excluded.total).tolist() == [False, True, False]


def test_exclusion_outside_the_history_changes_nothing() -> None:
    hist = hourly([10.0] * 3, [1.0] * 3)

    excluded = history.exclude(hist, [history.Exclusion(start=-7200, end=0)])

    assert excluded.excluded.tolist() == [False, False, False]


def test_latency_exclusion_blanks_whole_rows() -> None:
    hist = factories.steady_latency(3)

    excluded = history.exclude(hist, [history.Exclusion(start=hist.start, end=hist.start + 1)])

    assert np.isnan(excluded.cumulative).all(axis=1).tolist() == [True, False, False]


def test_nan_inf_and_negative_counts_are_missing() -> None:
    hist = hourly([10.0, math.nan, math.inf, -1.0, 10.0], [1.0, 1.0, 1.0, 1.0, -2.0])

    _, _, present = history.clean_availability(hist)

    assert present.tolist() == [True, False, False, False, False]


def test_missing_buckets_count_zero() -> None:
    hist = hourly([10.0, math.nan], [1.0, 1.0])

    total, bad, _ = history.clean_availability(hist)

    assert (total.tolist(), bad.tolist()) == ([10.0, 0.0], [1.0, 0.0])


def test_more_errors_than_requests_is_clipped_to_all_requests_failing() -> None:
    hist = hourly([10.0], [12.5])

    _, bad, _ = history.clean_availability(hist)

    assert bad.tolist() == [10.0]


def test_latency_rows_with_a_bad_count_are_missing() -> None:
    cumulative = np.array([[1.0, 2.0], [math.nan, 2.0], [1.0, -1.0]])
    hist = history.LatencyHistory(3600, 0, (0.5, math.inf), cumulative, np.zeros(3, np.bool_))

    _, present = history.clean_latency(hist)

    assert present.tolist() == [True, False, False]


def test_latency_counts_are_per_bound_and_never_negative() -> None:
    cumulative = np.array([[5.0, 4.0, 9.0]])  # extrapolation made le=1 smaller than le=0.5
    hist = history.LatencyHistory(3600, 0, (0.5, 1.0, math.inf), cumulative, np.zeros(1, np.bool_))

    counts, _ = history.clean_latency(hist)

    assert counts.tolist() == [[5.0, 0.0, 5.0]]


def test_days_end_with_the_history_and_a_partial_first_day_is_padded() -> None:
    values = np.ones(30)

    days = history.daily_sums(values, bucket_seconds=3600)

    assert days.tolist() == [6.0, 24.0]


def test_a_bucket_that_does_not_divide_a_day_is_an_input_error() -> None:
    with pytest.raises(errors.InputError) as caught:
        history.buckets_per_day(7 * 3600)

    assert caught.value.field == "bucket"


def test_runs_are_maximal_and_end_exclusive() -> None:
    mask = np.array([True, True, False, True, False, False, True])

    assert history.runs(mask) == [(0, 2), (3, 4), (6, 7)]


def test_gaps_leave_out_excluded_buckets() -> None:
    present = np.array([True, False, False, True, False])
    excluded = np.array([False, False, True, False, False])

    assert history.gaps(present, excluded) == [(1, 2), (4, 5)]


def test_coverage_is_over_the_buckets_not_excluded() -> None:
    present = np.array([True, False, True, False])
    excluded = np.array([False, False, False, True])

    assert history.coverage(present, excluded) == 2 / 3
