"""prior: the incident prior as data — its JSON document, the fleet pooling, and its effect."""

from __future__ import annotations

import dataclasses
import json
import math
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from sloreco import errors
from sloreco.cli import main as cli
from sloreco.core import (
    evidence,
    fleetpool,
    history,
    incidentloss,
    predictive,
    priordoc,
    results,
    sizeshape,
)
from sloreco.core import prior as priors
from sloreco.core.models import latency as latency_model
from tests import factories

WINDOW = 28 * 86400


def test_a_prior_survives_its_json_document() -> None:
    fleet = fleetpool.pool(
        [priors.ServiceStats(3, 90.0, 9.0, 30.0), priors.ServiceStats(1, 60.0, 4.0, 16.0)],
        origin="fleet:default",
    )

    again = priordoc.loads(priordoc.dumps(fleet))

    assert priordoc.document(again) == priordoc.document(fleet)
    assert (again.origin, again.services, again.incidents) == ("fleet:default", 2, 4)


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"kind": "Other"}, "prior.kind"),
        ({"kind": "SlorecoPrior", "size": {}}, "prior.rate"),
        (
            {"kind": "SlorecoPrior", "rate": {"shape": 1, "days": 9}, "size": {}},
            "prior.size.logMean",
        ),
        (
            {
                "kind": "SlorecoPrior",
                "rate": {"shape": -1, "days": 9},
                "size": {"logMean": 1, "strength": 1, "shape": 3, "scale": 1},
            },
            "prior.rateShape",
        ),
        (
            {
                "kind": "SlorecoPrior",
                "rate": {"shape": 1, "days": 9},
                "size": {"logMean": 1, "strength": 1, "shape": 3, "scale": 1, "largest": -5},
            },
            "prior.size.largest",
        ),
    ],
)
def test_a_bad_prior_document_names_the_field(document: object, field: str) -> None:
    with pytest.raises(errors.InputError) as caught:
        priordoc.from_document(document)

    assert caught.value.field == field


def test_a_uniform_fleet_is_a_strong_prior_at_its_pooled_rate() -> None:
    fleet = [priors.ServiceStats(2, 90.0, 2 * math.log(30), 2 * math.log(30) ** 2)] * 40

    pooled = fleetpool.pool(fleet, origin="fleet:x")

    assert pooled.rate_per_day == pytest.approx(2 / 90)
    assert pooled.rate_shape == fleetpool.MAX_STRENGTH
    assert pooled.median_minutes == pytest.approx(30)


def test_a_diverse_fleet_is_a_weaker_prior_than_a_uniform_one() -> None:
    rates = [0, 0, 0, 1, 0, 12, 0, 0, 9, 0] * 4
    diverse = [priors.ServiceStats(n, 90.0, n * 3.0, n * 9.5) for n in rates]
    uniform = [priors.ServiceStats(2, 90.0, 6.0, 19.0)] * 40

    assert (
        fleetpool.pool(diverse, origin="d").rate_shape
        < fleetpool.pool(uniform, origin="u").rate_shape
    )


def test_a_fleet_without_incidents_still_leaves_a_rate() -> None:
    pooled = fleetpool.pool([priors.ServiceStats(0, 90.0)] * 10, origin="quiet")

    assert 0 < pooled.rate_per_day < 1 / 900


def test_an_empty_fleet_falls_back_to_the_default() -> None:
    assert fleetpool.pool([], origin="none") == priors.DEFAULT


def test_zero_incidents_in_the_history_still_lower_the_tiers() -> None:
    # Issue 8: a history without an outage does not show a service without outages.
    hist = factories.steady_availability(90, seed=3, error_ratio=0.0001)

    quiet = factories.recommend_availability(
        hist, window_seconds=WINDOW, seed=1, prior=factories.QUIET_PRIOR
    )
    default = factories.recommend_availability(hist, window_seconds=WINDOW, seed=1)

    assert default.tier("conservative").target < quiet.tier("conservative").target
    assert any("default prior" in note for note in default.data_quality.notes)


def _fleet_of(counts: list[int]) -> priors.Prior:
    """A fleet prior pooled from services of 90 days that saw ``counts`` incidents of an hour."""
    return fleetpool.pool(
        [priors.ServiceStats(n, 90.0, n * math.log(60.0), n * math.log(60.0) ** 2) for n in counts],
        origin="fleet:default",
    )


