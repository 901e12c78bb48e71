"""Properties of the method over generated histories (Hypothesis; strategies in one place)."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from unittest import mock

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sloreco import errors
from sloreco.core import evidence, history, persistence
from sloreco.render import crd
from tests import factories, strategies

WINDOW = 28 * 86400
#: Each example runs whole recommendations; 60 keeps the suite fast and still explores.
EXAMPLES = settings(max_examples=60, deadline=None)


def recommend(hist: history.AvailabilityHistory, seed: int) -> dict[str, object]:
    result = factories.recommend_availability(
        hist, window_seconds=WINDOW, seed=seed, settings=strategies.FAST
    )
    return crd.recommendation_spec(result)


def targets(spec: dict[str, object]) -> list[float]:
    return [float(t["target"]) for t in spec["tiers"]]  # type: ignore[attr-defined]


@EXAMPLES
@given(strategies.availability_histories(), strategies.seeds)
def test_availability_tiers_are_ordered(hist: history.AvailabilityHistory, seed: int) -> None:
    found = targets(recommend(hist, seed))

    assert found == sorted(found)


@EXAMPLES
@given(strategies.availability_histories(), strategies.seeds)
def test_targets_and_intervals_are_percentages(
    hist: history.AvailabilityHistory, seed: int
) -> None:
    spec = recommend(hist, seed)
    numbers = [
        float(value)
        for tier in spec["tiers"]  # type: ignore[attr-defined]
        for value in (
            tier["target"],
            tier["confidenceInterval"]["lower"],
            tier["confidenceInterval"]["upper"],
        )
    ]

    assert all(0 <= n <= 100 for n in numbers)


@EXAMPLES
@given(strategies.availability_histories(), strategies.seeds)
def test_same_inputs_and_seed_give_the_same_bytes(
    hist: history.AvailabilityHistory, seed: int
) -> None:
    copy = dataclasses.replace(hist, total=hist.total.copy(), bad=hist.bad.copy())

    assert json.dumps(recommend(copy, seed)) == json.dumps(recommend(hist, seed))


@EXAMPLES
@given(
    strategies.availability_histories(),
    strategies.seeds,
    st.integers(min_value=0),
    st.floats(min_value=0.0, max_value=1.0),
)
def test_a_worse_day_that_is_no_incident_never_raises_a_target(
    hist: history.AvailabilityHistory, seed: int, pick: int, worse: float
) -> None:
    # Same traffic, more failures on one day. The background is bootstrapped with common random
    # numbers, so every simulated background window can only get worse. The incident model
    # learns from what it sees (issue 8), and is not monotone: a third incident as large as the
    # first two narrows the size distribution and can raise a tier (a true Bayesian answer).
    # So the property is the background's: when the incidents found are the same before and
    # after (same count, same sizes), no tier may rise. The background's persistence reading
    # (``core.persistence``) learns too: a worse day can read as a smaller relative spread or a
    # weaker day-to-day correlation and narrow what it adds, so it is held out here and the
    # property is the bootstrap's.
    per_day = 86400 // hist.bucket_seconds
    day = pick % (len(hist.total) // per_day)
    bad = hist.bad.copy()
    span = slice(day * per_day, (day + 1) * per_day)
    bad[span] += np.floor((hist.total[span] - bad[span]) * worse)
    worse_hist = dataclasses.replace(hist, bad=bad)
    assume(_incidents(worse_hist) == _incidents(hist))

    with mock.patch.object(persistence, "widening", return_value=None):
        before = targets(recommend(hist, seed))
        after = targets(recommend(worse_hist, seed))

    assert [min(a, b) for a, b in zip(after, before, strict=True)] == after


def _incidents(hist: history.AvailabilityHistory) -> list[float]:
    total, bad, present = history.clean_availability(hist)
    found = evidence.of(bad, total, present, bucket_seconds=hist.bucket_seconds)
    return [float(x) for x in found.log_sizes]


@EXAMPLES
@given(
    strategies.availability_histories(),
    strategies.seeds,
    st.lists(st.tuples(st.integers(0, 40 * 86400), st.integers(1, 3 * 86400)), max_size=3),
)
def test_exclusions_remove_exactly_their_buckets(
    hist: history.AvailabilityHistory, seed: int, windows: list[tuple[int, int]]
) -> None:
    exclusions = [history.Exclusion(hist.start + a, hist.start + a + n) for a, n in windows]
    starts = hist.start + hist.bucket_seconds * np.arange(len(hist.total))
    touched = np.zeros(len(hist.total), dtype=np.bool_)
    for e in exclusions:
        touched |= (starts < e.end) & (starts + hist.bucket_seconds > e.start)

    excluded = history.exclude(hist, exclusions)

    assert excluded.excluded.tolist() == touched.tolist()
    assert (~np.isnan(excluded.total)).tolist() == (~touched).tolist()


@EXAMPLES
@given(strategies.availability_histories(min_days=12), strategies.seeds)
def test_excluded_buckets_weigh_exactly_like_missing_ones(
    hist: history.AvailabilityHistory, seed: int
) -> None:
    exclusion = history.Exclusion(hist.start, hist.start + 2 * 86400)
    missing = hist.total.copy(), hist.bad.copy()
    per_day = 86400 // hist.bucket_seconds
    missing[0][: 2 * per_day] = missing[1][: 2 * per_day] = np.nan

    excluded = recommend(history.exclude(hist, [exclusion]), seed)
    blank = recommend(dataclasses.replace(hist, total=missing[0], bad=missing[1]), seed)

    assert excluded["tiers"] == blank["tiers"]


@EXAMPLES
@given(strategies.latency_histories(), strategies.seeds)
def test_latency_thresholds_loosen_with_confidence(hist: history.LatencyHistory, seed: int) -> None:
    result = factories.recommend_latency(
        hist, percentile=Decimal("99"), window_seconds=WINDOW, seed=seed, settings=strategies.FAST
    )
    spec = crd.recommendation_spec(result)
    thresholds = [float(t["threshold"]) for t in spec["tiers"]]  # type: ignore[attr-defined]

    assert thresholds == sorted(thresholds, reverse=True)


@EXAMPLES
@given(strategies.latency_histories(), strategies.seeds)
def test_latency_targets_are_percentages_at_a_bound(
    hist: history.LatencyHistory, seed: int
) -> None:
    result = factories.recommend_latency(
        hist, percentile=Decimal("99"), window_seconds=WINDOW, seed=seed, settings=strategies.FAST
    )

    assert all(0 <= t.target <= 100 and t.bucket_bound in hist.bounds for t in result.tiers)


def tiers_or_reason(
    hist: history.AvailabilityHistory | history.LatencyHistory, seed: int
) -> list[float] | str:
    """The tiers' targets, or the message of the error that says why there are none."""
    try:
        if isinstance(hist, history.LatencyHistory):
            result = factories.recommend_latency(
                hist,
                percentile=Decimal(99),
                window_seconds=WINDOW,
                seed=seed,
                settings=strategies.FAST,
            )
            return [float(t.target) for t in result.tiers]
        return targets(recommend(hist, seed))
    except errors.SlorecoError as exc:
        return str(exc)


@EXAMPLES
@given(strategies.punched_histories(latency=False), strategies.seeds)
def test_any_punched_availability_history_gives_tiers_or_says_why(
    hist: history.AvailabilityHistory, seed: int
) -> None:
    # Stretches without requests before a backtest origin once left its pool shorter than the
    # blocks drawn: an IndexError instead of a recommendation.
    found = tiers_or_reason(hist, seed)

    assert found == sorted(found) if isinstance(found, list) else found


@EXAMPLES
@given(strategies.punched_histories(latency=True), strategies.seeds)
def test_any_punched_latency_history_gives_tiers_or_says_why(
    hist: history.LatencyHistory, seed: int
) -> None:
    found = tiers_or_reason(hist, seed)

    assert len(found) == 3 if isinstance(found, list) else found
