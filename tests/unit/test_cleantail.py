"""A history's incidents never make its tail thinner than a clean history's (``core.cleantail``)."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sloreco.core import cleantail, history, sizeshape
from tests import factories

WINDOW = 28 * 86400
SHAPE = (sizeshape.DEFAULT_QUANTILES, sizeshape.DEFAULT_TAIL)


@settings(max_examples=20, deadline=None)
@given(
    scale=st.floats(0.2, 1.5),
    xi=st.floats(-0.23, 0.5),
    z=st.floats(-2.0, 6.0),
)
def test_the_survival_function_is_the_share_of_draws_above(
    scale: float, xi: float, z: float
) -> None:
    tail = (scale, xi)
    draws = sizeshape.draw_shape(
        sizeshape.DEFAULT_QUANTILES, tail, np.random.default_rng(1), 200_000
    )
    share = float(np.mean(draws > z))
    expected = float(sizeshape.survival(sizeshape.DEFAULT_QUANTILES, tail, np.array([z]))[0])
    # Binomial error of 200,000 draws (4.5 standard errors), and the table's cells: draws below
    # the exactly drawn top 1% come from a table of 8,192 midpoints.
    tolerance = 4.5 * np.sqrt(expected * (1 - expected) / 200_000) + 1.5 / 8192
    assert share == pytest.approx(expected, abs=tolerance)


def _tail(rate: float, median_minutes: float, spread: float, rows: int = 4) -> cleantail.Tail:
    return cleantail.Tail(
        np.full(rows, rate), np.full(rows, np.log(median_minutes)), np.full(rows, spread), SHAPE
    )


def test_where_the_own_tail_is_heavier_everywhere_nothing_joins() -> None:
    own = _tail(rate=0.5, median_minutes=60.0, spread=1.2)
    clean = _tail(rate=0.005, median_minutes=40.0, spread=1.2)

    above = cleantail.threshold(own, clean)

    assert np.isinf(above).all()
    assert len(cleantail.joined(clean, above, np.random.default_rng(2), exposure=1e6).row) == 0


def test_tiny_incidents_are_joined_by_a_clean_historys_larger_ones() -> None:
    own = _tail(rate=0.1, median_minutes=2.0, spread=0.5)  # blips of two minutes
    clean = _tail(rate=0.005, median_minutes=40.0, spread=1.2)

    above = cleantail.threshold(own, clean)
    joined = cleantail.joined(clean, above, np.random.default_rng(3), exposure=1e6)

    # The clean tail leads from about the own 95% point (0.1 x 5% = 0.005): four minutes.
    assert np.exp(above) == pytest.approx(np.full(4, 4.0), rel=0.25)
    assert (joined.logs > above[joined.row]).all()
    for minutes in (60.0, 600.0):
        above_size = int(np.count_nonzero(joined.logs > np.log(minutes)))
        z = (np.log(minutes) - clean.location[0]) / clean.spread[0]
        expected = 4 * 1e6 * 0.005 * float(sizeshape.survival(*SHAPE, np.array([z]))[0])
        # Poisson counts of some 1,800 and 300: within 4.5 standard errors.
        assert above_size == pytest.approx(expected, abs=4.5 * np.sqrt(expected))


def _blipped() -> tuple[history.AvailabilityHistory, history.AvailabilityHistory]:
    """90 hourly days at 0.02% errors, and the same with two one-hour blips of 5% failing
    (three full-outage minutes each)."""
    clean = factories.steady_availability(
        90 * 24, requests_per_day=2000, error_ratio=0.0002, bucket_seconds=3600, seed=3
    )
    blipped = factories.with_incident(clean, first=500, buckets=1, error_ratio=0.05)
    return clean, factories.with_incident(blipped, first=1500, buckets=1, error_ratio=0.05)


def _balanced(hist: history.AvailabilityHistory) -> float:
    result = factories.recommend_availability(hist, window_seconds=WINDOW, seed=1)
    return float(result.tier("balanced").target)


def test_two_blips_are_not_read_as_safer_than_a_clean_history() -> None:
    clean, blipped = _blipped()

    result = factories.recommend_availability(blipped, window_seconds=WINDOW, seed=1, observe=True)

    assert dict(result.incidents)["availability"].incidents == 2
    assert _balanced(blipped) <= _balanced(clean)
    assert any("do not rule out larger ones" in note for note in result.data_quality.notes)


def test_the_check_catches_blips_that_set_the_size_of_every_incident() -> None:
    clean, blipped = _blipped()

    with mock.patch.object(cleantail, "threshold", return_value=np.array([np.inf])):
        assert _balanced(blipped) > _balanced(clean)