def test_a_recommendation_under_a_fleet_of_strangers_says_it_is_calibrated_across_them() -> None:
    # Rates from none to one every other day: their spread is wider than their mean.
    strangers = _fleet_of([0, 0, 0, 0, 1, 1, 2, 45, 0, 30])
    hist = factories.steady_availability(90, seed=3, error_ratio=0.0001)

    result = factories.recommend_availability(hist, window_seconds=WINDOW, seed=1, prior=strangers)

    assert strangers.rate_shape < 1
    assert any("differ by more than their mean" in n for n in result.data_quality.notes)


def test_a_recommendation_under_a_fleet_of_alike_rates_carries_no_such_note() -> None:
    alike = _fleet_of([3, 4, 3, 5, 4, 3, 4, 5, 3, 4])
    hist = factories.steady_availability(90, seed=3, error_ratio=0.0001)

    result = factories.recommend_availability(hist, window_seconds=WINDOW, seed=1, prior=alike)

    assert alike.rate_shape >= 1
    assert not any("differ by more than their mean" in n for n in result.data_quality.notes)


def test_the_evidence_counts_incidents_and_their_cost_in_outage_minutes() -> None:
    total = np.full(24 * 30, 600.0)  # 10 requests a minute
    bad = np.full(24 * 30, 0.0)
    bad[100:102] = 300.0  # two hours at half the requests: 60 full-outage minutes
    present = np.ones(len(total), bool)

    seen = evidence.of(bad, total, present, bucket_seconds=3600)

    assert seen.count == 1
    assert math.exp(seen.log_sizes[0]) == pytest.approx(60.0)
    assert seen.stats().exposure_days == 30.0


def test_an_availability_result_carries_the_incidents_its_fleet_prior_pools() -> None:
    # The operator pools these into its source's fleet prior instead of finding them again.
    hourly = factories.steady_availability(60 * 24, requests_per_day=600, bucket_seconds=3600)
    data = factories.with_incident(hourly, first=500, buckets=3, error_ratio=0.5)
    total, bad, present = history.clean_availability(data)

    result = factories.recommend_availability(data, window_seconds=WINDOW, seed=1, observe=True)

    found = evidence.of(bad, total, present, bucket_seconds=3600).stats()
    assert result.incidents == (("availability", found),)
    assert found.incidents == 1


@pytest.mark.parametrize("kind", ["availability", "latency"])
def test_a_result_not_asked_to_observe_carries_no_incidents_and_the_same_tiers(kind: str) -> None:
    # The CLI's recommendation skips what only a fleet reads; the tiers do not depend on it.
    def run(observe: bool) -> results.SliResult:
        if kind == "availability":
            data = factories.steady_availability(60 * 24, requests_per_day=600, bucket_seconds=3600)
            return factories.recommend_availability(
                data, window_seconds=WINDOW, seed=1, observe=observe
            )
        latency = factories.steady_latency(60 * 24, bucket_seconds=3600, seed=3)
        return factories.recommend_latency(
            latency, percentile=Decimal(99), window_seconds=WINDOW, seed=1, observe=observe
        )

    plain, observed = run(False), run(True)

    assert (plain.incidents, len(observed.incidents) > 0) == ((), True)
    assert dataclasses.replace(observed, incidents=()) == plain


def test_incidents_within_a_day_of_each_other_are_one_burst() -> None:
    # A deploy, its rollback, the redeploy that fails again: one arrival, its cost the sum.
    total = np.full(24 * 30, 600.0)
    bad = np.full(24 * 30, 0.0)
    bad[100:102] = 300.0  # 60 full-outage minutes
    bad[110] = 600.0  # 8 hours later: 60 more, the same burst
    bad[200] = 300.0  # 3 days later: 30 minutes, a burst of its own
    present = np.ones(len(total), bool)

    seen = evidence.of(bad, total, present, bucket_seconds=3600)

    assert np.exp(seen.log_sizes) == pytest.approx([120.0, 30.0])
    assert (seen.incidents, seen.count) == (3, 2)  # the explanation says both


