"""engine: the public entry points — guards, data quality, dependencies, objectives, shape."""

from __future__ import annotations

import json
import math
from decimal import Decimal

import numpy as np
import pytest

from sloreco import errors
from sloreco.core import history, inputs, method, results
from sloreco.render import crd
from tests import factories

WINDOW = 28 * 86400
DAY = 86400
#: Backtest origins in 90 days: every step back from day 62 (the last window ends with the
#: history) while the default minimum of 7 days of data lies before the origin.
ORIGINS_IN_90_DAYS = len(range(90 - 28, 7 - 1, -method.MethodSettings().backtest_step_days))


def recommend(hist: history.AvailabilityHistory, **kwargs: object) -> results.SliResult:
    return factories.recommend_availability(hist, window_seconds=WINDOW, seed=7, **kwargs)  # type: ignore[arg-type]


def noisy(days: int = 90, **kwargs: object) -> history.AvailabilityHistory:
    return factories.steady_availability(days, seed=3, **kwargs)  # type: ignore[arg-type]


def test_too_little_history_raises_with_the_days_found() -> None:
    with pytest.raises(errors.InsufficientDataError) as caught:
        recommend(noisy(6))

    assert caught.value.days_found == 6.0


def test_missing_days_do_not_count_as_history() -> None:
    hist = factories.with_buckets(noisy(10), [0, 1, 2, 3], total=math.nan, bad=math.nan)

    with pytest.raises(errors.InsufficientDataError) as caught:
        recommend(hist)

    assert caught.value.days_found == 6.0


def test_history_without_any_request_is_insufficient() -> None:
    with pytest.raises(errors.InsufficientDataError):
        recommend(factories.daily_availability([0] * 30, [0] * 30))


def test_history_shorter_than_a_window_is_low_confidence() -> None:
    result = recommend(noisy(14))

    assert (result.data_quality.low_confidence, result.observed.source) == (True, "simulated")


def test_history_of_several_windows_is_not_low_confidence() -> None:
    result = recommend(noisy(90))

    assert (result.data_quality.low_confidence, result.observed.source) == (False, "history")


def test_low_traffic_is_flagged_in_words() -> None:
    # The guard compares one event with the balanced budget; the quiet prior keeps that budget
    # what the data alone says (the default prior's unseen incidents would widen it).
    result = recommend(
        noisy(30, requests_per_day=50, error_ratio=0.001), prior=factories.QUIET_PRIOR
    )

    assert (
        result.data_quality.low_traffic,
        any("Low traffic" in n for n in result.data_quality.notes),
    ) == (True, True)


def test_busy_service_is_not_low_traffic() -> None:
    assert recommend(noisy(30, requests_per_day=1_000_000)).data_quality.low_traffic is False


def test_gaps_are_reported_with_their_times() -> None:
    hist = factories.with_buckets(noisy(30), [10, 11], total=math.nan, bad=math.nan)

    gaps = crd.recommendation_spec(recommend(hist))["dataQuality"]["gaps"]  # type: ignore[index]

    assert gaps == [{"start": "2024-05-11T00:00:00Z", "end": "2024-05-13T00:00:00Z"}]


def test_nan_inf_and_negative_counts_are_treated_as_missing() -> None:
    base = noisy(40)
    broken = factories.with_buckets(base, [5], total=math.inf, bad=1.0)
    broken = factories.with_buckets(broken, [6], total=100.0, bad=-3.0)
    missing = factories.with_buckets(base, [5, 6], total=math.nan, bad=math.nan)

    assert crd.recommendation_spec(recommend(broken)) == crd.recommendation_spec(recommend(missing))


def test_excluded_buckets_are_counted_apart_from_gaps() -> None:
    hist = history.exclude(
        noisy(30),
        [history.Exclusion(factories.EPOCH_2024_05_01, factories.EPOCH_2024_05_01 + 2 * DAY)],
    )

    quality = crd.recommendation_spec(recommend(hist))["dataQuality"]

    assert (quality["excludedBuckets"], quality["gaps"], quality["coverage"]) == (2, [], "1.0000")  # type: ignore[index]


def test_dependencies_cap_conservative_and_balanced_but_not_aggressive() -> None:
    result = recommend(
        noisy(90, error_ratio=0.00001),
        dependencies=[inputs.Dependency("db", 0.999)],
        prior=factories.QUIET_PRIOR,
    )

    assert [(t.name, t.target, t.capped) for t in result.tiers] == [
        ("conservative", Decimal("99.90"), True),
        ("balanced", Decimal("99.90"), True),
        ("aggressive", result.tier("aggressive").target, False),
    ]
    assert result.tier("aggressive").target > Decimal("99.90")


def test_a_shared_dependency_is_counted_once() -> None:
    once = recommend(noisy(30), dependencies=[inputs.Dependency("db", 0.9995)])
    twice = recommend(
        noisy(30), dependencies=[inputs.Dependency("db", 0.9995), inputs.Dependency("db", 0.9995)]
    )

    assert crd.recommendation_spec(twice) == crd.recommendation_spec(once)


