"""ServiceLevel status: conditions by the API conventions, byte-stable when nothing changed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sloreco.controller import children, status


def child(name: str, state: str, *, generated: str = "2026-01-01T00:00:00Z") -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {
            "sli": "availability",
            "generatedAt": generated,
            "expiresAt": "2026-01-03T00:00:00Z",
            "tiers": [{"name": "balanced", "target": "99.90"}],
            "dataQuality": {"coverage": "1.0000", "daysAnalysed": "90.00"},
            "explanation": {"observed": {"worst": "99.1", "median": "99.9", "best": "99.99"}},
        },
        "status": {"state": state} if state else {},
    }


def test_transition_time_survives_when_status_is_unchanged() -> None:
    before = [{"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"}]
    after = status.merge_conditions(
        before,
        [status.Condition("Ready", True, "RecommendationsCurrent", "ok")],
        generation=2,
        now="2026-02-02T00:00:00Z",
    )
    assert after[0]["lastTransitionTime"] == "2026-01-01T00:00:00Z"


def test_transition_time_moves_when_status_flips() -> None:
    before = [{"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"}]
    after = status.merge_conditions(
        before,
        [status.Condition("Ready", False, "RecommendationExpired", "expired")],
        generation=2,
        now="2026-02-02T00:00:00Z",
    )
    assert after[0]["lastTransitionTime"] == "2026-02-02T00:00:00Z"


def test_conditions_are_written_in_a_fixed_order() -> None:
    conditions = [
        status.Condition(status.DEGRADED, False, "AsExpected", "-"),
        status.Condition(status.SOURCE_REACHABLE, True, "QueriesSucceeded", "-"),
        status.Condition(status.READY, True, "RecommendationsCurrent", "-"),
    ]
    merged = status.merge_conditions([], conditions, generation=1, now="2026-01-01T00:00:00Z")
    assert [c["type"] for c in merged] == ["Ready", "SourceReachable", "Degraded"]


def test_ready_when_every_sli_has_an_active_child() -> None:
    ready = status.ready(["availability"], {"availability": [child("a", "Active")]}, why_not="")
    assert (ready.status, ready.reason) == (True, "RecommendationsCurrent")


def test_not_ready_with_reason_expired() -> None:
    ready = status.ready(["availability"], {"availability": [child("a", "Expired")]}, why_not="")
    assert (ready.status, ready.reason) == (False, "RecommendationExpired")


def test_degraded_names_the_first_problem() -> None:
    problem = status.Condition(status.SOURCE_REACHABLE, False, "SourceUnreachable", "down")
    degraded = status.degraded([status.Condition(status.READY, True, "x", "y"), problem])
    expected = (True, "SourceUnreachable", "down")
    assert (degraded.status, degraded.reason, degraded.message) == expected


def test_objective_unachievable_degrades_when_true() -> None:
    problem = status.Condition(status.OBJECTIVE_UNACHIEVABLE, True, "AboveDependencyCeiling", "x")
    assert status.degraded([problem]).status is True


def test_recommendations_list_active_and_bounded_history() -> None:
    kids = {
        "availability": [
            child("new", "Active", generated="2026-01-04T00:00:00Z"),
            child("old1", "Superseded", generated="2026-01-03T00:00:00Z"),
            child("old2", "Expired", generated="2026-01-02T00:00:00Z"),
        ]
    }
    [entry] = status.recommendations(["availability"], kids, history=1)
    assert (entry["name"], [s["name"] for s in entry["superseded"]]) == ("new", ["old1"])


def test_observed_comes_from_the_active_child() -> None:
    kids = {"availability": [child("a", "Active"), child("b", children.SUPERSEDED)]}
    assert status.observed(["availability"], kids) == [
        {
            "sli": "availability",
            "coverage": "1.0000",
            "daysAnalysed": "90.00",
            "lowConfidence": False,
            "worst": "99.1",
            "median": "99.9",
            "best": "99.99",
        }
    ]


def _with(spec: dict[str, Any]) -> dict[str, Any]:
    kid = child("a", "Active")
    kid["spec"] = {**kid["spec"], "window": "28d", **spec}
    return kid


def test_objective_follows_the_engines_verdict_with_the_numbers() -> None:
    report = {
        "availability": "99.999",
        "breachProbability": "1.0000",
        "backtest": {"evaluations": 6, "breaches": 6},
        "achievable": False,
        "unachievableBecause": "backtest",
    }
    kid = _with({"explanation": {"currentObjective": report}})
    cond = status.objective(
        ["availability"], {"availability": [kid]}, ceiling=None, likely_limit=0.1
    )
    assert cond is not None
    assert (cond.type, cond.status, cond.reason) == (
        status.OBJECTIVE_UNACHIEVABLE,
        True,
        "MostPastWindowsMissed",
    )
    assert cond.message == (
        "Availability objective 99.999% is unachievable: missed in 6 of 6 past 28d windows; "
        "predicted to miss 100.00% of future windows (unachievable above 10%)."
    )
    assert status.degraded([cond]).status is True


def test_an_achievable_objective_is_said_with_its_numbers() -> None:
    report = {
        "availability": "99",
        "breachProbability": "0.0010",
        "backtest": {"evaluations": 0, "breaches": 0},
        "achievable": True,
    }
    kid = _with({"explanation": {"currentObjective": report}})
    cond = status.objective(
        ["availability"], {"availability": [kid]}, ceiling=None, likely_limit=0.1
    )
    assert cond is not None
    assert (cond.status, cond.reason) == (False, "Achievable")
    assert "not backtested yet" in cond.message
    assert status.objective(["availability"], {"availability": [child("a", "Active")]},
                            ceiling=None, likely_limit=0.1) is None  # fmt: skip


def test_low_confidence_is_a_reason_with_days_found_and_wanted() -> None:
    kid = _with({"dataQuality": {"daysAnalysed": "9.90", "lowConfidence": True}})
    ok = status.Condition(status.DATA_SUFFICIENT, True, "EnoughHistory", "Enough.")
    cond = status.data_quality(ok, ["availability"], {"availability": [kid]})
    assert cond is not None
    assert (cond.status, cond.reason) == (True, "LowConfidence")
    assert cond.message.startswith(
        "availability: 9.90 days of history, fewer than one 28d window (28 days)"
    )
    again = status.data_quality(cond, ["availability"], {"availability": [child("a", "Active")]})
    assert again is not None
    assert again.reason == "EnoughHistory"
    short = status.Condition(status.DATA_SUFFICIENT, False, "InsufficientHistory", "5 days")
    assert status.data_quality(short, ["availability"], {"availability": [kid]}) == short


def test_an_event_only_for_a_new_problem() -> None:
    problem = status.Condition(status.SOURCE_REACHABLE, False, "UnknownSource", "nope")
    stored = {"type": "SourceReachable", "status": "False", "reason": "UnknownSource"}
    assert (
        status.is_new({"status": {"conditions": [{**stored, "message": "nope"}]}}, problem) is False
    )
    assert (
        status.is_new({"status": {"conditions": [{**stored, "message": "old"}]}}, problem) is True
    )
    assert status.is_new({}, problem) is True


def test_metrics_export_the_active_children_only() -> None:
    by_sli = {"availability": [child("a", "Active"), child("b", "Superseded")], "latency": []}
    assert children.active_targets(by_sli) == (("availability", "balanced", Decimal("99.90")),)
