"""How a fleet's backgrounds drift, and a service's reading shrunk toward it (``fleetspells``)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sloreco import errors
from sloreco.core import evidence, fleetpool, fleetspells, history, persistence, priordoc, spelldraw
from sloreco.core import prior as priors
from tests import factories

Reading = persistence.Persistence
#: What a uniform fleet of ``persistent`` services reads (``bench.processes``; measured).
DRIFTING = fleetspells.FleetSpells(
    variance=0.57, freedom=20.0, phi=0.83, phi_weight=1.3, services=99
)
WINDOW = 28 * 86400


def test_a_uniform_fleet_lends_the_most_freedom() -> None:
    # Variances that differ by less than one history's sampling error (about 4 degrees of
    # freedom at phi 0.8 over 90 days).
    readings = [Reading(90, v, 0.8) for v in (0.50, 0.55, 0.60, 0.52, 0.58, 0.57)]

    fleet = fleetspells.pool(readings)

    assert fleet is not None
    assert fleet.freedom == fleetspells.MAX_FREEDOM
    assert fleet.variance == pytest.approx(np.mean([0.50, 0.55, 0.60, 0.52, 0.58, 0.57]))


def test_a_diverse_fleet_lends_little() -> None:
    readings = [Reading(90, v, 0.8) for v in (0.01, 0.05, 0.5, 2.0, 8.0)]

    fleet = fleetspells.pool(readings)

    assert fleet is not None
    assert fleet.freedom < 2.0


def test_a_uniform_fleet_of_drifting_services_lends_phi_the_weight_of_several_histories() -> None:
    # Forty services of one process (``persistent``: spells of ten days), 90 days each at 2,000
    # requests an hour. Their readings of phi spread about twice as far as Bartlett's variance
    # says; counted at Bartlett's, they looked diverse and lent the weight of one history.
    days = 90
    total = np.full(days, 48_000.0)
    rng = np.random.default_rng(3)
    readings = [
        persistence.Persistence.read(
            np.stack([rng.poisson(total * shares).astype(np.float64), total], axis=1)
        )
        for shares in factories.drifting_shares(0.9, days, series=40, seed=3)
    ]

    fleet = fleetspells.pool([r for r in readings if r is not None])

    assert fleet is not None
    assert fleet.phi_weight > 2.0


def test_fewer_than_five_readings_make_no_fleet_reading() -> None:
    assert fleetspells.pool([Reading(90, 0.5, 0.8)] * 4) is None


def test_a_calm_history_borrows_its_fleets_variance() -> None:
    calm = Reading(90, 0.1, 0.85)  # about 6 degrees of freedom of its own

    shrunk = fleetspells.shrink(calm, DRIFTING)

    assert shrunk.variance == pytest.approx((6.3 * 0.1 + 20 * 0.57) / 26.3, rel=0.02)
    assert shrunk.borrowed == DRIFTING.freedom


def test_a_history_of_independent_days_keeps_most_of_its_own_variance() -> None:
    independent = Reading(90, 0.1, 0.0)  # 89 degrees of freedom

    shrunk = fleetspells.shrink(independent, DRIFTING)

    assert shrunk.variance < 0.2


@given(
    variance=st.floats(0.0, 5.0),
    phi=st.floats(0.0, persistence.MAX_PHI),
    days=st.integers(persistence.MIN_DAYS, 400),
)
def test_a_shrunk_reading_lies_between_its_own_and_its_fleets(
    variance: float, phi: float, days: int
) -> None:
    own = Reading(days, variance, phi)

    shrunk = fleetspells.shrink(own, DRIFTING)

    low, high = sorted((variance, DRIFTING.variance))
    assert low - 1e-12 <= shrunk.variance <= high + 1e-12
    low, high = sorted((phi, DRIFTING.phi))
    assert low - 1e-12 <= shrunk.phi <= high + 1e-12


def test_borrowed_freedom_narrows_how_far_pseudo_histories_spread() -> None:
    rng = np.random.default_rng(3)
    windows = 1.0 - 0.001 * rng.gamma(4.0, 0.25, (400, 200))
    own = Reading(90, 0.5, 0.85)

    def spreads(fit: Reading) -> np.ndarray:
        widened = spelldraw.widen(
            windows, fit, window_days=28, block_days=5, rng=np.random.default_rng(9)
        )
        return np.asarray(widened.std(axis=1))

    alone, borrowing = spreads(own), spreads(dataclasses.replace(own, borrowed=20.0))

    assert np.quantile(borrowing, 0.9) < np.quantile(alone, 0.9)


def test_a_service_gives_its_fleet_its_backgrounds_reading() -> None:
    data = factories.steady_availability(90, bucket_seconds=3600, seed=4)
    seen = evidence.of(data.bad, data.total, ~data.excluded, bucket_seconds=3600)

    reading = seen.stats().background

    assert reading is not None
    assert reading.days == 90


def test_a_fleet_prior_carries_its_services_drift() -> None:
    stats = [
        priors.ServiceStats(0, 90.0, background=Reading(90, 0.4 + 0.02 * i, 0.8)) for i in range(6)
    ]

    pooled = fleetpool.pool(stats, origin="fleet:x")

    assert pooled.background is not None
    assert pooled.background.services == 6


def test_the_fleets_drift_survives_the_prior_document() -> None:
    fleet = dataclasses.replace(
        fleetpool.pool([priors.ServiceStats(1, 90.0, 3.0, 9.0)] * 5, origin="fleet:x"),
        background=DRIFTING,
    )

    again = priordoc.loads(priordoc.dumps(fleet))

    assert again.background == DRIFTING
    assert priordoc.document(again) == priordoc.document(fleet)


def test_a_background_written_before_its_kurtosis_was_kept_reads_as_normal_days() -> None:
    noisy = dataclasses.replace(DRIFTING, kurtosis=9.0)
    document = priordoc.document(dataclasses.replace(factories.QUIET_FLEET, background=noisy))
    assert document["background"]["kurtosis"] == 9.0
    del document["background"]["kurtosis"]

    again = priordoc.from_document(document)

    assert again.background == DRIFTING


@pytest.mark.parametrize(
    ("part", "field"),
    [
        ("calm", "prior.background"),
        ({"variance": 0.5, "freedom": 20, "phiWeight": 1}, "prior.background.phi"),
        ({"variance": 0.5, "freedom": 20, "phi": 1.5, "phiWeight": 1}, "prior.background.phi"),
        ({"variance": -1, "freedom": 20, "phi": 0.5, "phiWeight": 1}, "prior.background.variance"),
        (
            {
                "variance": 0.5,
                "freedom": 20,
                "phi": 0.5,
                "phiWeight": 1,
                "services": 5,
                "kurtosis": 0.5,
            },
            "prior.background.kurtosis",
        ),
    ],
)
def test_a_bad_background_names_its_field(part: object, field: str) -> None:
    document = priordoc.document(priors.DEFAULT) | {"background": part}

    with pytest.raises(errors.InputError) as caught:
        priordoc.from_document(document)

    assert caught.value.field == field


def calm_stretch() -> history.AvailabilityHistory:
    """Ninety days whose share drifts little (coefficient of variation 0.2, in spells): alone
    they read a small variance, where ``DRIFTING``'s fleet has seen backgrounds vary more."""
    rng = np.random.default_rng(5)
    level = np.zeros(90)
    for day in range(1, 90):
        level[day] = 0.85 * level[day - 1] + np.sqrt(1 - 0.85**2) * rng.standard_normal()
    total = np.full(90, 2_000_000.0)
    return factories.daily_availability(total, np.round(total * 0.001 * np.exp(0.2 * level)))