def test_the_ceiling_multiplies_only_the_dependencies() -> None:
    result = recommend(
        noisy(30), dependencies=[inputs.Dependency("db", 0.999), inputs.Dependency("queue", 0.998)]
    )

    assert result.ceiling == 0.999 * 0.998


def test_an_objective_above_the_ceiling_is_unachievable() -> None:
    result = recommend(
        noisy(30), dependencies=[inputs.Dependency("db", 0.999)], current_objective=Decimal("99.95")
    )

    assert result.objective_unachievable is True


def test_an_objective_within_the_ceiling_is_achievable() -> None:
    result = recommend(
        noisy(30), dependencies=[inputs.Dependency("db", 0.999)], current_objective=Decimal("99.5")
    )

    assert result.objective_unachievable is False


def test_each_dependency_reports_the_budget_share_it_consumes() -> None:
    result = recommend(noisy(30, error_ratio=0.01), dependencies=[inputs.Dependency("db", 0.999)])
    target = result.tier("aggressive").target

    share = dict(result.explanation.dependencies[0].budget_share)["aggressive"]

    assert share == (1 - 0.999) / (1 - float(target) / 100)


def test_the_bottleneck_is_named() -> None:
    result = recommend(
        noisy(90, error_ratio=0.00001),
        dependencies=[inputs.Dependency("db", 0.999), inputs.Dependency("cache", 0.9999)],
        prior=factories.QUIET_PRIOR,
    )
    limits = dict(result.explanation.limited_by)["conservative"]

    assert (
        "db" in limits[0].detail,
        limits[0].factor,
        "bottleneck db" in result.explanation.summary,
    ) == (True, "dependency", True)


def test_a_dependency_availability_outside_zero_one_is_an_input_error() -> None:
    with pytest.raises(errors.InputError) as caught:
        inputs.Dependency("db", 99.9)

    assert caught.value.field == "dependencies"


def test_incidents_are_found_with_their_share_of_errors() -> None:
    hist = factories.with_incident(
        noisy(60, error_ratio=0.0005), first=30, buckets=2, error_ratio=0.2
    )
    bad = np.nan_to_num(hist.bad)

    incident = recommend(hist).explanation.incidents[0]

    assert (incident.start, incident.end, incident.share) == (
        hist.start + 30 * DAY,
        hist.start + 32 * DAY,
        float(bad[30:32].sum() / bad.sum()),
    )


def test_a_large_incident_limits_the_tiers() -> None:
    hist = factories.with_incident(
        noisy(90, error_ratio=0.0005), first=40, buckets=2, error_ratio=0.3
    )

    factors = [
        limit.factor for limit in dict(recommend(hist).explanation.limited_by)["conservative"]
    ]

    assert "incidents" in factors


def test_a_steady_service_has_no_incidents() -> None:
    assert recommend(noisy(60)).explanation.incidents == ()


def test_the_current_objective_gets_a_breach_probability_and_a_backtest() -> None:
    report = recommend(noisy(90), current_objective=Decimal("99.9")).explanation.current_objective

    assert report is not None
    assert (report.evaluations, 0 <= report.breach_probability <= 1) == (ORIGINS_IN_90_DAYS, True)


def test_no_backtest_without_a_full_window_after_enough_history() -> None:
    result = recommend(noisy(30))

    assert [t.evaluations for t in result.backtest.tiers] == [0, 0, 0]


def test_a_window_that_is_not_whole_days_is_an_input_error() -> None:
    with pytest.raises(errors.InputError) as caught:
        factories.recommend_availability(noisy(30), window_seconds=36 * 3600, seed=1)

    assert caught.value.field == "window"


def test_a_negative_seed_is_an_input_error() -> None:
    with pytest.raises(errors.InputError) as caught:
        factories.recommend_availability(noisy(30), window_seconds=WINDOW, seed=-1)

    assert caught.value.field == "seed"


def test_an_objective_over_100_is_an_input_error() -> None:
    with pytest.raises(errors.InputError) as caught:
        recommend(noisy(30), current_objective=Decimal("100.5"))

    assert caught.value.field == "currentObjective.availability"


def test_invalid_settings_name_the_setting() -> None:
    with pytest.raises(errors.InputError) as caught:
        method.MethodSettings(tolerance=0.9)

    assert caught.value.field == "settings.tolerance"


def test_targets_are_at_the_configured_precision() -> None:
    result = recommend(noisy(30), settings=method.MethodSettings(precision=Decimal("0.001")))

    assert {t.target.as_tuple().exponent for t in result.tiers} == {-3}


def test_same_inputs_and_seed_give_identical_bytes() -> None:
    first = json.dumps(crd.recommendation_spec(recommend(noisy(40))))
    second = json.dumps(crd.recommendation_spec(recommend(noisy(40))))

    assert first == second


