"""explain.limits: what held each tier, named only where a counterfactual moved it."""

from __future__ import annotations

from decimal import Decimal

from bench import judge, profiles
from sloreco.core import results
from sloreco.core.explain import limits
from tests import factories

PRECISION = Decimal("0.0001")
DAY = 86400


def factors(target: str, **fields: object) -> list[str]:
    """The factors that hold a balanced tier at ``target`` percent, given ``fields``."""
    f = factories.facts(target, **fields)
    found = limits.limits(f, 0, PRECISION, low_confidence=False, low_traffic=False)
    return [limit.factor for limit in found]


def test_a_tier_the_incident_model_holds_is_limited_by_incidents_not_the_baseline() -> None:
    # The history replays 99.9%; the model's background alone 99.85%; its incidents, none of
    # them seen, take the tier to 97%.
    found = factors(
        target="97",
        replayed=(Decimal("99.9"),),
        background_alone=(Decimal("99.85"),),
    )

    assert found == ["incidents"]


def test_a_tier_the_background_model_holds_is_limited_by_the_background() -> None:
    found = factors(
        target="98",
        replayed=(Decimal("99.9"),),
        background_alone=(Decimal("98.05"),),
    )

    assert found == ["background"]


def test_a_counterfactual_under_a_quarter_of_the_budget_is_not_named() -> None:
    # A 1-point budget: the background alone 0.2 points higher, the replay 0.24 points higher.
    found = factors(
        target="99",
        replayed=(Decimal("99.24"),),
        background_alone=(Decimal("99.2"),),
    )

    assert found == ["baseline"]


def test_the_replayed_incidents_counterfactual_comes_first() -> None:
    # An incident seen: the history replayed without it names it, once.
    seen = results.Incident(start=0, end=3600, bad_events=10.0, share=0.4, peak_ratio=0.5)
    found = factors(
        target="99",
        incidents=(seen,),
        incident_share=0.4,
        without_incidents=(Decimal("99.8"),),
        replayed=(Decimal("99.9"),),
        background_alone=(Decimal("99.85"),),
    )

    assert found == ["incidents"]


def test_a_clean_history_under_the_default_prior_names_the_incidents_it_did_not_show() -> None:
    # 90 clean days: the default prior's outages, none of them seen, hold the conservative
    # tier far under what the history replays (until this rule it was said to be held by "the
    # steady error rate itself" wherever its interval was narrow enough).
    clean = factories.steady_availability(90, requests_per_day=24_000, error_ratio=0.0002, seed=1)

    result = factories.recommend_availability(clean, window_seconds=28 * DAY, seed=1)
    conservative = dict(result.explanation.limited_by)["conservative"]

    assert [
        (limit.factor, "did not show" in limit.detail)
        for limit in conservative
        if limit.factor == "incidents"
    ] == [("incidents", True)]


def test_a_background_that_drifts_in_spells_names_the_background() -> None:
    # The suite's ``persistent`` profile: a background whose daily share carries over (AR 0.9),
    # which the forecast widens beyond what its blocks replay.
    profile = profiles.by_name("persistent")
    total, bad = judge.histories(profile, count=1, seed=3)[0]

    result = judge.engine_result(profile, total, bad, 3, None)
    conservative = dict(result.explanation.limited_by)["conservative"]

    assert "background" in [limit.factor for limit in conservative]
