"""What a fleet changes in how a service's spells are drawn (method v27): ``φ`` drawn with the
fleet's posterior spread (``spelldraw.phi_spread``), and the variance a window's replay
misses once the fleet has placed the level (``spelldraw.replay_shortfall``)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from sloreco.core import fleetspells, persistence, placement, spelldraw

Reading = persistence.Persistence
#: ``drifting``-like spells (variance 0.5, phi 0.93 over 90 days) at a 0.1% level.
SPELLS = Reading(90, 0.5, 0.93, level=0.001, borrowed=20.0)
#: A fleet of such services that knows their phi as well as three and a half histories would.
FLEET = fleetspells.FleetSpells(variance=0.5, freedom=20.0, phi=0.93, phi_weight=3.5, services=40)


def test_a_shrunk_reading_carries_the_weight_its_fleet_lends_phi() -> None:
    assert fleetspells.shrink(SPELLS, FLEET).phi_weight == FLEET.phi_weight


def test_a_historys_own_reading_draws_phi_with_bartletts_spread() -> None:
    assert spelldraw.phi_spread(SPELLS) == pytest.approx(math.sqrt((1 - 0.93**2) / 90))


def test_a_fleet_that_knows_phi_narrows_its_draw() -> None:
    lent = spelldraw.phi_spread(dataclasses.replace(SPELLS, phi_weight=3.5))

    assert lent < spelldraw.phi_spread(SPELLS)


def test_a_fleet_that_lends_nothing_draws_phi_as_spread_as_a_reading_is() -> None:
    # A single reading of phi spreads about twice as far as Bartlett's variance says.
    alone = dataclasses.replace(SPELLS, phi_weight=0.0)

    assert spelldraw.phi_spread(alone) == pytest.approx(
        math.sqrt(persistence.READING_SPREAD) * spelldraw.phi_spread(SPELLS)
    )


def test_the_replay_misses_more_of_a_short_window() -> None:
    week = spelldraw.replay_shortfall(SPELLS, window_days=7, block_days=5)
    month = spelldraw.replay_shortfall(SPELLS, window_days=28, block_days=5)

    assert 0 < month < week < SPELLS.level_noise()


def weekly_spread(fit: Reading) -> float:
    """How far weekly background windows' bad shares spread (relative to their mean, the median
    of the pseudo-histories'), widened under ``fit``: windows that barely vary, so that what
    ``widen`` adds is what spreads."""
    rng = np.random.default_rng(3)
    windows = 1.0 - 0.001 * rng.gamma(400.0, 1 / 400, (128, 400))
    widened = spelldraw.widen(
        windows, fit, window_days=7, block_days=5, rng=np.random.default_rng(9)
    )
    shares = 1.0 - widened
    return float(np.median(shares.std(axis=1) / shares.mean(axis=1)))


def test_a_level_placed_where_it_was_read_keeps_most_of_a_weeks_spread() -> None:
    # The fleet agrees with the history's level and knows it well: the level's own noise goes,
    # but what the blocks' replay of a week misses stays.
    placed = dataclasses.replace(SPELLS, toward=placement.FleetLevel(math.log(SPELLS.level), 1e-6))

    assert weekly_spread(placed) > 0.8 * weekly_spread(SPELLS)
