"""Where a fleet places its services' background levels (``fleetspells.levels``,
``placement``), and what that does to a history read in a calm or a bad stretch."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from sloreco import errors
from sloreco.core import fleetspells, history, persistence, placement, priordoc, spelldraw
from sloreco.core.explain import priornote
from tests import factories

Reading = persistence.Persistence
WINDOW = 28 * 86400
#: ``persistent``-like spells (variance 0.5, phi 0.85 over 90 days) at a 0.1% level.
SPELLS = Reading(90, 0.5, 0.85, level=0.001)
#: The log of 0.1%, as a prior document keeps it.
LEVEL = priordoc.rounded(math.log(0.001))
#: A fleet of such services, all at 0.1%: its levels spread only by their own noise.
PLACED = fleetspells.FleetSpells(
    variance=0.5,
    freedom=20.0,
    phi=0.85,
    phi_weight=1.3,
    services=40,
    level=LEVEL,
    level_spread=0.01,
    level_noise=priordoc.rounded(SPELLS.level_noise()),
)


def test_a_days_reading_records_its_level() -> None:
    total = np.full(90, 48_000.0)
    bad = np.random.default_rng(1).poisson(total * 0.002).astype(np.float64)

    reading = Reading.read(np.stack([bad, total], axis=1))

    assert reading is not None
    assert reading.level == pytest.approx(bad.sum() / total.sum())


def test_a_fleet_of_one_process_places_every_level_near_its_mean() -> None:
    # Forty services of one process: their log levels spread by about what each one's spells
    # leave in its mean, and no further.
    noise = SPELLS.level_noise()
    rng = np.random.default_rng(2)
    levels = 0.001 * np.exp(math.sqrt(noise) * rng.standard_normal(40))
    readings = [dataclasses.replace(SPELLS, level=float(v)) for v in levels]

    placed = fleetspells.levels(readings)

    assert placed is not None
    assert placed.mean == pytest.approx(float(np.log(levels).mean()))
    assert placed.spread < noise / 4


def test_a_fleet_records_how_well_its_histories_know_their_levels() -> None:
    readings = [dataclasses.replace(SPELLS, phi=phi) for phi in (0.5, 0.7, 0.85, 0.9, 0.95)]

    placed = fleetspells.levels(readings)

    assert placed is not None
    assert placed.noise == pytest.approx(float(np.mean([r.level_noise() for r in readings])))


def test_a_fleet_of_strangers_leaves_each_service_its_level() -> None:
    readings = [dataclasses.replace(SPELLS, level=v) for v in (1e-5, 1e-4, 1e-3, 1e-2, 2e-2)]

    placed = fleetspells.levels(readings)

    assert placed is not None
    assert placed.spread > 10 * SPELLS.level_noise()


def test_fewer_than_five_levels_place_none() -> None:
    assert fleetspells.levels([SPELLS] * 4) is None


def test_readings_without_a_level_place_none() -> None:
    assert fleetspells.levels([dataclasses.replace(SPELLS, level=0.0)] * 6) is None


def test_a_shrunk_reading_carries_its_fleets_levels() -> None:
    shrunk = fleetspells.shrink(SPELLS, PLACED)

    assert shrunk.toward == placement.FleetLevel(LEVEL, PLACED.level_spread, PLACED.level_noise)


def test_a_fleet_that_kept_no_levels_leaves_the_reading_its_own() -> None:
    shrunk = fleetspells.shrink(SPELLS, dataclasses.replace(PLACED, level=None))

    assert shrunk.toward is None


def widened_share(fit: Reading, level: float) -> float:
    """The mean bad share of background windows at ``level``, widened under ``fit``."""
    rng = np.random.default_rng(3)
    windows = 1.0 - level * rng.gamma(4.0, 0.25, (128, 200))
    widened = spelldraw.widen(
        windows, fit, window_days=28, block_days=5, rng=np.random.default_rng(9)
    )
    return float(1.0 - widened.mean())


def test_a_history_calmer_than_its_fleet_is_placed_toward_the_fleets_level() -> None:
    calm = dataclasses.replace(SPELLS, level=0.0003)
    toward = dataclasses.replace(calm, toward=placement.FleetLevel(LEVEL, PLACED.level_spread))

    assert widened_share(toward, 0.0003) > 2 * widened_share(calm, 0.0003)


def test_a_history_worse_than_its_fleet_is_placed_toward_the_fleets_level() -> None:
    bad = dataclasses.replace(SPELLS, level=0.003)
    toward = dataclasses.replace(bad, toward=placement.FleetLevel(LEVEL, PLACED.level_spread))

    assert widened_share(toward, 0.003) < widened_share(bad, 0.003) / 2


def test_a_fleet_whose_levels_spread_far_moves_a_level_little() -> None:
    calm = dataclasses.replace(SPELLS, level=0.0003)
    toward = dataclasses.replace(calm, toward=placement.FleetLevel(LEVEL, 1000.0))

    assert widened_share(toward, 0.0003) == pytest.approx(widened_share(calm, 0.0003), rel=0.02)


def test_a_history_reading_shorter_spells_than_its_fleet_is_placed_as_its_fleets_are() -> None:
    # Read at phi 0.3, a calm history claims to know its level to a few thousandths (log
    # variance); its fleet's histories know theirs to 0.3. Counted at its own, it keeps its level.
    calm = dataclasses.replace(SPELLS, phi=0.3, level=0.0003)
    own = dataclasses.replace(calm, toward=placement.FleetLevel(LEVEL, 0.1))
    floored = dataclasses.replace(calm, toward=placement.FleetLevel(LEVEL, 0.1, noise=0.3))

    assert widened_share(floored, 0.0003) > 1.5 * widened_share(own, 0.0003)


def calm_history() -> history.AvailabilityHistory:
    """Ninety days at 0.03%, where ``PLACED``'s services sit at 0.1%."""
    total = np.full(90, 2_000_000.0)
    rng = np.random.default_rng(5)
    return factories.daily_availability(total, np.round(total * 0.0003 * rng.gamma(4.0, 0.25, 90)))


