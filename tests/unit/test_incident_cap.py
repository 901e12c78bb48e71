"""incidentloss.cap: three days of full outage, unless the fleet saw a larger incident."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from sloreco.core import evidence, fleetpool, incidentloss, predictive
from sloreco.core import prior as priors

DAY = 1440.0


def _posterior(largest_minutes: float) -> predictive.Posterior:
    fleet = dataclasses.replace(
        fleetpool.pool([priors.ServiceStats(2, 90.0, 8.0, 33.0)] * 10, origin="f"),
        largest_minutes=largest_minutes,
    )
    quiet = evidence.of(
        np.zeros(24 * 90), np.full(24 * 90, 100.0), np.ones(24 * 90, bool), bucket_seconds=3600
    )
    return predictive.Posterior.of(fleet, quiet)


def test_an_incident_is_capped_at_three_days_where_the_fleet_saw_none_larger() -> None:
    assert incidentloss.cap(_posterior(600.0), window_days=28) == pytest.approx(math.log(3 * DAY))


def test_a_fleets_larger_incident_raises_the_cap_to_its_size() -> None:
    assert incidentloss.cap(_posterior(7 * DAY), window_days=28) == pytest.approx(math.log(7 * DAY))


def test_no_incident_costs_more_than_the_whole_window() -> None:
    assert incidentloss.cap(_posterior(40 * DAY), window_days=28) == pytest.approx(
        math.log(28 * DAY)
    )


def test_the_default_prior_keeps_three_days() -> None:
    quiet = evidence.of(
        np.zeros(24 * 90), np.full(24 * 90, 100.0), np.ones(24 * 90, bool), bucket_seconds=3600
    )
    posterior = predictive.Posterior.of(priors.DEFAULT, quiet)

    assert incidentloss.cap(posterior, window_days=28) == pytest.approx(math.log(3 * DAY))
