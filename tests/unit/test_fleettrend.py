"""How its fleet's backgrounds creep (``core.fleettrend``), and a creep read with it."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sloreco import errors
from sloreco.core import evidence, fleetpool, fleettrend, priordoc, trend
from sloreco.core import prior as priors
from sloreco.core.fleettrend import FleetGrowth, Reading
from tests import factories

DAYS = 90
#: A doubling every 60 days, the calibration suite's ``creep``.
DOUBLING_60 = math.log(2) / 60


def test_a_fleet_that_creeps_alike_is_read_at_its_growth_and_narrowly() -> None:
    readings = [Reading(DOUBLING_60 * (1 + 0.1 * (-1) ** i), DOUBLING_60 / 5) for i in range(20)]

    fleet = fleettrend.pool(readings)

    assert fleet is not None
    assert fleet.mean == pytest.approx(DOUBLING_60, rel=0.02)
    # the readings spread less than their errors: no spread between services is read, and a
    # new service's growth is known to the mean's own error, the reading's over sqrt(20)
    assert fleet.spread == pytest.approx(DOUBLING_60 / 5 / math.sqrt(20), rel=0.01)
    assert fleet.services == 20


def test_a_fleet_whose_growths_differ_more_than_their_errors_reads_that_spread() -> None:
    readings = [Reading(0.02 * (i % 2), 0.001) for i in range(20)]  # half creep, half do not

    fleet = fleettrend.pool(readings)

    assert fleet is not None
    assert fleet.spread == pytest.approx(0.01, rel=0.1)


def test_fewer_than_five_readings_make_no_fleet_reading() -> None:
    assert fleettrend.pool([Reading(0.01, 0.002)] * 4) is None


@given(
    own=st.floats(-0.05, 0.05),
    error=st.floats(1e-4, 0.05),
    mean=st.floats(-0.05, 0.05),
    spread=st.floats(1e-4, 0.05),
)
def test_a_shrunk_growth_lies_between_its_own_and_its_fleets_and_is_known_better(
    own: float, error: float, mean: float, spread: float
) -> None:
    shrunk = fleettrend.posterior(Reading(own, error), FleetGrowth(mean, spread, 10))

    assert min(own, mean) - 1e-12 <= shrunk.growth <= max(own, mean) + 1e-12
    assert shrunk.error <= min(error, spread)


def _pool(shares: np.ndarray, seed: int) -> np.ndarray:
    return factories.daily_pool(shares, seed=seed)


def test_a_weak_creep_in_a_fleet_that_creeps_is_forecast_as_one() -> None:
    # Histories doubling every 120 days whose own statistic stays under the threshold; their
    # fleet's services all creep at about the rate.
    rate = DOUBLING_60 / 2
    creeping = FleetGrowth(rate, rate / 20, 40)
    shares = factories.creeping_shares(DAYS, doubling_days=120, series=60, seed=7)
    weak = [
        pool
        for pool in (_pool(row, seed=i) for i, row in enumerate(shares))
        if trend.find(pool) is None
    ]
    assert len(weak) >= 3

    found = [trend.find(pool, creeping) for pool in weak]

    assert all(t is not None and t.pooled for t in found)
    assert all(t.growth == pytest.approx(rate, rel=0.1) for t in found if t is not None)


def test_a_chance_creep_in_a_fleet_that_does_not_creep_is_not_forecast() -> None:
    flat = FleetGrowth(0.0, 0.0005, 100)
    shares = factories.creeping_shares(DAYS, doubling_days=np.inf, series=400, seed=8)
    chance = [
        pool
        for pool in (_pool(row, seed=i) for i, row in enumerate(shares))
        if trend.find(pool) is not None
    ]
    assert chance  # steady histories that read a creep alone
    assert not trend.leans(flat)

    assert [trend.find(pool, flat) for pool in chance] == [None] * len(chance)


def test_a_fleet_whose_growths_scatter_around_none_keeps_the_test_at_three_errors() -> None:
    scattered = FleetGrowth(0.002, 0.01, 40)  # growths either way, wider than their mean
    shares = factories.creeping_shares(DAYS, doubling_days=158, series=20, seed=9)
    pools = [_pool(row, seed=i) for i, row in enumerate(shares)]

    found = [trend.find(pool, scattered) for pool in pools]

    assert not trend.leans(scattered)
    assert all(t is None or t.z > trend.THRESHOLD for t in found)


def test_a_fleet_that_creeps_forecasts_a_posterior_growth_under_three_standard_errors() -> None:
    # A fleet whose services double about every 158 days, read to within two thirds of it: a
    # posterior growth under three standard errors is forecast as the posterior it is
    # (``FLEET_THRESHOLD``), where the same history alone forecasts none.
    rate = math.log(2) / 158
    fleet = FleetGrowth(rate, rate / 1.5, 39)
    shares = factories.creeping_shares(DAYS, doubling_days=158, series=20, seed=9)
    pools = [_pool(row, seed=i) for i, row in enumerate(shares)]

    found = [trend.find(pool, fleet) for pool in pools]

    assert all(t is not None and t.pooled for t in found)
    weak = [p for p, t in zip(pools, found, strict=True) if t is not None and t.z < trend.THRESHOLD]
    assert len(weak) >= 5
    assert [trend.find(pool) for pool in weak] == [None] * len(weak)


def test_a_service_gives_its_fleet_its_growth_and_a_step_is_marked() -> None:
    creep = factories.hourly_availability(factories.creeping_shares(DAYS, doubling_days=60)[0])
    step = factories.hourly_availability(factories.risen_shares(DAYS, rise_days=14, factor=5.0)[0])

    def growth(data: object) -> Reading | None:
        assert isinstance(data, type(creep))
        seen = evidence.of(data.bad, data.total, ~data.excluded, bucket_seconds=3600)
        return seen.stats().growth

    read, stepped = growth(creep), growth(step)
    assert read is not None
    assert read.growth == pytest.approx(DOUBLING_60, rel=0.5)
    assert not read.stepped
    assert stepped is not None
    assert stepped.stepped


def test_a_fleet_counts_its_steps_without_pooling_their_growth() -> None:
    creeps = [Reading(DOUBLING_60, DOUBLING_60 / 4)] * 5
    steps = [Reading(10 * DOUBLING_60, DOUBLING_60 / 4, stepped=True)] * 3

    fleet = fleettrend.pool(creeps + steps)

    assert fleet is not None
    assert (fleet.services, fleet.steps) == (5, 3)
    assert fleet.mean == pytest.approx(DOUBLING_60)


@pytest.mark.parametrize(
    ("fleet", "creeps"),
    [
        (FleetGrowth(0.0115, 0.0008, 98, 2), True),  # 'creep' (measured)
        (FleetGrowth(0.0132, 0.0007, 17, 83), False),  # 'regression': most rises are steps
        (FleetGrowth(0.0115, 0.0050, 98, 2), False),  # a diverse fleet: within 3 spreads of 0
        (None, False),
    ],
)
def test_a_fleet_creeps_when_its_growth_is_clear_and_its_rises_are_curves(
    fleet: FleetGrowth | None, creeps: bool
) -> None:
    assert trend.creeps(fleet) is creeps


def test_a_creeping_fleet_forecasts_a_history_whose_last_weeks_fit_a_step_with_its_curve() -> None:
    # Sixty-day doublings whose last four weeks ran a fifth high: a step fits them clearly
    # better, and where the fleet's rises are mostly steps the forecast stays at its level; in
    # a fleet that creeps, the creep leads on, past the step's level.
    shares = factories.creeping_shares(DAYS, doubling_days=60, seed=6)[0]
    shares[-28:] *= 1.2
    data = factories.hourly_availability(shares)
    creeping = FleetGrowth(DOUBLING_60, DOUBLING_60 / 20, 98, 2)
    regressing = dataclasses.replace(creeping, services=17, steps=83)

    def trend_with(fleet: FleetGrowth) -> object:
        outlook = evidence.Outlook(14.0, fleet)
        seen = evidence.of(
            data.bad, data.total, ~data.excluded, bucket_seconds=3600, outlook=outlook
        )
        assert seen.rise is not None
        return seen.trend

    assert trend_with(regressing) is None
    assert trend_with(creeping) is not None


def test_a_fleet_prior_carries_its_services_growth() -> None:
    stats = [
        priors.ServiceStats(0, 90.0, growth=Reading(DOUBLING_60, DOUBLING_60 / 4)) for _ in range(6)
    ]

    pooled = fleetpool.pool(stats, origin="fleet:x")

    assert pooled.growth is not None
    assert pooled.growth.services == 6


def test_the_fleets_growth_survives_the_prior_document() -> None:
    fleet = dataclasses.replace(
        fleetpool.pool([priors.ServiceStats(1, 90.0, 3.0, 9.0)] * 5, origin="fleet:x"),
        growth=FleetGrowth(0.0115, 0.0008, 40),
    )

    again = priordoc.loads(priordoc.dumps(fleet))

    assert again.growth == FleetGrowth(0.0115, 0.0008, 40)
    assert priordoc.document(again)["growth"]["steps"] == 0
    assert priordoc.document(again) == priordoc.document(fleet)


@pytest.mark.parametrize(
    ("part", "field"),
    [
        ("creeps", "prior.growth"),
        ({"spread": 0.001}, "prior.growth.mean"),
        ({"mean": 0.01, "spread": 0}, "prior.growth.spread"),
        ({"mean": 0.01, "spread": 0.001, "services": -1}, "prior.growth.services"),
    ],
)
def test_a_bad_growth_names_its_field(part: object, field: str) -> None:
    document = priordoc.document(priors.DEFAULT) | {"growth": part}

    with pytest.raises(errors.InputError) as caught:
        priordoc.from_document(document)

    assert caught.value.field == field


def test_a_creep_only_its_leaning_fleet_forecasts_lowers_the_tiers_and_says_so() -> None:
    # A doubling every 158 days that its own 90 days read at under three standard errors, in
    # a fleet whose services mostly grow at about that rate (``trend.leans``).
    rate = math.log(2) / 158
    shares = factories.creeping_shares(DAYS, doubling_days=158, series=20, seed=9)[13]
    data = factories.hourly_availability(shares)
    leaning = dataclasses.replace(priors.DEFAULT, growth=FleetGrowth(rate, rate / 1.5, 39))

    def recommend(prior: priors.Prior) -> tuple[list[float], str]:
        result = factories.recommend_availability(
            data, window_seconds=28 * 86400, seed=3, prior=prior
        )
        return [float(t.target) for t in result.tiers], " ".join(result.data_quality.notes)

    alone, alone_notes = recommend(priors.DEFAULT)
    with_fleet, notes = recommend(leaning)

    assert "The background may be creeping up: read with its fleet's" in notes
    assert "creep" not in alone_notes
    # The default prior's unseen outages set the upper tiers, so the creep moves them by
    # hundredths of a point (one may round to the same target): none rises, and the loosest,
    # where the background weighs most, falls.
    assert all(f <= a for f, a in zip(with_fleet, alone, strict=True))
    assert with_fleet[-1] < alone[-1]
