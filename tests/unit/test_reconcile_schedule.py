"""When a pass recomputes: refresh rules of the reconcile pass, with time as an argument."""

from __future__ import annotations

import dataclasses
from typing import Any

from sloreco import api
from sloreco.controller import plan
from sloreco.core import prior as priors_
from sloreco.spec import model as specs

HOUR = 3600
T0 = 1_767_225_600  # 2026-01-01T00:00:00Z, an hour boundary
SPEC = specs.parse_service_level_spec(
    {
        "service": "checkout",
        "availability": {
            "totalQuery": 'http_requests_total{service="checkout"}',
            "errorQuery": 'http_requests_total{service="checkout",code=~"5.."}',
        },
        "refreshInterval": "1h",
        "recommendationTTL": "3h",
    }
)


def active(
    *,
    generated: float,
    data_end: int,
    generation: int = 1,
    ceiling: str | None = None,
    prior: tuple[str, str] | None = None,
) -> dict[str, Any]:
    annotations = {api.ANNOTATION_GENERATION: str(generation)}
    if ceiling is not None:
        annotations[api.ANNOTATION_CEILING] = ceiling
    if prior is not None:
        annotations[api.ANNOTATION_PRIOR], annotations[api.ANNOTATION_PRIOR_SCOPE] = prior
    return {
        "metadata": {"name": "c", "annotations": annotations},
        "spec": {
            "sli": "availability",
            "generatedAt": api.rfc3339(generated),
            "expiresAt": api.rfc3339(generated + 3 * HOUR),
            "lookback": {"start": api.rfc3339(data_end - 90 * 86400),
                         "end": api.rfc3339(data_end)},
        },
        "status": {"state": "Active"},
    }  # fmt: skip


def due(
    kids: list[dict[str, Any]],
    *,
    now: float,
    generation: int = 1,
    ceiling: str | None = None,
    priors: tuple[priors_.Prior, ...] = (),
) -> bool:
    seen = observed(now, spec=SPEC, generation=generation, ceiling=ceiling, priors=priors)
    return plan.refresh_due(kids, seen)


def observed(
    now: float,
    *,
    spec: specs.ServiceLevelSpec,
    generation: int = 1,
    ceiling: str | None = None,
    priors: tuple[priors_.Prior, ...] = (),
) -> plan.Observed:
    return plan.Observed(
        spec=spec,
        generation=generation,
        kids={},
        ceiling=ceiling,
        now=now,
        bucket_seconds=HOUR,
        priors=priors,
    )


def fleet_prior(origin: str = "fleet:default", scope: str = "availability") -> priors_.Prior:
    return dataclasses.replace(priors_.DEFAULT, origin=origin, scope=scope)


def test_due_without_an_active_child() -> None:
    assert due([], now=T0) is True


def test_not_due_within_the_refresh_interval() -> None:
    assert due([active(generated=T0 + 60, data_end=T0)], now=T0 + HOUR - 1) is False


def test_due_after_the_refresh_interval_once_a_new_bucket_exists() -> None:
    assert due([active(generated=T0 + 60, data_end=T0)], now=T0 + HOUR + 60) is True


def test_not_due_before_a_newer_bucket_even_after_the_interval() -> None:
    spec_short = SPEC.model_copy(update={"refresh_interval": "1m"})
    kid = active(generated=T0 + 60, data_end=T0)
    result = plan.refresh_due([kid], observed(T0 + 600, spec=spec_short))
    assert result is False


def test_due_after_a_spec_change() -> None:
    assert due([active(generated=T0, data_end=T0)], now=T0 + 1, generation=2) is True


def test_due_when_the_dependency_ceiling_moved() -> None:
    kid = active(generated=T0, data_end=T0, ceiling="99.9000")
    assert due([kid], now=T0 + 1, ceiling="99.5000") is True


def test_next_refresh_is_the_later_of_interval_and_next_bucket() -> None:
    kid = active(generated=T0 + 30 * 60, data_end=T0)
    assert plan.next_refresh(kid, spec=SPEC, bucket_seconds=HOUR) == T0 + 90 * 60


def test_due_when_its_fleet_learned_its_first_prior() -> None:
    kid = active(generated=T0, data_end=T0, prior=("default", "availability"))
    assert due([kid], now=T0 + 1, priors=(fleet_prior(),)) is True


def test_not_due_when_its_fleet_relearned_the_prior_it_was_computed_under() -> None:
    # relearned every few minutes: same origin, so it waits for the schedule
    kid = active(generated=T0, data_end=T0, prior=("fleet:default", "availability"))
    assert due([kid], now=T0 + 1, priors=(fleet_prior(),)) is False


def test_due_when_the_fleet_it_names_learned_a_prior_of_its_own() -> None:
    kid = active(generated=T0, data_end=T0, prior=("fleet:default", "availability"))
    named = fleet_prior("fleet:default/databases")  # Fleet.priors: the named fleet's, per scope
    assert due([kid], now=T0 + 1, priors=(named,)) is True


def test_not_due_when_the_fleet_learned_a_prior_of_another_scope_only() -> None:
    kid = active(generated=T0, data_end=T0, prior=("default", "latency-0.5s"))
    assert due([kid], now=T0 + 1, priors=(fleet_prior(scope="latency-1s"),)) is False


def test_a_child_that_recorded_no_prior_waits_for_its_schedule() -> None:
    # made by an operator before children recorded their prior: no mass refresh on upgrade
    assert due([active(generated=T0, data_end=T0)], now=T0 + 1, priors=(fleet_prior(),)) is False


def test_not_due_when_the_prior_it_was_computed_under_is_gone() -> None:
    # an operator that could not read its priors back, or a fleet that shrank: no flip to the
    # default and back for every child; the schedule decides
    kid = active(generated=T0, data_end=T0, prior=("fleet:default", "availability"))
    assert due([kid], now=T0 + 1, priors=()) is False
