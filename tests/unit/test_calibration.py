"""Calibration, fast subset: on processes with known truth, tiers keep their promise out of sample.

The full suite is ``make calibrate`` (``bench/calibrate.py``: every profile, 200 histories,
100,000 future windows). Here three profiles run small: 24 histories each, every tier judged on
20,000 future 28-day windows drawn from the same process (never from the history).

Tolerances. Each profile's breach rate is a mean over histories of the share of future windows
below the tier: its error has two parts, the spread of targets across histories (large: one
90-day history holds a handful of incidents) and the binomial error of the future windows
(``p(1-p)/20,000``: 0.02 points at the 0.1% tier). ``judge.summarize`` gives the 95%
interval from both, and a test asserts what the interval says *for certain*: a goal is missed
only when the whole interval lies above it (a false alarm then has a chance of about 2.5%
per assertion, and the profiles and seeds are fixed, so the outcome is the same on every run).
The last test shows the check can fail: the method without its incident model (tolerance at
the median, a prior that expects no incident) is caught breaching on the rare-large profile.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any
from unittest import mock

import numpy as np
import pytest

from bench import fleets, judge, profiles
from sloreco.core import cleantail, fleetpool, persistence, shift, trend
from sloreco.core import prior as priors

HISTORIES = 24
WINDOWS = 20_000
SEED = 11
#: Issue 8's goals: allowed multiple of the promise per tier.
GOALS = {name: allowed * promise for name, promise, allowed in judge.TIERS}

#: A prior that expects no incident: the method as it was before the incident model.
NO_INCIDENTS = priors.Prior(
    rate_shape=0.001,
    rate_days=1e6,
    size_log_mean=0.0,
    size_strength=1.0,
    size_shape=3.0,
    size_scale=0.01,
    origin="none",
)


def measure(
    name: str, *, prior: object = None, count: int = HISTORIES, fleet: bool = False
) -> dict[str, Any]:
    """One profile's tiers judged; ``fleet``: each history's prior pooled from the profile's
    other histories (``fleets.fleet_prior``), else ``prior`` (None: the default)."""
    fixed = None if prior is None else (lambda profile, pasts, i: prior)
    return judge.run_profile(
        profiles.by_name(name),
        judge.current_engine,
        count=count,
        windows=WINDOWS,
        seed=SEED,
        prior_for=fleets.fleet_prior if fleet else fixed,
    )["tiers"]


@pytest.fixture(scope="module")
def incidents() -> dict[str, Any]:
    return measure("incidents")


@pytest.fixture(scope="module")
def steady() -> dict[str, Any]:
    return measure("steady")


@pytest.mark.parametrize("tier", [name for name, _, _ in judge.TIERS])
def test_tiers_keep_their_promise_with_incidents(incidents: dict[str, Any], tier: str) -> None:
    low, _ = incidents[tier]["breachInterval95"]

    assert low <= GOALS[tier]


@pytest.mark.parametrize("tier", [name for name, _, _ in judge.TIERS])
def test_tiers_keep_their_promise_on_a_steady_service(steady: dict[str, Any], tier: str) -> None:
    low, _ = steady[tier]["breachInterval95"]

    assert low <= GOALS[tier]


def test_aggressive_is_not_bought_with_useless_targets() -> None:
    # "Never breached" must not pass for calibration: under a fleet prior (the default's
    # caution is paid in budget, by design: make calibrate) the loosest tier breaches at the
    # promised order, and the balanced budget is within issue 8's range of the oracle's.
    tiers = measure("incidents", fleet=True)

    assert tiers["aggressive"]["breach"] >= 0.2 * 0.05
    low, high = judge.BUDGET_RANGE
    assert low <= tiers["balanced"]["budgetRatioMedian"] <= high


def test_a_fleet_that_has_seen_rare_large_incidents_covers_a_history_that_has_not() -> None:
    profile = profiles.by_name("rare-large")
    pasts = judge.histories(profile, count=HISTORIES, seed=SEED)
    fleet = fleets.fleet_prior(profile, pasts, 0)
    tiers = measure("rare-large", prior=fleet)

    assert isinstance(fleet, priors.Prior)
    assert fleet.incidents > 0
    assert all(tiers[t]["breachInterval95"][0] <= GOALS[t] for t in GOALS)


def test_a_fleet_that_has_seen_long_outages_covers_the_clean_quarters_the_default_cannot() -> None:
    # A six-hour full outage every 90 days: 37% of histories hold none, and the default prior,
    # sized for 40-minute incidents, breaches balanced about 2x (``make calibrate``). A fleet
    # of such histories keeps every tier, the whole interval under the goal.
    tiers = measure("long-outage", fleet=True, count=OUTAGE_HISTORIES)

    assert all(tiers[t]["breachInterval95"][1] <= GOALS[t] for t in GOALS)


def test_the_check_catches_the_method_without_an_incident_model() -> None:
    plain = dataclasses.replace(judge.SETTINGS, tolerance=0.5)
    saved, judge.SETTINGS = judge.SETTINGS, plain
    try:
        tiers = measure("rare-large", prior=NO_INCIDENTS)
    finally:
        judge.SETTINGS = saved

    low, _ = tiers["conservative"]["breachInterval95"]
    assert low > GOALS["conservative"]
    assert math.isfinite(tiers["balanced"]["breach"])


def test_latency_slis_with_their_bounds_fleet_prior_keep_their_promise_at_a_fair_price() -> None:
    # Each history's prior is pooled from the others judged at its bound (``fleet_prior``); with
    # the default prior instead, balanced budgets were four times the oracle's (make calibrate).
    tiers = measure("latency-incidents", fleet=True)

    assert all(tiers[t]["breachInterval95"][0] <= GOALS[t] for t in GOALS)
    assert 0.67 <= tiers["balanced"]["budgetRatioMedian"] <= 1.5


#: A fleet of 60 services that saw no incident in 90 days: the background carries the tiers.
QUIET_FLEET = fleetpool.pool(
    [priors.ServiceStats(incidents=0, exposure_days=90.0)] * 60, origin="fleet:quiet"
)


def measure_spells() -> dict[str, Any]:
    # Three-day spells of a lognormal background (``persistent-mild``).
    return measure("persistent-mild", prior=QUIET_FLEET)


def test_a_background_that_drifts_in_spells_keeps_its_balanced_promise() -> None:
    tiers = measure_spells()

    low, _ = tiers["balanced"]["breachInterval95"]
    assert low <= GOALS["balanced"]


def test_the_check_catches_spells_read_as_independent_days() -> None:
    # The method before ``core.persistence``: 5-day blocks alone (balanced 2.9% here).
    with mock.patch.object(persistence, "widening", return_value=None):
        tiers = measure_spells()

    low, _ = tiers["balanced"]["breachInterval95"]
    assert low > GOALS["balanced"]


#: The default as first assumed: a median incident of 15 full-outage minutes at the mean traffic;
#: sizes are now costed at the busy hours (``core.busy``: these histories' 1.45 times the mean),
#: so 10 minutes are those 15.
SMALL_INCIDENTS = dataclasses.replace(priors.DEFAULT, size_log_mean=math.log(10.0))
#: Which of a few dozen histories happened to hold an outage moves the breach more than
#: elsewhere: with 24, the 15-minute default's interval reached down to the goal on one seed of
#: three (balanced 1.8x); with 40 it stays above it on all three (3.2-4.2x).
OUTAGE_HISTORIES = 40


def test_a_clean_quarter_that_hides_a_four_hour_outage_keeps_its_balanced_promise() -> None:
    # A full outage of about four hours every 90 days: 37% of histories hold none.
    tiers = measure("quarterly-outage", count=OUTAGE_HISTORIES)

    low, _ = tiers["balanced"]["breachInterval95"]
    assert low <= GOALS["balanced"]


def test_the_check_catches_a_default_that_expects_small_incidents() -> None:
    tiers = measure("quarterly-outage", prior=SMALL_INCIDENTS, count=OUTAGE_HISTORIES)

    low, _ = tiers["balanced"]["breachInterval95"]
    assert low > GOALS["balanced"]


def test_blips_over_a_rare_outage_keep_their_balanced_promise_for_certain() -> None:
    # Blips every 8 days say incidents cost minutes; a four-hour outage every 180 days does not
    # show in most histories (``core.cleantail``). The whole interval lies under the goal: the
    # method without the floor has one that reaches above it (the next test), and so a test of
    # the lower end could not tell the two apart (measured, three seeds: 0.9-2.5x without).
    tiers = measure("blips-and-outage", count=OUTAGE_HISTORIES)

    _, high = tiers["balanced"]["breachInterval95"]
    assert high <= GOALS["balanced"]


def test_the_check_catches_blips_read_as_the_size_of_every_incident() -> None:
    with mock.patch.object(cleantail, "threshold", return_value=np.array([np.inf])):
        tiers = measure("blips-and-outage", count=OUTAGE_HISTORIES)

    _, high = tiers["balanced"]["breachInterval95"]
    assert high > GOALS["balanced"]


def measure_regression() -> dict[str, Any]:
    # A background that tripled two weeks before the history ended and stayed (``regression``).
    return measure("regression", prior=QUIET_FLEET)


def test_a_background_that_rose_and_stayed_keeps_its_aggressive_promise() -> None:
    tiers = measure_regression()

    low, _ = tiers["aggressive"]["breachInterval95"]
    assert low <= GOALS["aggressive"]


def test_the_check_catches_a_rise_replayed_as_the_history_average() -> None:
    # The method before ``core.shift`` and ``core.trend`` (which reads a step as a creep too):
    # the history's two levels bootstrapped as one.
    with (
        mock.patch.object(shift, "find", return_value=None),
        mock.patch.object(trend, "find", return_value=None),
    ):
        tiers = measure_regression()

    low, _ = tiers["aggressive"]["breachInterval95"]
    assert low > GOALS["aggressive"]
