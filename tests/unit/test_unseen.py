"""Background events a quiet history did not show (``core.unseen``)."""

from __future__ import annotations

from unittest import mock

import numpy as np

from bench import judge
from bench.processes import Profile
from sloreco.core import fleetpool, unseen
from sloreco.core import prior as priors

OUTER, INNER = 128, 500
#: 28-day windows of a 90-day history's traffic: each window holds 28/90 of its requests.
HISTORY_REQUESTS = 90 * 2_300.0
WINDOW_REQUESTS = 28 * 2_300.0


def windows_after(requests: float, seed: int = 1) -> np.ndarray:
    clean = np.ones((OUTER, INNER))
    totals = np.full((OUTER, INNER), requests * 28 / 90)
    return unseen.add(clean, totals, requests, np.random.default_rng(seed))


def test_a_window_gets_half_an_event_times_its_share_of_the_history() -> None:
    lost = (1.0 - windows_after(HISTORY_REQUESTS)) * WINDOW_REQUESTS

    # Jeffreys' Gamma(1/2) over the history's requests, at 28 of its 90 days: 0.156 events.
    assert 0.12 < lost.mean() < 0.19


def test_a_busy_history_barely_moves() -> None:
    lost = 1.0 - windows_after(1e9)

    assert lost.max() < 1e-7


def test_pseudo_histories_differ_by_their_rate_not_by_noise() -> None:
    lost = 1.0 - windows_after(HISTORY_REQUESTS)
    per_row = lost.sum(axis=1)
    ranked = np.argsort(per_row)

    # Common random numbers: a row with more unseen events has every event of a row with fewer.
    fewer, more = lost[ranked[OUTER // 4]], lost[ranked[-1]]
    assert np.all(more >= fewer)


def test_the_same_generator_gives_the_same_windows() -> None:
    assert np.array_equal(windows_after(HISTORY_REQUESTS, 3), windows_after(HISTORY_REQUESTS, 3))


#: 96 requests an hour and 0.003% errors: a 30-day history holds no error one time in six.
QUIET = Profile(
    "quiet",
    "a service too quiet to show its errors",
    history_days=30,
    requests_per_hour=96.0,
    background=0.0000264,
    background_shape=3.6,
)
#: A fleet of such services: no incident anywhere.
QUIET_FLEET = fleetpool.pool(
    [priors.ServiceStats(incidents=0, exposure_days=30.0)] * 40, origin="fleet:quiet"
)


def recommend_without_errors() -> list[judge.TierTarget]:
    total = np.full(30 * 24, 96.0)
    return judge.current_engine(QUIET, total, np.zeros_like(total), 0, QUIET_FLEET)


def test_a_history_without_errors_never_promises_a_perfect_window() -> None:
    tiers = recommend_without_errors()

    assert all(t.target < 1.0 for t in tiers)


def test_the_check_catches_the_bootstrap_alone_promising_perfection() -> None:
    with mock.patch.object(unseen, "add", side_effect=lambda windows, *args: windows):
        tiers = recommend_without_errors()

    # Without the check the loosest tier promises a perfect window. (Balanced sits at the
    # edge: the quiet fleet's rate, half an incident over its 1,200 days, puts one in about
    # 1.2% of its windows, so whether its 1% point holds an incident depends on the draws.)
    assert [t.target for t in tiers if t.name == "aggressive"] == [1.0]


def test_the_explanation_says_the_history_was_too_quiet() -> None:
    total = np.full(30 * 24, 96.0)
    result = judge.engine_result(QUIET, total, np.zeros_like(total), 0, QUIET_FLEET)

    note = next(n for n in result.data_quality.notes if n.startswith("Incident model"))
    # 28 of 30 days: half an event times 28/30.
    assert "holds no bad events outside incidents" in note
    assert "about 0.47 a 28d window that it did not show" in note