def test_the_size_spread_has_one_degree_of_freedom_fewer_than_incidents() -> None:
    # The spread is measured around the incidents' own mean: one incident says nothing of it.
    def seen(count: int) -> evidence.Evidence:
        return evidence.Evidence(
            np.zeros(30),
            np.log(np.arange(1.0, count + 1)) + 3,
            30.0,
            count,
            np.ones(30),
            np.zeros(30),
            np.zeros(30, bool),
        )

    one, three = (predictive.Posterior.of(priors.DEFAULT, seen(n)) for n in (1, 3))

    assert (one.shape, one.scale) == (priors.DEFAULT.size_shape, priors.DEFAULT.size_scale)
    assert three.shape == priors.DEFAULT.size_shape + 1.0


def test_the_cli_reads_a_prior_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    history = factories.steady_availability(40, seed=2, error_ratio=0.0001, bucket_seconds=3600)
    document = tmp_path / "history.json"
    document.write_text(json.dumps(factories.cli_input_document(availability=history)))
    prior = tmp_path / "prior.json"
    prior.write_text(priordoc.dumps(factories.QUIET_PRIOR))
    args = ["recommend", "--input", str(document), "--output", "json"]

    assert cli.main(args) == 0
    default = capsys.readouterr().out
    assert cli.main([*args, "--prior", str(prior)]) == 0
    quiet = capsys.readouterr().out

    assert "quiet prior" in quiet
    assert default != quiet


def test_a_bad_prior_file_is_an_input_error_naming_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = factories.steady_availability(10, seed=2, bucket_seconds=3600)
    document = tmp_path / "history.json"
    document.write_text(json.dumps(factories.cli_input_document(availability=history)))
    prior = tmp_path / "prior.json"
    prior.write_text('{"kind": "SlorecoPrior"}')

    code = cli.main(["recommend", "--input", str(document), "--prior", str(prior)])

    assert (code, capsys.readouterr().err.startswith("sloreco: --prior:")) == (2, True)


