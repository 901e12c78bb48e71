"""``core.alerting``: the exported burn-rate alerts replayed over a history (pager cost).

Histories are built by hand so that every expected number can be worked out on paper; the replay
is checked against Prometheus's own rule engine in ``tests/integration/test_alerting_promtool.py``.
"""

from __future__ import annotations

import pathlib
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
import yaml

from sloreco.core import alerting, history
from sloreco.render import crd
from tests import factories

HOUR = 3600
DAY = 86400
START = factories.EPOCH_2024_05_01
REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]


def _events(bad_ratio: list[float] | np.ndarray, *, per_hour: float = 6000.0) -> alerting.Events:
    ratios = np.asarray(bad_ratio, dtype=np.float64)
    total = np.full(len(ratios), per_hour)
    return alerting.Events(START, HOUR, total, total * ratios, np.ones(len(ratios), dtype=np.bool_))


def _clean_days(days: int, *, ratio: float = 0.0001) -> list[float]:
    return [ratio] * (days * 24)


def test_a_quiet_history_costs_nothing() -> None:
    found = alerting.cost(
        _events(_clean_days(28)), target=Decimal("99.9"), window_seconds=28 * DAY, incidents=()
    )
    assert (found.pages, found.tickets, found.detections) == (0, 0, ())
    assert found.days == 28.0


def test_a_full_outage_pages_within_a_minute_having_burned_what_a_minute_burns() -> None:
    ratios = _clean_days(10)
    outage = 5 * 24 + 3  # 2024-05-06T03:00Z, two hours of every request failing
    ratios[outage] = ratios[outage + 1] = 1.0
    incident = (START + outage * HOUR, START + (outage + 2) * HOUR)
    found = alerting.cost(
        _events(ratios), target=Decimal("99.9"), window_seconds=28 * DAY, incidents=[incident]
    )
    # First evaluation inside the outage (1 minute in): the 5m ratio is 1/5 (one failing minute
    # in five) and the 1h ratio 1/60 (+ the background), both above 14.4 x 0.001.
    [detection] = found.detections
    assert detection.time_to_detect == 60
    # One minute of all traffic failing, of a 28-day budget of 0.1% of 28 days of traffic.
    expected = (6000 / 60) / (0.001 * 6000 * 24 * 28)
    assert detection.budget_burned == pytest.approx(expected, rel=1e-3)
    assert found.pages == 1
    assert found.tickets == 1
    assert found.per_period(found.pages) == pytest.approx(2.8)


def test_a_slow_burn_opens_a_ticket_but_does_not_page() -> None:
    ratios = _clean_days(10)
    for hour in range(4 * 24, 6 * 24):  # two days at 2x the budget of 99.9
        ratios[hour] = 0.002
    found = alerting.cost(
        _events(ratios),
        target=Decimal("99.9"),
        window_seconds=28 * DAY,
        incidents=[(START + 4 * DAY, START + 6 * DAY)],
    )
    assert found.pages == 0
    assert found.tickets == 1
    assert found.detections == (alerting.Detection(START + 4 * DAY, START + 6 * DAY, None, None),)


def test_a_looser_objective_never_pages_more() -> None:
    rng = np.random.default_rng(7)
    ratios = np.clip(rng.lognormal(np.log(0.0005), 1.5, 24 * 30), 0, 1)
    pages = [
        alerting.cost(
            _events(ratios), target=Decimal(t), window_seconds=28 * DAY, incidents=()
        ).pages
        for t in ("99.99", "99.9", "99.5", "99", "95")
    ]
    assert pages == sorted(pages, reverse=True)
    assert pages[0] > pages[-1]


def test_latency_bad_events_are_requests_above_the_bound() -> None:
    data = factories.synthetic_latency(days=2, requests_per_bucket=500)
    bound = 0.25
    found = alerting.events(data, bound=bound)
    j = data.bounds.index(bound)
    assert np.allclose(found.bad, data.cumulative[:, -1] - data.cumulative[:, j])
    with pytest.raises(ValueError, match="not a bound"):
        alerting.events(data, bound=0.3)


def test_missing_buckets_fire_nothing() -> None:
    ratios = _clean_days(4)
    events = _events(ratios)
    events.total[30:40] = 0.0
    events.bad[30:40] = 0.0
    times, fires = alerting.conditions(events, 0.001)
    assert len(times) == 4 * 24 * 60
    assert not fires["page"].any()
    assert not fires["ticket"].any()


