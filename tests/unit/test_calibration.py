"""Calibration: on a process with known behaviour, tiers keep their promise out of sample.

The process: independent days, ~100,000 requests each, each day's error ratio drawn from a
gamma distribution (mean 0.1%, a steady service with ordinary day-to-day variation). For each
of ``HISTORIES`` independent 365-day histories we compute the tiers, then measure how often
``FUTURE`` fresh 28-day windows from the *true* process miss each tier.

The tolerance accounts for both sources of error:

* Monte Carlo of the future windows: with 100,000 windows the standard error of a 0.1% share is
  0.01 points (10% of it) — allowed for with three standard errors;
* estimation from a finite history: each history's tiers are off in its own direction, so the
  promise is about the average over histories (the breach rate a team would see across
  services), which is what the test averages; 24 histories keep that average within ~25%.

It checks the direction that matters — tiers must not breach much more often than promised
(at most 1.5x) — and, so that "never breached" cannot pass for calibration, that the aggressive
tier does breach at a rate of the promised order. And it can fail: taking targets at the median
across pseudo-histories (about the plain estimate from one history's simulations) breaches the
99.9% tier 2.5x as often as promised on this very process, which the last test shows.
"""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest

from sloreco.core import history, method
from tests import factories

WINDOW_DAYS = 28
HISTORY_DAYS = 365
HISTORIES = 24
FUTURE = 100_000
#: Fine rounding, so the test measures the statistics and not the rounding down (which only
#: ever makes targets safer).
SETTINGS = method.MethodSettings(precision=Decimal("0.0001"), backtest_step_days=HISTORY_DAYS)


def days(rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray]:
    total = rng.poisson(100_000, count).astype(np.float64)
    ratio = rng.gamma(2.0, 0.0005, count)
    bad = rng.binomial(total.astype(np.int64), np.minimum(ratio, 1.0)).astype(np.float64)
    return total, bad


def breach_rates(
    settings: method.MethodSettings = SETTINGS,
) -> tuple[dict[str, float], dict[str, float]]:
    """Mean true breach rate and mean reported breach probability, per tier."""
    rng = np.random.default_rng(20240501)
    total, bad = days(rng, FUTURE * WINDOW_DAYS)
    future = np.sort(
        1 - bad.reshape(FUTURE, WINDOW_DAYS).sum(1) / total.reshape(FUTURE, WINDOW_DAYS).sum(1)
    )
    actual: dict[str, list[float]] = {name: [] for name in SETTINGS.names}
    reported: dict[str, list[float]] = {name: [] for name in SETTINGS.names}
    for seed in range(HISTORIES):
        total, bad = days(rng, HISTORY_DAYS)
        past = history.AvailabilityHistory(86400, 0, total, bad, np.zeros(HISTORY_DAYS, bool))
        result = factories.recommend_availability(
            past, window_seconds=WINDOW_DAYS * 86400, seed=seed, settings=settings
        )
        for tier in result.tiers:
            missed = np.searchsorted(future, float(tier.target) / 100, side="left") / FUTURE
            actual[tier.name].append(float(missed))
            reported[tier.name].append(tier.breach_probability)
    return (
        {name: float(np.mean(v)) for name, v in actual.items()},
        {name: float(np.mean(v)) for name, v in reported.items()},
    )


Rates = tuple[dict[str, float], dict[str, float]]


@pytest.fixture(scope="module")
def rates() -> Rates:
    return breach_rates()


def allowed(promised: float) -> float:
    return 1.5 * promised + 3 * math.sqrt(promised / FUTURE)


def test_conservative_does_not_breach_more_than_promised(rates: Rates) -> None:
    assert rates[0]["conservative"] <= allowed(0.001)


def test_balanced_does_not_breach_more_than_promised(rates: Rates) -> None:
    assert rates[0]["balanced"] <= allowed(0.01)


def test_aggressive_does_not_breach_more_than_promised(rates: Rates) -> None:
    assert rates[0]["aggressive"] <= allowed(0.05)


def test_aggressive_breaches_at_the_promised_order(rates: Rates) -> None:
    assert rates[0]["aggressive"] >= 0.2 * 0.05


def test_reported_breach_probability_is_not_optimistic(rates: Rates) -> None:
    # The honest figure may err on the safe side, but must not hide more than half the risk.
    actual, reported = rates

    assert all(
        actual[name] <= 2 * reported[name] + 3 * math.sqrt(actual[name] / FUTURE) for name in actual
    )


def test_the_check_catches_an_overconfident_method() -> None:
    plain = method.MethodSettings(
        precision=Decimal("0.0001"), backtest_step_days=HISTORY_DAYS, tolerance=0.5
    )

    overconfident, _ = breach_rates(plain)

    assert overconfident["conservative"] > allowed(0.001)
