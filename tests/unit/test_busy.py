"""An outage the history did not show is costed at the service's busy hours (``core.busy``)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from sloreco.core import busy, evidence, predictive
from sloreco.core import prior as priors
from tests import factories

HOUR = 3600
DAYS = 90


def hourly(shape: np.ndarray, *, per_hour: float, seed: int = 1) -> np.ndarray:
    """Poisson requests an hour around ``per_hour`` times a repeating ``shape``."""
    mean = per_hour * np.resize(shape, DAYS * 24)
    return np.random.default_rng(seed).poisson(mean).astype(np.float64)


SERVED = np.ones(DAYS * 24, dtype=np.bool_)
DIURNAL = 1.0 + 0.5 * np.sin(2 * np.pi * (np.arange(24) - 9) / 24)


def test_flat_traffic_costs_an_outage_at_its_mean() -> None:
    flat = hourly(np.ones(24), per_hour=2000)

    assert busy.factor(flat, SERVED, bucket_seconds=HOUR) == pytest.approx(1.0, abs=0.01)


def test_a_daily_rhythm_costs_an_outage_at_its_busy_hours() -> None:
    # The 90th percentile of 1 + 0.5 sin over the day is 1 + 0.5 sin(0.4 pi) = 1.476.
    found = busy.factor(hourly(DIURNAL, per_hour=2000), SERVED, bucket_seconds=HOUR)

    assert found == pytest.approx(1.476, abs=0.02)


def test_quiet_weekends_raise_the_busy_hours_over_the_weeks_mean() -> None:
    week = np.concatenate([np.tile(DIURNAL, 5), 0.3 * np.tile(DIURNAL, 2)])

    found = busy.factor(hourly(week, per_hour=2000), SERVED, bucket_seconds=HOUR)

    assert found == pytest.approx(1.476 / (5.6 / 7), rel=0.04)


def test_a_trickle_without_a_rhythm_reads_none_from_its_noise() -> None:
    # At 2 requests an hour single hours' 90th percentile is twice the mean.
    trickle = hourly(np.ones(24), per_hour=2.0, seed=3)

    assert np.percentile(trickle, 90) >= 2 * trickle.mean()
    assert busy.factor(trickle, SERVED, bucket_seconds=HOUR) < 1.1


def test_only_an_assumed_size_is_costed_at_the_busy_hours() -> None:
    seen = evidence.Evidence(
        calm_daily=np.zeros(DAYS),
        log_sizes=np.zeros(0),
        exposure_days=float(DAYS),
        incidents=0,
        daily_total=np.ones(DAYS),
        normal=np.zeros(DAYS * 24),
        flagged=np.zeros(DAYS * 24, dtype=np.bool_),
        busy=1.5,
    )
    fleet = priors.Prior(
        rate_shape=2.0, rate_days=400.0, size_log_mean=math.log(40.0), size_strength=5.0,
        size_shape=5.0, size_scale=4.0, services=20, incidents=30,
    )  # fmt: skip

    assumed = predictive.Posterior.of(priors.DEFAULT, seen)
    pooled = predictive.Posterior.of(fleet, seen)

    assert assumed.median_minutes() == pytest.approx(
        1.5 * predictive.Posterior.given(priors.DEFAULT, seen.log_sizes, DAYS).median_minutes()
    )
    assert pooled.median_minutes() == pytest.approx(
        predictive.Posterior.given(fleet, seen.log_sizes, DAYS).median_minutes()
    )


def test_the_explanation_says_at_what_traffic_an_unseen_outage_was_costed() -> None:
    quiet = factories.hourly_availability(np.full(DAYS, 0.001), seed=2)
    total = np.round(quiet.total * np.resize(DIURNAL, len(quiet.total)))
    hist = dataclasses.replace(quiet, total=total, bad=np.round(total * 0.001))

    result = factories.recommend_availability(hist, window_seconds=28 * 86400, seed=1)

    assert "costed at this service's busy-hour traffic (1.4" in result.explanation.summary