@pytest.fixture(scope="module")
def costed() -> Any:
    """35 days of hourly history with one three-hour incident at half the requests failing."""
    data = factories.with_incident(
        factories.synthetic_availability(days=35, error_ratio=0.001),
        first=20 * 24 + 5,
        buckets=3,
        error_ratio=0.5,
    )
    # The quiet prior: tiers from what the history shows, so that every tier's 14.4x burn
    # threshold stays below the incident's 50% error ratio (the default prior's unseen
    # incidents widen the conservative budget past it, and nothing would page).
    recommended = factories.recommend_availability(
        data, window_seconds=28 * DAY, seed=1, prior=factories.QUIET_PRIOR
    )
    return alerting.with_alerting(recommended, data)


def test_recommendations_carry_the_cost_in_spec_and_words(costed: Any) -> None:
    spec = crd.recommendation_spec(costed)
    tiers: list[dict[str, Any]] = spec["tiers"]  # type: ignore[assignment]
    for tier in tiers:
        cost = tier["alerting"]
        assert cost["evaluationInterval"] == "1m"
        assert cost["incidents"] == len(cost["detections"])
        assert cost["incidentsPaged"] == sum(d["paged"] for d in cost["detections"])
        days = costed.tiers[0].alerting.days
        assert float(cost["pagesPer28d"]) == pytest.approx(cost["pages"] * 28 / days, abs=0.01)
    incident = next(
        i for i in costed.explanation.incidents if i.start == START + (20 * 24 + 5) * HOUR
    )
    detect = []
    for tier in costed.tiers:
        [detection] = [d for d in tier.alerting.detections if d.start == incident.start]
        # Half the requests failing: the 1h ratio grows by about 0.5/60 a minute until it
        # passes 14.4x the tier's budget (the 5m ratio is past it after a minute); traffic
        # varies from hour to hour, hence a minute or two either way.
        budget = float((100 - tier.target) / 100)
        minutes = (14.4 * budget * 60 - 0.001 * 60) / (0.5 - 0.001)
        assert detection.time_to_detect is not None
        assert abs(detection.time_to_detect - 60 * minutes) <= 120
        detect.append(detection.time_to_detect)
    assert detect == sorted(detect, reverse=True)  # a stricter tier pages sooner
    assert "Pager cost of the exported burn-rate alerts" in costed.explanation.summary
    assert "paged" in costed.explanation.summary


def _schema_keys(schema: dict[str, Any], doc: object, path: str) -> list[str]:
    """Paths in ``doc`` that the schema does not declare (pruned by the apiserver)."""
    missing: list[str] = []
    if isinstance(doc, dict):
        props = schema.get("properties", {})
        for key, value in doc.items():
            if key not in props:
                missing.append(f"{path}.{key}")
            else:
                missing += _schema_keys(props[key], value, f"{path}.{key}")
    elif isinstance(doc, list):
        for item in doc:
            missing += _schema_keys(schema.get("items", {}), item, f"{path}[]")
    return missing


def test_every_alerting_field_is_in_the_crd_schema(costed: Any) -> None:
    """Drift: a field the renderer writes but the CRD lacks would be silently pruned."""
    spec = crd.recommendation_spec(costed)
    crd_doc = yaml.safe_load((REPO_ROOT / "crds" / "slorecommendations.yaml").read_text("utf-8"))
    schema = crd_doc["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    tier_schema = schema["properties"]["tiers"]["items"]
    tiers: list[dict[str, Any]] = spec["tiers"]  # type: ignore[assignment]
    assert any(t["alerting"]["detections"] for t in tiers)
    assert any("timeToDetect" in d for t in tiers for d in t["alerting"]["detections"])
    for tier in tiers:
        assert _schema_keys(tier_schema, tier, "tiers[]") == []


def test_same_history_same_cost() -> None:
    data = history.AvailabilityHistory(
        bucket_seconds=HOUR,
        start=START,
        total=np.full(24 * 8, 1000.0),
        bad=np.r_[np.zeros(24 * 4), np.full(24, 300.0), np.zeros(24 * 3)],
        excluded=np.zeros(24 * 8, dtype=np.bool_),
    )
    first = alerting.cost(
        alerting.events(data), target=Decimal("99"), window_seconds=7 * DAY, incidents=[]
    )
    second = alerting.cost(
        alerting.events(data), target=Decimal("99"), window_seconds=7 * DAY, incidents=[]
    )
    assert first == second
    assert first.pages == 1