def test_a_calm_stretch_of_a_drifting_fleet_is_recommended_with_its_fleets_caution() -> None:
    # The same spells, so that only how far the fleet's backgrounds vary differs: one fleet as
    # calm as this history (coefficient of variation 0.2), one that has seen them vary more.
    calm = dataclasses.replace(DRIFTING, variance=0.04)

    def balanced(spells: fleetspells.FleetSpells) -> float:
        belief = dataclasses.replace(factories.QUIET_FLEET, background=spells)
        result = factories.recommend_availability(
            calm_stretch(), window_seconds=WINDOW, seed=1, prior=belief
        )
        return float(result.tiers[1].target)

    assert balanced(DRIFTING) < balanced(calm)


def test_the_explanation_says_the_spells_were_read_with_the_fleets() -> None:
    belief = dataclasses.replace(factories.QUIET_FLEET, background=DRIFTING)

    result = factories.recommend_availability(
        calm_stretch(), window_seconds=WINDOW, seed=1, prior=belief
    )

    assert any("(read with its fleet's, replayed in" in n for n in result.data_quality.notes)


def test_normal_days_without_poisson_noise_keep_the_normal_theorys_freedom() -> None:
    reading = Reading(90, 0.5, 0.0, observed=0.5, kurtosis=3.0)

    freedom = fleetspells.reading_freedom(reading, kurtosis=3.0, variance=0.5)

    assert freedom == pytest.approx(float(persistence.own_freedom(90, np.array([0.0]))[0]))


