"""sizekinds and its users: a fleet whose incidents come in two kinds pools each on its own."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sloreco import errors
from sloreco.cli import main as cli
from sloreco.core import fleetpool, incidentloss, predictive, priordoc, sizekinds
from sloreco.core import prior as priors
from tests import factories

#: A 28-day compliance window.
WINDOW = 28 * 86400


def _blips_and_outages(seed: int = 1, *, blips: int = 400, outages: int = 40) -> np.ndarray:
    """Log sizes of blips of minutes (5 median, log spread 0.7) and outages of hours."""
    rng = np.random.default_rng(seed)
    small = rng.normal(math.log(5.0), 0.7, blips)
    large = rng.normal(math.log(300.0), 0.5, outages)
    return np.concatenate([small, large])


def _fleet(seed: int = 1) -> list[priors.ServiceStats]:
    """Forty services: ten blips each, and an outage in every fourth."""
    rng = np.random.default_rng(seed)
    services = []
    for i in range(40):
        own = rng.normal(math.log(5.0), 0.7, 10)
        if i % 4 == 0:
            own = np.append(own, rng.normal(math.log(300.0), 0.5))
        services.append(own)
    return factories.seen_sizes(services)


def test_blips_and_outages_split_between_the_kinds() -> None:
    logs = _blips_and_outages()

    at = sizekinds.split(logs)

    # in the gap between the blips (5 minutes, spread 0.7) and the outages (300, spread 0.5)
    assert at is not None
    assert math.log(5.0) + 2 * 0.7 < at < math.log(300.0) - 2 * 0.5


def test_one_lognormal_kind_does_not_split() -> None:
    rng = np.random.default_rng(2)

    assert sizekinds.split(rng.normal(4.0, 1.2, 500)) is None


def test_incidents_of_whole_hours_are_one_kind() -> None:
    # one-hour outages whose durations round to one, two or three hours: clumps 0.69 apart
    rng = np.random.default_rng(3)
    hours = np.ceil(rng.lognormal(0.0, 0.6, 200))

    assert sizekinds.split(np.log(60.0 * hours)) is None


def test_sizes_spread_flat_over_several_log_units_are_one_kind() -> None:
    # services whose means differ: two normals fit them apart, with no dip between
    means = np.linspace(0.0, 6.0, 20)

    assert sizekinds.split(np.concatenate([means - 0.5, means + 0.5])) is None


def test_a_few_small_clumps_under_many_incidents_are_not_a_kind() -> None:
    # the larger kind must be the rarer: here the small sizes are the detector's clumps
    rng = np.random.default_rng(4)
    logs = np.concatenate([rng.uniform(0.0, 0.5, 30), rng.normal(5.0, 0.5, 200)])

    assert sizekinds.split(logs) is None


def test_two_outages_are_too_few_to_be_a_kind() -> None:
    assert sizekinds.split(_blips_and_outages(blips=100, outages=2)) is None


def test_the_split_is_a_function_of_the_sizes_alone() -> None:
    logs = _blips_and_outages(5)

    assert sizekinds.split(logs) == sizekinds.split(logs[::-1].copy())


def test_a_fleet_of_two_kinds_pools_each_with_its_own_rate_and_size() -> None:
    fleet = _fleet()

    pooled = fleetpool.pool(fleet, origin="kinds")

    assert pooled.larger is not None
    assert pooled.larger.incidents == 10
    assert pooled.incidents == 400
    # outages once in 360 days (10 in 40 x 90), blips once in 9
    assert pooled.larger.rate_per_day == pytest.approx(10 / 3600, rel=0.35)
    assert pooled.rate_per_day == pytest.approx(400 / 3600, rel=0.1)
    assert pooled.larger.size_log_mean == pytest.approx(math.log(300.0), abs=0.4)
    assert pooled.size_log_mean == pytest.approx(math.log(5.0), abs=0.2)


def test_a_fleet_of_one_kind_has_no_larger_kind() -> None:
    rng = np.random.default_rng(6)

    pooled = fleetpool.pool(
        factories.seen_sizes([rng.normal(4.0, 1.0, 10) for _ in range(40)]), origin="one"
    )

    assert pooled.larger is None
    assert math.isinf(pooled.kind_from)


def test_a_services_incidents_are_read_on_either_side_of_the_split() -> None:
    pooled = fleetpool.pool(_fleet(), origin="kinds")
    seen = _blips_and_outages(7, blips=8, outages=2)

    blips = seen[seen < pooled.kind_from]
    kinds = predictive.Posterior.given(pooled, seen, 90.0)

    assert kinds.larger is not None
    assert kinds.rate_shape == pytest.approx(pooled.rate_shape + len(blips))
    assert kinds.larger.rate_shape == pytest.approx(pooled.larger.rate_shape + 2)
    assert kinds.larger.log_mean > kinds.log_mean + math.log(10.0)


def test_a_window_loses_to_both_kinds() -> None:
    pooled = fleetpool.pool(_fleet(), origin="kinds")
    none = np.array([])
    post = predictive.Posterior.given(pooled, none, 90.0)
    blips_only = predictive.Posterior.given(
        dataclasses.replace(pooled, larger=None, kind_from=math.inf), none, 90.0
    )

    def lost(p: predictive.Posterior) -> np.ndarray:
        rng = np.random.default_rng(8)
        return incidentloss.losses([p], rng, outer=20, inner=500, window_days=28)[0]

    both, blips = lost(post), lost(blips_only)

    # the outages (one window in thirteen) put the worst windows far beyond the blips'
    assert np.quantile(both, 0.99) > 2 * np.quantile(blips, 0.99)
    assert np.count_nonzero(both > 0.002) > np.count_nonzero(blips > 0.002)


def test_a_prior_of_two_kinds_survives_its_json_document() -> None:
    pooled = fleetpool.pool(_fleet(), origin="kinds")

    text = priordoc.dumps(pooled)
    again = priordoc.loads(text)

    assert priordoc.dumps(again) == text
    assert again.larger is not None
    assert again.kind_from == pytest.approx(pooled.kind_from)
    assert '"larger"' in text


def test_a_bad_larger_kind_names_its_field() -> None:
    document = priordoc.document(fleetpool.pool(_fleet(), origin="kinds"))
    document["larger"]["rate"]["shape"] = -1

    with pytest.raises(errors.InputError, match=r"prior\.larger\.rateShape"):
        priordoc.from_document(document)


def test_a_larger_kind_without_its_start_names_it() -> None:
    document = priordoc.document(fleetpool.pool(_fleet(), origin="kinds"))
    del document["larger"]["from"]

    with pytest.raises(errors.InputError, match=r"prior\.larger\.from"):
        priordoc.from_document(document)


def test_a_recommendation_under_a_fleet_of_two_kinds_says_so_and_allows_for_outages() -> None:
    kinds = fleetpool.pool(_fleet(), origin="fleet:default")
    blips = dataclasses.replace(kinds, larger=None, kind_from=math.inf)
    hist = factories.steady_availability(90, seed=3, error_ratio=0.0001)

    two = factories.recommend_availability(hist, window_seconds=WINDOW, seed=1, prior=kinds)
    one = factories.recommend_availability(hist, window_seconds=WINDOW, seed=1, prior=blips)

    notes = " ".join(two.data_quality.notes)
    assert "two kinds" in notes
    assert "this history held none" in notes
    assert not any("two kinds" in n for n in one.data_quality.notes)
    # an outage in one window of thirteen: the balanced tier leaves room for one
    assert two.tiers[1].target < one.tiers[1].target


def test_the_cli_pools_two_kinds_and_recommends_with_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Twelve services of 30 days: a blip of an hour at 3% every five days, and in every fourth
    # service a four-hour outage (99% failing).
    paths = []
    for seed in range(12):
        hist = factories.steady_availability(30, seed=seed, error_ratio=0.0001, bucket_seconds=3600)
        for k in range(6):
            hist = factories.with_incident(
                hist, first=24 * (5 * k + 2), buckets=1, error_ratio=0.03
            )
        if seed % 4 == 0:
            hist = factories.with_incident(hist, first=24 * 20 + 8, buckets=4, error_ratio=0.99)
        path = tmp_path / f"svc-{seed}.json"
        path.write_text(json.dumps(factories.cli_input_document(availability=hist)))
        paths += ["--input", str(path)]

    assert cli.main(["prior", *paths, "--origin", "fleet:kinds"]) == 0
    text = capsys.readouterr().out
    fleet = priordoc.loads(text)
    prior = tmp_path / "prior.json"
    prior.write_text(text)
    assert cli.main(["recommend", *paths[2:4], "--prior", str(prior), "--output", "json"]) == 0
    recommended = capsys.readouterr().out

    assert fleet.larger is not None
    assert (fleet.incidents, fleet.larger.incidents) == (72, 3)
    assert "two kinds" in recommended


@settings(max_examples=40, deadline=None)
@given(shift=st.floats(-5.0, 5.0), seed=st.integers(0, 10_000))
def test_the_split_moves_with_the_sizes(shift: float, seed: int) -> None:
    # Minutes or seconds, a fleet of bigger services or smaller: the kinds are where they are.
    logs = _blips_and_outages(seed, blips=200, outages=20)

    at, moved = sizekinds.split(logs), sizekinds.split(logs + shift)

    assert at is not None
    assert moved == pytest.approx(at + shift, abs=0.05)  # a step of the density's grid