def test_the_document_has_the_api_shape() -> None:
    spec = crd.recommendation_spec(recommend(noisy(40), current_objective=Decimal("99.9")))

    assert (list(spec), list(spec["tiers"][0])) == (  # type: ignore[index]
        ["sli", "window", "lookback", "tiers", "backtest", "explanation", "dataQuality", "method"],
        ["name", "target", "breachProbability", "confidenceInterval", "errorBudget", "capped"],
    )


def test_the_document_holds_no_floats() -> None:
    spec = crd.recommendation_spec(recommend(noisy(40), current_objective=Decimal("99.9")))

    def floats(node: object) -> list[object]:
        if isinstance(node, dict):
            return [f for value in node.values() for f in floats(value)]
        if isinstance(node, list):
            return [f for value in node for f in floats(value)]
        return [node] if isinstance(node, float) else []

    assert floats(spec) == []


def test_the_summary_fits_the_crd() -> None:
    hist = factories.with_incident(
        noisy(90, requests_per_day=20), first=10, buckets=3, error_ratio=0.5
    )

    summary = recommend(hist, current_objective=Decimal("99.9")).explanation.summary

    assert len(summary) <= 4096


# --- Latency ------------------------------------------------------------------------------


def recommend_latency(hist: history.LatencyHistory, **kwargs: object) -> results.SliResult:
    return factories.recommend_latency(
        hist,
        percentile=Decimal("99"),
        window_seconds=WINDOW,
        seed=7,
        **kwargs,  # type: ignore[arg-type]
    )


def test_latency_bucket_bound_is_at_or_above_the_threshold() -> None:
    result = recommend_latency(factories.steady_latency(60, seed=1))

    assert all(
        t.threshold is not None
        and t.bucket_bound is not None
        and float(t.threshold) <= t.bucket_bound
        for t in result.tiers
    )


def test_latency_bucket_bound_is_a_histogram_bound() -> None:
    hist = factories.steady_latency(60, seed=1)

    result = recommend_latency(hist)

    assert {t.bucket_bound for t in result.tiers} <= set(hist.bounds)


def test_conservative_latency_is_the_loosest_threshold() -> None:
    result = recommend_latency(factories.steady_latency(60, seed=2))
    thresholds = [t.threshold for t in result.tiers]

    assert thresholds == sorted(thresholds, reverse=True)  # type: ignore[type-var]


def test_a_percentile_in_the_inf_bucket_is_flagged() -> None:
    hist = factories.steady_latency(30, shares=(0.5, 0.9, 0.95, 0.97), seed=1)

    result = recommend_latency(hist)

    assert (
        [t.bucket_bound for t in result.tiers],
        any("+Inf" in limit.detail for limit in dict(result.explanation.limited_by)["balanced"]),
        any("highest finite bucket bound" in n for n in result.data_quality.notes),
    ) == ([1.0, 1.0, 1.0], True, True)


def test_latency_objective_gets_a_breach_probability_and_a_backtest() -> None:
    objective = results.LatencyObjective(threshold=Decimal("0.5"), target=Decimal("99"))

    report = recommend_latency(
        factories.steady_latency(90, seed=3), current_objective=objective
    ).explanation.current_objective

    assert report is not None
    assert (report.latency, report.evaluations) == (objective, ORIGINS_IN_90_DAYS)


def test_latency_document_carries_percentile_threshold_and_bound() -> None:
    spec = crd.recommendation_spec(recommend_latency(factories.steady_latency(30, seed=4)))

    assert (spec["percentile"], list(spec["tiers"][0])[:4]) == (  # type: ignore[index]
        "99",
        ["name", "target", "threshold", "bucketBound"],
    )


def test_percentile_of_100_is_an_input_error() -> None:
    with pytest.raises(errors.InputError) as caught:
        factories.recommend_latency(
            factories.steady_latency(30), percentile=Decimal("100"), window_seconds=WINDOW, seed=1
        )

    assert caught.value.field == "latency.percentile"


def test_bounds_without_inf_are_an_input_error() -> None:
    hist = factories.steady_latency(30)
    broken = history.LatencyHistory(
        hist.bucket_seconds, hist.start, (*hist.bounds[:-1], 20.0), hist.cumulative, hist.excluded
    )

    with pytest.raises(errors.InputError) as caught:
        recommend_latency(broken)

    assert caught.value.field == "latency.bounds"


def test_too_little_latency_history_raises_with_the_days_found() -> None:
    with pytest.raises(errors.InsufficientDataError) as caught:
        recommend_latency(factories.steady_latency(5))

    assert caught.value.days_found == 5.0


def test_percentile_is_written_as_given() -> None:
    result = factories.recommend_latency(
        factories.steady_latency(30, seed=1),
        percentile=Decimal("99.99"),
        window_seconds=WINDOW,
        seed=1,
    )

    assert crd.recommendation_spec(result)["percentile"] == "99.99"
