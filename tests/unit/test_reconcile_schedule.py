"""When a pass recomputes: refresh rules of the reconcile pass, with time as an argument."""

from __future__ import annotations

from typing import Any

from sloreco import api
from sloreco.controller import plan
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
    *, generated: float, data_end: int, generation: int = 1, ceiling: str | None = None
) -> dict[str, Any]:
    annotations = {api.ANNOTATION_GENERATION: str(generation)}
    if ceiling is not None:
        annotations[api.ANNOTATION_CEILING] = ceiling
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
    kids: list[dict[str, Any]], *, now: float, generation: int = 1, ceiling: str | None = None
) -> bool:
    return plan.refresh_due(kids, observed(now, spec=SPEC, generation=generation, ceiling=ceiling))


def observed(
    now: float, *, spec: specs.ServiceLevelSpec, generation: int = 1, ceiling: str | None = None
) -> plan.Observed:
    return plan.Observed(
        spec=spec,
        generation=generation,
        kids={},
        ceiling=ceiling,
        now=now,
        bucket_seconds=HOUR,
    )


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