def test_a_calm_history_of_a_fleet_at_a_higher_level_is_recommended_lower() -> None:
    calm = calm_history()

    def balanced(spells: fleetspells.FleetSpells) -> float:
        belief = dataclasses.replace(factories.QUIET_FLEET, background=spells)
        result = factories.recommend_availability(calm, window_seconds=WINDOW, seed=1, prior=belief)
        return float(result.tiers[1].target)

    assert balanced(PLACED) < balanced(dataclasses.replace(PLACED, level=None))


def test_the_note_says_where_the_fleet_placed_the_level() -> None:
    note = priornote.level_note((0.0003, 0.00085))

    assert note == (
        " Its background ran at 0.03% bad; its fleet's services run at levels that place this "
        "one's near 0.085%, as a history of few spells knows its level little better than its "
        "fleet does."
    )


def test_a_level_the_fleet_barely_moved_goes_unsaid() -> None:
    assert priornote.level_note((0.001, 0.00105)) == ""
    assert priornote.level_note(None) == ""


def test_a_calm_historys_explanation_says_where_its_fleet_placed_its_level() -> None:
    calm = calm_history()
    belief = dataclasses.replace(factories.QUIET_FLEET, background=PLACED)

    result = factories.recommend_availability(calm, window_seconds=WINDOW, seed=1, prior=belief)

    assert any("place this one's near" in n for n in result.data_quality.notes)


def test_the_fleets_levels_survive_the_prior_document() -> None:
    fleet = dataclasses.replace(factories.QUIET_FLEET, background=PLACED)

    again = priordoc.loads(priordoc.dumps(fleet))

    assert again.background == PLACED


def test_the_document_says_what_its_level_is() -> None:
    document = priordoc.document(dataclasses.replace(factories.QUIET_FLEET, background=PLACED))

    assert document["background"]["unit"].endswith("; level: log of the mean bad share")


def test_a_background_written_before_its_levels_were_kept_leaves_each_its_own() -> None:
    document = priordoc.document(dataclasses.replace(factories.QUIET_FLEET, background=PLACED))
    del document["background"]["level"], document["background"]["levelSpread"]
    del document["background"]["levelNoise"]

    again = priordoc.from_document(document)

    assert again.background == dataclasses.replace(
        PLACED, level=None, level_spread=0.0, level_noise=0.0
    )


def test_a_background_written_before_its_level_noise_was_kept_counts_each_historys_own() -> None:
    document = priordoc.document(dataclasses.replace(factories.QUIET_FLEET, background=PLACED))
    del document["background"]["levelNoise"]

    again = priordoc.from_document(document)

    assert again.background == dataclasses.replace(PLACED, level_noise=0.0)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"level": 0.5}, "prior.background.level"),
        ({"level": "low"}, "prior.background.level"),
        ({"levelSpread": 0}, "prior.background.levelSpread"),
        ({"levelSpread": None}, "prior.background.levelSpread"),
        ({"levelNoise": -0.1}, "prior.background.levelNoise"),
        ({"levelNoise": "much"}, "prior.background.levelNoise"),
    ],
)
def test_a_bad_level_names_its_field(change: dict[str, object], field: str) -> None:
    document = priordoc.document(dataclasses.replace(factories.QUIET_FLEET, background=PLACED))
    document["background"] |= change

    with pytest.raises(errors.InputError) as caught:
        priordoc.from_document(document)

    assert caught.value.field == field
