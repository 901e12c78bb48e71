"""``core.burnrate``: the screened evaluation gives exactly what every minute evaluated gives.

The reference below is the replay as it was before screening (every window at every evaluation,
from cumulative counts interpolated on the whole one-minute grid); the screened one must agree
with it bit for bit — same evaluations holding, same pages, tickets and detections — on random
histories, on histories whose error ratio sits exactly on a threshold, with gaps, with buckets
finer than the alert windows and with buckets that do not fall on evaluations.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sloreco.core import alerting, burnrate, history

HOUR = 3600
DAY = 86400
START = 1714521600
TARGETS = ("99.99", "99.9", "99.5", "99", "95")


def _reference(
    data: alerting.Events, budget: float, step: int = alerting.EVALUATION_SECONDS
) -> tuple[history.FloatArray, dict[str, history.BoolArray]]:
    """Every window at every evaluation: the replay's definition, computed the long way."""
    grid = data.start + step * np.arange((data.end - data.start) // step + 1, dtype=np.float64)
    edges = data.start + data.bucket_seconds * np.arange(len(data.total) + 1, dtype=np.float64)
    cum_total = np.interp(grid, edges, np.concatenate([[0.0], np.cumsum(data.total)]))
    cum_bad = np.interp(grid, edges, np.concatenate([[0.0], np.cumsum(data.bad)]))
    count = len(grid) - 1

    def window(cumulative: history.FloatArray, lag: int) -> history.FloatArray:
        at = np.arange(1, count + 1)
        return cumulative[at] - cumulative[np.maximum(at - lag, 0)]

    found = {}
    for severity in alerting.SEVERITIES:
        fires = np.zeros(count, dtype=np.bool_)
        for w in severity.windows:
            threshold = float(w.factor) * budget
            holds = np.ones(count, dtype=np.bool_)
            for length in (w.long, w.short):
                total = window(cum_total, length // step)
                bad = window(cum_bad, length // step)
                holds &= (total > 1e-6) & (bad > threshold * total)
            fires |= holds
        found[severity.name] = fires
    return grid[1:], found


def _reference_cost(
    data: alerting.Events, target: Decimal, incidents: Sequence[tuple[int, int]]
) -> alerting.Cost:
    budget = float((Decimal(100) - target) / Decimal(100))
    times, fires = _reference(data, budget)
    page = fires["page"]
    present = float(np.count_nonzero(data.present)) * data.bucket_seconds
    per_window = float(data.total.sum()) / present * (28 * DAY) if present else 0.0
    edges = data.start + data.bucket_seconds * np.arange(len(data.total) + 1, dtype=np.float64)
    cum_bad = np.concatenate([[0.0], np.cumsum(data.bad)])
    detections = []
    for start, end in incidents:
        hits = np.flatnonzero(page & (times >= start) & (times <= end + 1800))
        if not len(hits):
            detections.append(alerting.Detection(start, end, None, None))
            continue
        at = float(times[hits[0]])
        burned = float(np.interp(at, edges, cum_bad) - np.interp(float(start), edges, cum_bad))
        events = budget * per_window
        detections.append(
            alerting.Detection(start, end, int(at) - start, burned / events if events else None)
        )
    return alerting.Cost(
        pages=len(history.runs(page)),
        tickets=len(history.runs(fires["ticket"])),
        days=present / DAY,
        detections=tuple(detections),
    )


def _events(total: np.ndarray, bad: np.ndarray, bucket: int = HOUR) -> alerting.Events:
    return alerting.Events(START, bucket, total, bad, total > 0)


def _assert_same(data: alerting.Events, incidents: Sequence[tuple[int, int]] = ()) -> None:
    grid = alerting.prepare(data)
    for target in TARGETS:
        budget = float((Decimal(100) - Decimal(target)) / Decimal(100))
        times, fires = alerting.conditions(grid, budget)
        want_times, want = _reference(data, budget)
        assert np.array_equal(times, want_times)
        for name in want:
            assert np.array_equal(fires[name], want[name]), (target, name)
    costs = alerting.costs(
        data,
        targets=[Decimal(t) for t in TARGETS],
        window_seconds=28 * DAY,
        incidents=incidents,
        grid=grid,
    )
    for target, found in zip(TARGETS, costs, strict=True):
        assert found == _reference_cost(data, Decimal(target), incidents)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    days=st.integers(1, 12),
    bucket=st.sampled_from([HOUR, 300, 1800, 7200, 90, 3601]),
    spread=st.floats(0.2, 3.0),
)
def test_screened_equals_every_minute_on_random_histories(
    seed: int, days: int, bucket: int, spread: float
) -> None:
    rng = np.random.default_rng(seed)
    n = max(1, days * DAY // bucket)
    total = rng.poisson(rng.uniform(1, 5000), n).astype(np.float64)
    total[rng.random(n) < 0.05] = 0.0  # gaps
    ratios = np.clip(rng.lognormal(np.log(0.0005), spread, n), 0, 1)
    for _ in range(rng.integers(0, 4)):  # incidents
        at = int(rng.integers(0, n))
        ratios[at : at + int(rng.integers(1, 8))] = rng.uniform(0.001, 1)
    bad = np.round(total * ratios)
    incidents = [
        (START + int(a) * bucket, START + int(a + rng.integers(1, 6)) * bucket)
        for a in rng.integers(0, n, 3)
    ]
    _assert_same(_events(total, bad, bucket), incidents)


@pytest.mark.parametrize("factor", [Decimal("14.4"), Decimal("6"), Decimal("3"), Decimal("1")])
@pytest.mark.parametrize("target", ["99.9", "99.5"])
def test_screened_equals_every_minute_exactly_on_a_threshold(factor: Decimal, target: str) -> None:
    """A constant error ratio equal to a rule's threshold: ``bad > x * total`` is decided by
    rounding alone at every minute, which only the exact evaluation may decide."""
    budget = (Decimal(100) - Decimal(target)) / Decimal(100)
    total = np.full(24 * 5, 6000.0)
    bad = total * float(factor * budget)
    bad[50:53] *= 3  # and an incident on top
    _assert_same(_events(total, bad), [(START + 50 * HOUR, START + 53 * HOUR)])


def test_nothing_is_evaluated_where_nothing_can_hold() -> None:
    """The point of screening: a quiet history's buckets are all skipped but the first (at the
    history's start every window is empty, a margin of exactly 0, which is not below it)."""
    total = np.full(24 * 30, 6000.0)
    grid = alerting.prepare(_events(total, total * 0.0001))
    [held] = burnrate.holds(grid, alerting.RULES, [0.001])
    assert np.array_equal(burnrate.candidates(grid, alerting.RULES, [0.001]), np.arange(60))
    assert all(on.size == 0 for on in held.values())


def test_a_new_services_empty_months_are_skipped() -> None:
    """Before a service's first request every window is empty (a margin of exactly 0): nothing
    can hold there, and only the buckets from its first traffic on are evaluated."""
    total = np.concatenate([np.zeros(24 * 80), np.full(24 * 10, 6000.0)])
    bad = total * 0.0001
    bad[24 * 85 : 24 * 85 + 3] = total[24 * 85 : 24 * 85 + 3] * 0.5  # an incident
    data = _events(total, bad)
    grid = alerting.prepare(data)

    assert burnrate.candidates(grid, alerting.RULES, [0.001]).min() >= 24 * 80 * 60
    _assert_same(data, [(START + 24 * 85 * HOUR, START + (24 * 85 + 3) * HOUR)])


def test_an_empty_history() -> None:
    _assert_same(_events(np.zeros(0), np.zeros(0)))