def test_heavy_tailed_days_know_their_variance_less() -> None:
    reading = Reading(90, 0.5, 0.0, observed=0.5)

    normal = fleetspells.reading_freedom(reading, kurtosis=3.0, variance=0.5)
    heavy = fleetspells.reading_freedom(reading, kurtosis=9.0, variance=0.5)

    assert heavy == pytest.approx(normal / 4)  # (9 - 1) / 2 times the sampling variance


def test_light_tailed_days_claim_no_more_than_the_normal_theory() -> None:
    reading = Reading(90, 0.5, 0.0, observed=0.5)

    light = fleetspells.reading_freedom(reading, kurtosis=1.8, variance=0.5)

    assert light == fleetspells.reading_freedom(reading, kurtosis=3.0, variance=0.5)


def test_a_reading_mostly_poisson_noise_knows_its_variance_less() -> None:
    # Observed 0.4, of which 0.3 is Poisson noise: the net reading carries all of its noise.
    quiet = Reading(90, 0.1, 0.0, observed=0.4)

    freedom = fleetspells.reading_freedom(quiet, kurtosis=3.0, variance=0.1)

    assert freedom == pytest.approx(max(89 * (0.1 / 0.4) ** 2, 1.0))


def test_a_history_that_read_no_variance_takes_its_noisy_fleets() -> None:
    # Its days' spread was within the Poisson noise; the fleet's heavy-tailed days have shown
    # 0.3 (the fresh draw's process 19, at 69 requests an hour).
    nothing = Reading(30, 0.0, 0.03, observed=0.3, kurtosis=4.0)
    fleet = fleetspells.FleetSpells(0.3, 20.0, 0.1, 5.0, 40, kurtosis=9.0)

    shrunk = fleetspells.shrink(nothing, fleet)

    assert shrunk.variance > 0.9 * fleet.variance


def test_the_fleet_keeps_its_services_mean_kurtosis() -> None:
    readings = [Reading(90, 0.5, 0.2, observed=0.6, kurtosis=k) for k in (3.0, 5.0, 7.0, 9.0, 11.0)]

    fleet = fleetspells.pool(readings)

    assert fleet is not None
    assert fleet.kurtosis == pytest.approx(7.0)


def test_a_days_reading_records_the_kurtosis_of_its_deviations() -> None:
    rng = np.random.default_rng(3)
    total = np.full(400, 1e9)  # no Poisson noise to speak of
    normal = np.column_stack([total * 1e-3 * (1 + 0.3 * rng.standard_normal(400)), total])
    heavy = np.column_stack([total * 1e-3 * rng.gamma(0.37, 1 / 0.37, 400), total])

    calm, wild = Reading.read(normal), Reading.read(heavy)

    assert calm is not None
    assert wild is not None
    assert calm.kurtosis == pytest.approx(3.0, abs=0.5)
    assert wild.kurtosis > 8.0


def test_a_calm_history_that_read_no_variance_still_takes_its_fleets_spells() -> None:
    # Constant days: the reading is none, which is a reading like any other.
    total = np.full(90, 2_000_000.0)
    flat = factories.daily_availability(total, np.round(total * 0.001))
    noisy = dataclasses.replace(DRIFTING, kurtosis=9.0)

    def balanced(spells: fleetspells.FleetSpells | None) -> float:
        belief = dataclasses.replace(factories.QUIET_FLEET, background=spells)
        result = factories.recommend_availability(flat, window_seconds=WINDOW, seed=1, prior=belief)
        return float(result.tiers[1].target)

    assert balanced(noisy) < balanced(None)
