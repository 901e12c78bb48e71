"""bench.bound: the least budget one clean history forces, from the pieces its argument rests on."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bench import bound, processes, profiles

#: Simulated histories per clean-share check: the share's standard error is at most
#: ``sqrt(0.25 / 3000)`` = 0.009, and the tolerance is four of them.
SERIES = 3000


def simulated_clean_share(profile: processes.Profile, seed: int) -> float:
    """The share of the generator's own histories in which no incident ran."""
    rng = np.random.default_rng(seed)
    severity = processes.incident_severity(
        profile, rng, SERIES, profile.history_days * processes.HOURS
    )
    return float(np.mean(~severity.any(axis=1)))


@pytest.mark.parametrize("rate_shape", [0.0, 2.0])
def test_the_clean_share_is_the_generators(rate_shape: float) -> None:
    outage = profiles.by_name("quarterly-outage").with_(rate_shape=rate_shape)

    expected = bound.clean_share(outage)

    assert expected == pytest.approx(simulated_clean_share(outage, seed=5), abs=0.036)


def test_a_rate_that_varies_leaves_more_histories_clean() -> None:
    # Jensen: E[exp(-R T)] exceeds exp(-E[R] T) for a rate that varies; a bound that took the
    # fixed rate's share would claim clean histories are rarer than they are.
    outage = profiles.by_name("quarterly-outage")

    varying = bound.clean_share(outage.with_(rate_shape=2.0))

    assert varying > bound.clean_share(outage) == pytest.approx(math.exp(-1.0))


def test_the_least_budget_is_the_twins_quantile_where_the_allowance_runs_out() -> None:
    # 1,000 windows at 0.000, 0.001, ... 0.999; half the histories clean; 1% allowed: the clean
    # histories may miss in 2% of windows, so the tier is the 20th window's value.
    windows = np.arange(1000) / 1000

    least = bound.least_budget(windows, clean=0.5, allowed_share=0.01)

    assert least == pytest.approx(1.0 - 0.020)


def test_an_allowance_beyond_every_window_needs_no_budget() -> None:
    windows = np.arange(1000) / 1000

    assert bound.least_budget(windows, clean=0.01, allowed_share=0.05) == 0.0


def test_a_twin_has_the_quiet_background_and_the_outages_incidents() -> None:
    quiet, outage = profiles.by_name("persistent"), profiles.by_name("long-outage")

    made = bound.twin(quiet, outage)

    assert (made.background, made.background_persistence) == (
        quiet.background,
        quiet.background_persistence,
    )
    assert (made.incident_rate, made.duration_median_hours, made.severity_mean) == (
        outage.incident_rate,
        outage.duration_median_hours,
        outage.severity_mean,
    )


def test_a_busy_twin_keeps_its_own_incidents_and_adds_the_outages() -> None:
    busy, outage = profiles.by_name("incidents"), profiles.by_name("long-outage")

    made = bound.twin(busy, outage)

    assert (made.incident_rate, made.duration_median_hours) == (
        busy.incident_rate,
        busy.duration_median_hours,
    )
    assert made.also == (*busy.also, outage)


def test_a_twins_clean_share_counts_only_the_outages_incidents_over_the_base_history() -> None:
    # A 30-day service with incidents of its own: its twin's histories drawn as its own are
    # those with no outage in 30 days, however many of its own incidents they hold.
    busy, outage = profiles.by_name("short-30d"), profiles.by_name("quarterly-outage")

    share = bound.outage_clean_share(busy, outage)

    assert share == pytest.approx(math.exp(-outage.incident_rate * 30))
    assert share == pytest.approx(
        simulated_clean_share(outage.with_(history_days=30), seed=7), abs=0.036
    )