def test_sloreco_prior_pools_the_incidents_of_several_histories(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = []
    for seed in range(3):
        history = factories.with_incident(
            factories.steady_availability(30, seed=seed, error_ratio=0.0001, bucket_seconds=3600),
            first=100 + seed,
            buckets=2,
            error_ratio=0.5,
        )
        path = tmp_path / f"svc-{seed}.json"
        path.write_text(json.dumps(factories.cli_input_document(availability=history)))
        paths += ["--input", str(path)]

    assert cli.main(["prior", *paths, "--origin", "fleet:test"]) == 0
    fleet = priordoc.loads(capsys.readouterr().out)

    assert (fleet.origin, fleet.services, fleet.incidents) == ("fleet:test", 3, 3)
    assert fleet.median_minutes == pytest.approx(60.0, rel=0.1)  # two hours at half the traffic


def _four_each(logs: np.ndarray) -> list[priors.ServiceStats]:
    """Services of four incidents each, with these log sizes."""
    return factories.seen_sizes(logs.reshape(-1, 4))


def test_a_fleet_learns_the_tail_of_its_incident_sizes() -> None:
    rng = np.random.default_rng(7)
    # Bounded sizes (a uniform log size: a tail that ends) against Pareto sizes (an
    # exponential log size): the fitted tail shapes fall on either side of the default's zero,
    # the bounded one no thinner than a normal's.
    bounded = fleetpool.pool(_four_each(rng.uniform(2.0, 5.0, 160)), origin="bounded")
    pareto = fleetpool.pool(_four_each(2.0 + rng.exponential(1.0, 160)), origin="pareto")

    assert bounded.population
    assert pareto.population
    assert not priors.DEFAULT.population
    assert bounded.size_tail[1] == sizeshape.MIN_TAIL_SHAPE < 0.0 <= priors.DEFAULT.size_tail[1]
    assert pareto.size_tail[1] > -0.2
    drawn = sizeshape.draw_shape(pareto.size_quantiles, pareto.size_tail, rng, 200_000)
    bounded_drawn = sizeshape.draw_shape(bounded.size_quantiles, bounded.size_tail, rng, 200_000)
    # Standardized: mean near 0 and spread near 1; the bounded tail ends, the Pareto one does not.
    assert abs(float(drawn.mean())) < 0.1
    assert 0.8 < float(drawn.std()) < 1.25
    assert float(bounded_drawn.max()) < 3.5
    assert float(drawn.max()) > 4.0
    assert priordoc.document(priordoc.loads(priordoc.dumps(pareto))) == priordoc.document(pareto)


def test_a_normal_fleet_never_gets_a_tail_thinner_than_the_normals() -> None:
    # 84 normal log sizes: the moments fit alone falls below -0.5 in about a fifth of such
    # fleets; the pooled tail stays at or above the normal's own shape.
    shapes = [
        fleetpool.pool(
            _four_each(3.0 + np.random.default_rng(seed).standard_normal(84)), origin="n"
        ).size_tail[1]
        for seed in range(40)
    ]

    assert min(shapes) == sizeshape.MIN_TAIL_SHAPE


def test_too_few_pooled_sizes_keep_the_default_shape() -> None:
    few = fleetpool.pool(_four_each(np.linspace(1.0, 4.0, 20)), origin="few")

    assert few.size_quantiles == priors.DEFAULT.size_quantiles
    assert few.size_tail == priors.DEFAULT.size_tail


def test_a_fleet_prior_is_as_uncertain_as_its_pooled_incidents_are_few() -> None:
    # Issue 8: a fleet prior is one draw of the fleet; a tier must hold had that draw been
    # luckier than the process, and the fewer incidents it pooled, the larger that error.
    few = fleetpool.pool(_four_each(np.linspace(1.0, 4.0, 160))[:10], origin="few")
    many = fleetpool.pool(_four_each(np.linspace(1.0, 4.0, 160)), origin="many")
    quiet = evidence.of(
        np.zeros(24 * 90), np.full(24 * 90, 100.0), np.ones(24 * 90, bool), bucket_seconds=3600
    )

    assert priors.DEFAULT.estimate_variances() == (0.0, 0.0)
    assert predictive.Posterior.of(priors.DEFAULT, quiet).fleet_error == 0.0
    assert few.estimate_variances()[1] > many.estimate_variances()[1] > 0.0
    assert (
        predictive.Posterior.of(few, quiet).fleet_error
        > predictive.Posterior.of(many, quiet).fleet_error
        > 0.0
    )


def test_under_a_fleet_prior_every_pseudo_history_shares_the_predictive_windows() -> None:
    # The tolerance point across pseudo-histories must not read the Monte-Carlo spread of a
    # few hundred windows: each row holds the same incident losses, up to its own factor.
    fleet = fleetpool.pool(
        _four_each(3.0 + np.random.default_rng(1).standard_normal(160)), origin="f"
    )
    quiet = evidence.of(
        np.zeros(24 * 90), np.full(24 * 90, 100.0), np.ones(24 * 90, bool), bucket_seconds=3600
    )
    # The rate's error alone moves how often windows hold an incident (the next tests).
    post = dataclasses.replace(predictive.Posterior.of(fleet, quiet), fleet_rate_error=0.0)
    lost = incidentloss.losses(
        [post], np.random.default_rng(2), outer=64, inner=500, window_days=28
    )

    rows = np.sort(lost[0], axis=1)
    ratio = rows[:, -1] / rows[0, -1]
    assert lost.shape == (1, 64, 500)
    np.testing.assert_allclose(rows, ratio[:, None] * rows[0][None, :], rtol=1e-9)
    assert np.std(np.log(ratio)) == pytest.approx(post.fleet_error, rel=0.3)


def _rare_outages_fleet() -> priors.Prior:
    """Forty services, 30 days each, that saw 3 outages of about 100 full-outage minutes
    between them: a window holds one about 7% of the time, and the fleet is unsure of that."""
    stats = [priors.ServiceStats(0, 30.0)] * 37 + [
        priors.ServiceStats(1, 30.0, math.log(m), math.log(m) ** 2, (math.log(m),))
        for m in (80.0, 100.0, 125.0)
    ]
    return fleetpool.pool(stats, origin="rare")


def _windows_with_an_incident(post: predictive.Posterior) -> np.ndarray:
    lost = incidentloss.losses(
        [post], np.random.default_rng(2), outer=64, inner=500, window_days=28
    )
    return np.asarray(np.count_nonzero(lost[0] > 0, axis=1))


def _quiet_posterior(fleet: priors.Prior) -> predictive.Posterior:
    quiet = evidence.of(
        np.zeros(24 * 30), np.full(24 * 30, 100.0), np.ones(24 * 30, bool), bucket_seconds=3600
    )
    return predictive.Posterior.of(fleet, quiet)


def test_a_fleet_unsure_of_its_rate_puts_incidents_into_more_windows_of_its_unlucky_rows() -> None:
    # A pseudo-history whose draw of the fleet's rate error runs high holds an incident in
    # more windows, not only larger losses in the windows that had one.
    counts = _windows_with_an_incident(_quiet_posterior(_rare_outages_fleet()))

    assert counts.max() > 1.5 * np.median(counts)


def test_the_check_catches_a_rate_error_that_only_scales_losses() -> None:
    post = dataclasses.replace(_quiet_posterior(_rare_outages_fleet()), fleet_rate_error=0.0)

    counts = _windows_with_an_incident(post)

    assert counts.max() == counts.min()


def test_a_fleet_that_saw_no_incident_adds_no_rate_error_to_its_windows() -> None:
    # Its rate is an assumption of half an incident over its exposure, whose uncertainty the
    # Gamma's own shape already draws per window.
    fleet = fleetpool.pool([priors.ServiceStats(0, 90.0)] * 40, origin="quiet")

    assert _quiet_posterior(fleet).fleet_rate_error == 0.0


def test_a_fleet_keeps_a_between_service_spread_larger_than_the_within_one() -> None:
    # Twenty services of two incidents each, their means spread over six log units: the
    # variance rests on 20 degrees of freedom, not 40, and a service's mean on the spread of
    # the means, not on the within variance.
    means = np.linspace(0.0, 6.0, 20)
    fleet = [
        priors.ServiceStats(2, 90.0, 2 * m, (m - 0.5) ** 2 + (m + 0.5) ** 2, (m - 0.5, m + 0.5))
        for m in means
    ]

    pooled = fleetpool.pool(fleet, origin="apart")
    within = pooled.size_scale / (pooled.size_shape - 1)
    weight = fleetpool.FALLBACK_FREEDOM

    # 20 degrees of freedom, and the default's spread its weight's (``fleetpool._size``)
    assert pooled.size_shape == (20 + weight) / 2
    assert within == pytest.approx((weight * priors.DEFAULT_LOG_SD**2 + 20 * 0.5) / (20 + weight))
    # the ANOVA estimate of the means' spread: theirs, less the within variance they carry
    assert within / pooled.size_strength == pytest.approx(np.var(means) - 0.5 * 19 / 40)


def _latency_notes(belief: priors.Prior) -> tuple[str, ...]:
    data = factories.steady_latency(60 * 24, bucket_seconds=3600, seed=3)
    result = factories.recommend_latency(
        data, percentile=Decimal(99), window_seconds=WINDOW, seed=1, prior=belief
    )
    assert result.scope == priors.scope_of("latency", 1.0)  # the bound this history is judged at
    return result.data_quality.notes


def _fleet(scope: str) -> priors.Prior:
    size = math.log(40.0)
    stats = [priors.ServiceStats(3, 90.0, 3 * size, 3 * size**2)] * 6
    return fleetpool.pool(stats, origin="fleet:default", scope=scope)


def test_an_availability_fleet_prior_leaves_latency_on_the_default() -> None:
    # A fleet's availability incidents are error minutes, not slow minutes.
    notes = _latency_notes(_fleet(priors.scope_of("availability")))

    assert notes == _latency_notes(priors.DEFAULT)
    assert any("(default prior)" in note for note in notes)


def test_a_latency_fleet_prior_serves_the_bound_it_was_learned_at() -> None:
    notes = _latency_notes(_fleet(priors.scope_of("latency", 1.0)))

    assert any("(fleet:default, latency-1s prior)" in note for note in notes)


def test_a_latency_fleet_prior_of_another_bound_is_not_used() -> None:
    # The same slowdown is many slow minutes over 1 s and none over 5 s.
    notes = _latency_notes(_fleet(priors.scope_of("latency", 5.0)))

    assert notes == _latency_notes(priors.DEFAULT)


def test_a_latency_result_carries_its_incidents_at_every_bound() -> None:
    # Its fleet at each bound pools every SLI, not only those judged there (models.latency).
    data = factories.steady_latency(60 * 24, bucket_seconds=3600, seed=3)
    result = factories.recommend_latency(
        data, percentile=Decimal(99), window_seconds=WINDOW, seed=1, observe=True
    )
    counts, present = history.clean_latency(data)

    def at(bound: float) -> priors.ServiceStats:
        slow, total = latency_model.slow_requests(counts, np.asarray(data.bounds), bound=bound)
        return evidence.of(slow, total, present, bucket_seconds=3600).stats()

    assert result.incidents == tuple(
        (priors.scope_of("latency", b), at(b)) for b in data.bounds[:-1]
    )
