"""A histogram whose buckets changed inside the lookback is read whole, at the bounds it kept.

Adding a bucket at a new threshold is what a team does when it sets a latency SLO; every bucket
of history without that bound used to read as missing, so the history before the change was
lost (and after a bound was dropped, the history since).
"""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np

from sloreco.sources import promjson, synthseries
from tests import factories

HOUR = 3600
BUCKETS = 100


def series(le: str, value: float, buckets: slice = slice(None)) -> promjson.Series:
    """A bound's hourly counts over ``buckets`` of the grid (absent elsewhere)."""
    times = (np.arange(BUCKETS) + 1.0)[buckets] * HOUR
    return promjson.Series({"le": le}, times, np.full(len(times), value))


def histogram(*extra: promjson.Series) -> list[promjson.Series]:
    return [series("0.1", 50.0), series("0.5", 90.0), series("+Inf", 100.0), *extra]


GRID = promjson.Grid.of(0, BUCKETS * HOUR, HOUR)


def test_a_bound_added_late_leaves_the_history_before_it_whole() -> None:
    read = promjson.latency(GRID, histogram(series("0.3", 80.0, slice(-10, None))))

    assert read.bounds == (0.1, 0.5, math.inf)
    assert read.partial_bounds == (0.3,)
    assert np.isfinite(read.cumulative).all()


def test_a_bound_dropped_early_leaves_the_latest_buckets_whole() -> None:
    read = promjson.latency(GRID, histogram(series("0.3", 80.0, slice(0, 90))))

    assert read.bounds == (0.1, 0.5, math.inf)
    assert read.cumulative[-1].tolist() == [50.0, 90.0, 100.0]


def test_a_bound_missing_where_every_bound_is_missing_is_kept() -> None:
    # A gap in the whole histogram is a gap, not a change of layout.
    gappy = [series(le, v, slice(20, None)) for le, v in (("0.1", 50.0), ("+Inf", 100.0))]

    read = promjson.latency(GRID, gappy)

    assert (read.bounds, read.partial_bounds) == ((0.1, math.inf), ())
    assert np.isnan(read.cumulative[:20]).all()


def test_the_recommendation_names_the_bound_it_left_out() -> None:
    hist = factories.steady_latency(30, bucket_seconds=HOUR, seed=4)
    changed = promjson.latency(
        promjson.Grid.of(hist.start, hist.end, HOUR),
        [
            promjson.Series(
                {"le": synthseries.format_le(bound)},
                hist.start + (np.arange(len(hist.cumulative)) + 1.0) * HOUR,
                hist.cumulative[:, j],
            )
            for j, bound in enumerate(hist.bounds)
        ]
        + [
            promjson.Series(
                {"le": "0.3"},
                hist.start + (np.arange(len(hist.cumulative)) + 1.0)[-48:] * HOUR,
                hist.cumulative[-48:, 1],
            )
        ],
    )

    result = factories.recommend_latency(
        changed, percentile=Decimal(99), window_seconds=28 * 86400, seed=1
    )

    assert result.data_quality.coverage == 1.0
    assert any("le=0.3 is in only part of it" in note for note in result.data_quality.notes)
