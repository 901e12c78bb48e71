"""The pass's decisions as data: ``plan(observed) -> actions`` for hand-made children."""

from __future__ import annotations

from typing import Any

from sloreco import api
from sloreco.controller import plan
from sloreco.spec import model as specs

HOUR = 3600
T0 = 1_767_225_600  # 2026-01-01T00:00:00Z
SPEC = specs.parse_service_level_spec(
    {
        "service": "checkout",
        "availability": {
            "totalQuery": 'http_requests_total{service="checkout"}',
            "errorQuery": 'http_requests_total{service="checkout",code=~"5.."}',
        },
        "refreshInterval": "1h",
        "recommendationTTL": "3h",
        "historyLimit": 2,
    }
)


def child(  # state "" is Pending (no state written yet)
    name: str, state: str, *, generated: float, sli: str = "availability", generation: int = 1
) -> api.Obj:
    return {
        "metadata": {"name": name, "annotations": {api.ANNOTATION_GENERATION: str(generation)}},
        "spec": {
            "sli": sli,
            "generatedAt": api.rfc3339(generated),
            "expiresAt": api.rfc3339(generated + 3 * HOUR),
            "lookback": {"start": api.rfc3339(T0 - 90 * 86400), "end": api.rfc3339(T0)},
        },
        "status": {"state": state},
    }


def observed(
    now: float, *kids: api.Obj, spec: specs.ServiceLevelSpec = SPEC, **extra: Any
) -> plan.Observed:
    by_sli: dict[str, list[api.Obj]] = {sli: [] for sli in api.SLIS}
    for kid in kids:
        by_sli[kid["spec"]["sli"]].append(kid)
    fields: dict[str, Any] = {"generation": 1, "ceiling": None, "bucket_seconds": HOUR} | extra
    return plan.Observed(spec=spec, kids=by_sli, now=now, **fields)


def test_nothing_to_do_for_a_fresh_active_child() -> None:
    seen = observed(T0 + 60, child("a", "Active", generated=T0))
    assert (plan.refreshes(seen), plan.cleanup(seen)) == ((), plan.Cleanup())
    assert plan.requeue_after(seen) == HOUR - 60  # the next refresh, before the expiry


def test_a_configured_sli_without_an_active_child_is_refreshed_now() -> None:
    seen = observed(T0)
    assert (plan.refreshes(seen), plan.requeue_after(seen)) == (("availability",), 0)


def test_a_spec_change_refreshes_and_the_schedule_says_now() -> None:
    seen = observed(T0 + 60, child("a", "Active", generated=T0), generation=2)
    assert plan.refreshes(seen) == ("availability",)


def test_an_overdue_active_child_expires_and_old_ones_are_pruned_counting_it() -> None:
    kids = [
        child("old-1", "Superseded", generated=T0 - 3 * HOUR),
        child("old-2", "Expired", generated=T0 - 2 * HOUR),
        child("current", "Active", generated=T0 - HOUR),
    ]
    seen = observed(T0 + 2 * HOUR + 1, *kids)
    # "current" expires: three non-active children, historyLimit 2, the oldest goes.
    assert plan.cleanup(seen) == plan.Cleanup(expire=("current",), prune=("old-1",))


def test_an_sli_removed_from_the_spec_is_retired() -> None:
    latency = child("lat", "Active", generated=T0, sli="latency")
    pending = child("lat-new", "", generated=T0 + 1, sli="latency")
    seen = observed(T0 + 60, child("a", "Active", generated=T0), latency, pending)
    assert plan.cleanup(seen) == plan.Cleanup(retire=("lat", "lat-new"))


def test_settle_supersedes_every_other_live_child_then_activates() -> None:
    kids = [
        child("old", "Active", generated=T0 - HOUR),
        child("crashed", "", generated=T0 - 60),
        child("new", "", generated=T0),
        child("gone", "Expired", generated=T0 - 9 * HOUR),
    ]
    assert plan.settle(kids, keep="new", generation=1) == plan.Settle(
        supersede=("old", "crashed"), activate="new"
    )


def test_settle_only_restamps_an_active_child_after_a_spec_change() -> None:
    kids = [child("same", "Active", generated=T0, generation=1)]
    assert plan.settle(kids, keep="same", generation=2) == plan.Settle(restamp="same")
    assert plan.settle(kids, keep="same", generation=1) == plan.Settle()


def test_waiting_for_history_looks_again_at_the_next_refresh() -> None:
    seen = observed(T0)
    assert plan.requeue_after(seen, waiting_for_data=("availability",)) == HOUR


def test_unresolved_dependencies_are_retried_sooner() -> None:
    seen = observed(T0 + 60, child("a", "Active", generated=T0))
    assert plan.requeue_after(seen, retry_dependencies=30) == 30
