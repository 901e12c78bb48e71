"""bench.population: the reference rule that knows the mixed fleet's population."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bench import judge, population, profiles

HOURS = 90 * 24
#: Requests an hour of the hand-made histories: a minute of full outage is 1,000 bad events.
TRAFFIC = 60_000.0


def hand_made(outage_hours: tuple[int, ...] = ()) -> tuple[np.ndarray, np.ndarray]:
    """90 days at ``TRAFFIC`` an hour, 0.1% failing, and a full outage in each hour given."""
    total = np.full(HOURS, TRAFFIC)
    bad = np.random.default_rng(1).poisson(TRAFFIC * 0.001, HOURS).astype(float)
    for hour in outage_hours:
        bad[hour] = TRAFFIC
    return total, bad


def seen(bursts: int, log_size: float, background: float, pareto: bool) -> population.Summary:
    return population.Summary(bursts, log_size, background, pareto)


def reference(summaries: list[population.Summary], windows: np.ndarray) -> population.Reference:
    return population.Reference(tuple(summaries), windows)


def test_a_clean_history_holds_no_burst_and_its_background() -> None:
    member = profiles.by_name("steady")

    read = population.summary(member, *hand_made())

    assert read.bursts == 0
    assert read.log_background == pytest.approx(math.log(0.001), abs=0.05)


def test_an_outage_is_a_burst_of_its_full_outage_minutes() -> None:
    member = profiles.by_name("steady")

    read = population.summary(member, *hand_made(outage_hours=(1000, 1001)))

    assert read.bursts == 1
    assert read.log_size == pytest.approx(math.log(120), abs=0.05)


def test_neighbours_share_the_burst_class_even_when_others_are_nearer() -> None:
    near_but_busier = [seen(5, 3.0, -7.0, False)] * 3
    far_but_alike = [seen(1, 6.0, -4.0, False)] * 3
    ref = reference(near_but_busier + far_but_alike, np.zeros((6, 10)))

    chosen = ref.neighbours(seen(1, 3.0, -7.0, False), per_kind=False)

    assert sorted(chosen.tolist()) == [3, 4, 5]


def test_a_fleet_per_kind_pools_only_its_own_kind() -> None:
    ref = reference(
        [seen(0, 0.0, -7.0, True)] * 2 + [seen(0, 0.0, -7.0, False)] * 2, np.zeros((4, 10))
    )

    mixed = ref.neighbours(seen(0, 0.0, -7.0, False), per_kind=False)
    own = ref.neighbours(seen(0, 0.0, -7.0, False), per_kind=True)

    assert sorted(mixed.tolist()) == [0, 1, 2, 3]
    assert sorted(own.tolist()) == [2, 3]


def test_a_tier_is_the_pooled_windows_quantile_at_its_share_of_the_promise() -> None:
    # Two neighbours of 1,000 windows each, at 0.0000 ... 0.1998 by 0.0001: the pooled 1% point
    # is the 20th of 2,000 values, half of it the 10th.
    values = np.arange(2000).reshape(2, 1000) / 10_000
    ref = reference([seen(0, 0.0, -7.0, False)] * 2, np.sort(values, axis=1))

    full = {
        t.name: t.target for t in ref.tiers(seen(0, 0.0, -7.0, False), per_kind=False, scale=1.0)
    }
    half = {
        t.name: t.target for t in ref.tiers(seen(0, 0.0, -7.0, False), per_kind=False, scale=0.5)
    }

    assert full["balanced"] == pytest.approx(0.0020)
    assert half["balanced"] == pytest.approx(0.0010)


def test_every_kind_kept_takes_the_largest_share_at_which_the_heavier_kind_keeps() -> None:
    # Every member gets the same tiers (one neighbour pool, windows 0 ... 0.9999). The Pareto
    # member's future is the pool's at half its values, the lognormal member's above it: read at
    # a share s of the promise, the Pareto member misses 2s times its promise, which keeps
    # balanced and aggressive (1.5x) at s = 0.7 and not at 0.85.
    pool = np.arange(10_000)[None, :] / 10_000
    ref = reference([seen(0, 0.0, -7.0, False)], pool)
    fleet = [
        (seen(0, 0.0, -7.0, True), judge.Truth(np.sort(pool[0] / 2))),
        (seen(0, 0.0, -7.0, False), judge.Truth(np.sort(0.5 + pool[0] / 2))),
    ]

    scale = population.kept_scale(ref, fleet)

    tallies = population.judged(ref, fleet, per_kind=False, scale=scale)
    pareto = tallies["Pareto"].breaches
    assert scale == 0.7
    assert all(judge.keeps(n, pareto[n][0]) for n, _, _ in judge.TIERS)
    looser = population.SCALES[population.SCALES.index(scale) - 1]
    looser_tallies = population.judged(ref, fleet, per_kind=False, scale=looser)
    assert not all(
        judge.keeps(n, looser_tallies["Pareto"].breaches[n][0]) for n, _, _ in judge.TIERS
    )
