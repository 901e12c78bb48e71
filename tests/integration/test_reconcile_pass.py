"""One reconcile pass at a time, in-process, against the real apiserver and Prometheus.

Time is an argument of the pass (STYLE 3), so what takes hours on a wall clock — a TTL running
out while Prometheus is down, a refresh after an outage — takes one call each here, with the
spec's real bounds (refresh at least 5m, TTL at least refresh + bucket).
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest

from sloreco import api, settings
from sloreco.controller import analysis, children, context, reconcile
from sloreco.controller import fleet as fleets
from sloreco.core import prior as priors
from sloreco.kube import client as kube
from sloreco.runtime import passes
from sloreco.sources import prometheus
from sloreco.testing import controlplane as cplane
from tests import factories
from tests.fixtures.operator import OperatorHistory

pytestmark = pytest.mark.integration
T = TypeVar("T")
HOUR = 3600

Obj = api.Obj
Step = Callable[[context.Context], Awaitable[T]]
#: One fleet member's incident statistics: two incidents of 40 full-outage minutes in 90 days.
FLEET_STATS = priors.ServiceStats(2, 90.0, 2 * math.log(40.0), 2 * math.log(40.0) ** 2)


@pytest.fixture
def in_process(
    controlplane: cplane.ControlPlane, private_history: OperatorHistory
) -> Iterator[Callable[[Step[Any]], Any]]:
    """Run ``step(ctx)`` with the operator's clients, freshly made on a loop of its own."""

    def run(step: Step[T]) -> T:
        async def main() -> T:
            source = prometheus.SourceConfig(name="default", url=private_history.url, timeout=5)
            conf = settings.Settings(sources={"default": source}, metrics_port=0)
            client = prometheus.PrometheusClient(source, retry=prometheus.retries.RetryPolicy(1))
            async with kube.KubeClient(controlplane.credentials()) as k8s:
                try:
                    return await step(context.Context(k8s, {"default": client}, conf))
                finally:
                    await client.aclose()

        return asyncio.run(main())

    return run


def conditions(body: Obj) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c["reason"]) for c in body["status"]["conditions"]}


def test_expiry_while_prometheus_is_down_then_recovery(
    in_process: Callable[[Step[Any]], Any], namespace: str, private_history: OperatorHistory
) -> None:
    manifest = factories.service_level(
        "web", service="checkout", refreshInterval="1h", recommendationTTL="2h"
    )
    path = kube.path_for(api.SERVICELEVELS, namespace)
    first_now = private_history.end + 60.0
    expired_now = first_now + 2 * HOUR + 1

    async def create_and_pass(ctx: context.Context) -> reconcile.Outcome:
        await ctx.kube.create(path, manifest)
        return await reconcile.run(namespace, "web", ctx=ctx, now=first_now)

    first = in_process(create_and_pass)
    assert (len(first.created), len(first.activated), first.source_failed) == (1, 1, False)

    private_history.stop()

    async def later(ctx: context.Context) -> tuple[reconcile.Outcome, Obj, list[Obj]]:
        outcome = await reconcile.run(namespace, "web", ctx=ctx, now=expired_now)
        body = await ctx.kube.get(kube.path_for(api.SERVICELEVELS, namespace, "web"))
        kids = await ctx.kube.list(kube.path_for(api.RECOMMENDATIONS, namespace))
        return outcome, body, kids

    down, body, kids = in_process(later)
    assert (down.expired, down.source_failed) == (first.activated, True)
    assert [children.state(c) for c in kids] == ["Expired"]
    assert conditions(body)["Ready"] == ("False", "RecommendationExpired")
    assert conditions(body)["SourceReachable"][0] == "False"

    private_history.start()
    up, body, kids = in_process(later)
    assert (len(up.created), len(up.activated), up.source_failed) == (1, 1, False)
    assert sorted(children.state(c) for c in kids) == ["Active", "Expired"]
    assert conditions(body)["Ready"] == ("True", "RecommendationsCurrent")
    assert conditions(body)["SourceReachable"] == ("True", "QueriesSucceeded")


def test_state_labels_agree_with_the_status_after_every_pass(
    in_process: Callable[[Step[Any]], Any], namespace: str, private_history: OperatorHistory
) -> None:
    """The first child is created labelled Active (nothing to supersede); a refresh's child is
    created Pending and relabelled when activated, after its predecessor was superseded."""
    manifest = factories.service_level(
        "web", service="checkout", refreshInterval="1h", recommendationTTL="2h"
    )
    first_now = private_history.end + 60.0

    async def passes_at(ctx: context.Context) -> list[dict[str, str]]:
        await ctx.kube.create(kube.path_for(api.SERVICELEVELS, namespace), manifest)
        seen = []
        for now in (first_now, first_now + HOUR):
            outcome = await reconcile.run(namespace, "web", ctx=ctx, now=now)
            assert len(outcome.activated) == 1
            kids = await ctx.kube.list(kube.path_for(api.RECOMMENDATIONS, namespace))
            seen.append({children.state(c): c["metadata"]["labels"][api.LABEL_STATE] for c in kids})
        return seen

    assert in_process(passes_at) == [
        {"Active": "Active"},
        {"Active": "Active", "Superseded": "Superseded"},
    ]


def test_a_refresh_shorter_than_the_bucket_is_reported_not_run(
    in_process: Callable[[Step[Any]], Any], namespace: str, private_history: OperatorHistory
) -> None:
    """Issue 9 item 5: admission allows 5m, but this operator's bucket is an hour."""
    manifest = factories.service_level(
        "fast", service="checkout", refreshInterval="5m", recommendationTTL="10m"
    )

    async def create_and_pass(ctx: context.Context) -> tuple[reconcile.Outcome, Obj]:
        await ctx.kube.create(kube.path_for(api.SERVICELEVELS, namespace), manifest)
        outcome = await reconcile.run(namespace, "fast", ctx=ctx, now=private_history.end + 60.0)
        return outcome, await ctx.kube.get(kube.path_for(api.SERVICELEVELS, namespace, "fast"))

    outcome, body = in_process(create_and_pass)
    assert (outcome.created, outcome.queries) == ((), ())
    ready = next(c for c in body["status"]["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "BucketDoesNotFit")
    assert ready["message"].startswith("spec.refreshInterval (5m) is shorter than the operator's")


def test_an_exception_in_a_pass_becomes_a_condition_and_an_event(
    in_process: Callable[[Step[Any]], Any],
    namespace: str,
    private_history: OperatorHistory,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Issue 10 item 2: 28 objects never got a status while the handler raised on every retry."""

    async def broken(*_: object, **__: object) -> None:
        raise ValueError("year 12020 is out of range")

    monkeypatch.setattr(analysis, "recommend", broken)
    manifest = factories.service_level("web", service="checkout")

    async def create_and_run(ctx: context.Context) -> tuple[float | None, Obj, list[Obj]]:
        await ctx.kube.create(kube.path_for(api.SERVICELEVELS, namespace), manifest)
        operator = passes.Runtime(ctx, clock=lambda: private_history.end + 60.0)
        delay = await operator.run((namespace, "web"), forced=True)
        body = await ctx.kube.get(kube.path_for(api.SERVICELEVELS, namespace, "web"))
        events = await ctx.kube.list(f"/api/v1/namespaces/{namespace}/events")
        return delay, body, events

    delay, body, events = in_process(create_and_run)
    ready = next(c for c in body["status"]["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "InternalError")
    assert "ValueError: year 12020 is out of range" in ready["message"]
    assert [(e["type"], e["reason"]) for e in events] == [("Warning", "InternalError")]
    assert delay is not None
    assert 1 <= delay <= settings.DEFAULT_MAX_BACKOFF
    assert "Traceback" not in caplog.text


def test_another_namespace_is_read_only_with_its_consent(
    in_process: Callable[[Step[Any]], Any],
    namespace: str,
    other_namespace: str,
    private_history: OperatorHistory,
) -> None:
    """Issue 10 item 4: a tenant of ``namespace`` learns nothing about ``other_namespace`` until
    the referenced ServiceLevel lists it in ``spec.sharedWith``."""
    now = private_history.end + 60.0
    secret = factories.service_level(
        "payments-internal",
        service="payments",
        dependencies=[{"serviceLevel": "web", "namespace": namespace}],  # would be a cycle
    )
    web = factories.service_level(
        "web",
        service="checkout",
        dependencies=[
            {"serviceLevel": "payments-internal", "namespace": other_namespace},
            {"serviceLevel": "no-such-thing", "namespace": other_namespace},
        ],
    )
    observed = {"status": {"observed": [{"sli": "availability", "median": "97.1234"}]}}
    other = kube.path_for(api.SERVICELEVELS, other_namespace)

    async def setup_and_pass(ctx: context.Context) -> tuple[reconcile.Outcome, Obj]:
        await ctx.kube.create(other, secret)
        await ctx.kube.merge_patch(f"{other}/payments-internal/status", observed)
        await ctx.kube.create(kube.path_for(api.SERVICELEVELS, namespace), web)
        outcome = await reconcile.run(namespace, "web", ctx=ctx, now=now)
        return outcome, await ctx.kube.get(kube.path_for(api.SERVICELEVELS, namespace, "web"))

    _, refused = in_process(setup_and_pass)
    resolved = next(
        c for c in refused["status"]["conditions"] if c["type"] == "DependenciesResolved"
    )
    first, second, _ = resolved["message"].split("; ")
    # Refused and missing read the same; nothing of the other object leaks (no cycle, no number).
    assert first.replace("payments-internal", "NAME") == second.replace("no-such-thing", "NAME")
    assert "cycle" not in resolved["message"]
    assert "97.12" not in json.dumps(refused["status"])
    assert refused["status"].get("ceiling") is None

    async def consent_and_pass(ctx: context.Context) -> Obj:
        await ctx.kube.merge_patch(
            f"{other}/payments-internal", {"spec": {"sharedWith": [namespace]}}
        )
        await reconcile.run(namespace, "web", ctx=ctx, now=now + 1)
        return await ctx.kube.get(kube.path_for(api.SERVICELEVELS, namespace, "web"))

    shared = in_process(consent_and_pass)
    resolved = next(
        c for c in shared["status"]["conditions"] if c["type"] == "DependenciesResolved"
    )
    assert "payments-internal" not in resolved["message"]  # resolved now; only the missing one
    assert shared["status"]["ceiling"] == "97.1234"


def test_an_error_selector_wider_than_the_total_is_a_data_condition(
    in_process: Callable[[Step[Any]], Any], namespace: str, private_history: OperatorHistory
) -> None:
    """Issue 10 item 7: errors > total used to give 0.00 % tiers with Ready=True."""
    manifest = factories.service_level(
        "wide",
        service="checkout",
        availability={
            "totalQuery": 'http_requests_total{service="checkout"}',
            # Counts each request once per histogram bucket: many times the requests.
            "errorQuery": 'http_request_duration_seconds_bucket{service="checkout"}',
        },
    )

    async def create_and_pass(ctx: context.Context) -> tuple[reconcile.Outcome, Obj]:
        await ctx.kube.create(kube.path_for(api.SERVICELEVELS, namespace), manifest)
        outcome = await reconcile.run(namespace, "wide", ctx=ctx, now=private_history.end + 60.0)
        return outcome, await ctx.kube.get(kube.path_for(api.SERVICELEVELS, namespace, "wide"))

    outcome, body = in_process(create_and_pass)
    assert outcome.created == ()
    data = next(c for c in body["status"]["conditions"] if c["type"] == "DataSufficient")
    assert (data["status"], data["reason"]) == ("False", "InconsistentData")
    assert data["message"].startswith("spec.availability.errorQuery counts ")
    ready = next(c for c in body["status"]["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "False"


def test_two_slis_with_different_data_problems_keep_one_steady_condition(
    in_process: Callable[[Step[Any]], Any], namespace: str, private_history: OperatorHistory
) -> None:
    """Issue 9: with a problem on each SLI the condition named only the last SLI queried, and
    each pass posted the other's Warning again (its problem was "new" against that message)."""
    manifest = factories.service_level(
        "both",
        service="checkout",
        availability={
            "totalQuery": 'http_requests_total{service="checkout"}',
            "errorQuery": 'http_request_duration_seconds_bucket{service="checkout"}',
        },
        latency={"histogram": 'http_request_duration_seconds_bucket{service="nowhere"}'},
    )
    events = f"/api/v1/namespaces/{namespace}/events"

    async def create_and_pass_three_times(ctx: context.Context) -> tuple[list[Obj], list[Obj]]:
        await ctx.kube.create(kube.path_for(api.SERVICELEVELS, namespace), manifest)
        seen = []
        for minutes in (1, 2, 3):
            now = private_history.end + 60.0 * minutes
            await reconcile.run(namespace, "both", ctx=ctx, now=now)
            body = await ctx.kube.get(kube.path_for(api.SERVICELEVELS, namespace, "both"))
            seen.append(
                next(c for c in body["status"]["conditions"] if c["type"] == "DataSufficient")
            )
        return seen, await ctx.kube.list(events)

    seen, posted = in_process(create_and_pass_three_times)
    assert seen[0] == seen[1] == seen[2]  # one condition, not a flip between the SLIs
    data = seen[0]
    assert (data["status"], data["reason"]) == ("False", "InconsistentData")
    assert data["message"].startswith("spec.availability.errorQuery counts ")
    assert "; spec.latency.histogram: " in data["message"]
    assert data["message"].endswith(" (NoSeries).")
    warnings = sorted(e["reason"] for e in posted if e["type"] == "Warning")
    assert warnings == ["InconsistentData", "NoSeries"]  # once each, not once per pass


def test_each_sli_takes_its_own_scopes_fleet_prior_and_feeds_it(
    in_process: Callable[[Step[Any]], Any], namespace: str, private_history: OperatorHistory
) -> None:
    # Availability incidents are full-outage minutes; a latency incident's slow minutes are
    # counted over the bound the SLI is judged at, so each takes the prior of that bound.
    manifest = factories.service_level("both", service="checkout", latency=True)
    scopes = [priors.scope_of("availability")] + [
        priors.scope_of("latency", b) for b in factories.DEFAULT_LATENCY_BOUNDS
    ]

    async def learn_then_pass(ctx: context.Context) -> tuple[list[Obj], dict[str, int]]:
        for scope in scopes:  # one SLI per scope for each of five other ServiceLevels
            for i in range(fleets.MIN_SERVICES):
                ctx.fleet.observe("default", f"ns/svc-{i}", scope, ((scope, FLEET_STATS),))
        ctx.fleet.learn()
        await ctx.kube.create(kube.path_for(api.SERVICELEVELS, namespace), manifest)
        await reconcile.run(namespace, "both", ctx=ctx, now=private_history.end + 60.0)
        services = {p.scope: p.services for p in ctx.fleet.learn().values()}
        return await ctx.kube.list(kube.path_for(api.RECOMMENDATIONS, namespace)), services

    kids, services = in_process(learn_then_pass)
    by_sli = {children.sli_of(child): child["spec"] for child in kids}
    notes = {sli: " ".join(spec["dataQuality"]["notes"]) for sli, spec in by_sli.items()}
    bound = float(by_sli["latency"]["tiers"][0]["bucketBound"])
    judged = priors.scope_of("latency", bound)

    assert "Incident model (fleet:default, availability prior)" in notes["availability"]
    assert f"Incident model (fleet:default, {judged} prior)" in notes["latency"]
    # the pass fed both SLIs' incidents back: availability's to its fleet, latency's to every
    # bound's, not only to the one it is judged at
    assert services["availability"] == fleets.MIN_SERVICES + 1
    assert {services[s] for s in scopes[1:]} == {fleets.MIN_SERVICES + 1}


def test_a_service_level_that_names_a_fleet_takes_its_fleets_prior_and_feeds_both_pools(
    in_process: Callable[[Step[Any]], Any], namespace: str, private_history: OperatorHistory
) -> None:
    manifest = factories.service_level("db", service="checkout", fleet="databases")
    scope = priors.scope_of("availability")

    async def learn_then_pass(ctx: context.Context) -> tuple[list[Obj], dict[str, int]]:
        for i in range(fleets.MIN_SERVICES):  # as many other databases, and other services
            ctx.fleet.observe(
                "default", f"ns/db-{i}", "availability", ((scope, FLEET_STATS),), fleet="databases"
            )
            ctx.fleet.observe("default", f"ns/svc-{i}", "availability", ((scope, FLEET_STATS),))
        ctx.fleet.learn()
        await ctx.kube.create(kube.path_for(api.SERVICELEVELS, namespace), manifest)
        await reconcile.run(namespace, "db", ctx=ctx, now=private_history.end + 60.0)
        services = {name: p.services for (name, _), p in ctx.fleet.learn().items()}
        return await ctx.kube.list(kube.path_for(api.RECOMMENDATIONS, namespace)), services

    kids, services = in_process(learn_then_pass)
    (child,) = kids
    notes = " ".join(child["spec"]["dataQuality"]["notes"])

    assert "Incident model (fleet:default/databases, availability prior)" in notes
    assert services == {
        "default": 2 * fleets.MIN_SERVICES + 1,
        "default_databases": fleets.MIN_SERVICES + 1,
    }


def test_a_fleet_with_no_prior_yet_is_named_in_the_notes_with_the_prior_in_its_place(
    in_process: Callable[[Step[Any]], Any], namespace: str, private_history: OperatorHistory
) -> None:
    manifest = factories.service_level("lone", service="checkout", fleet="databases")

    async def one_pass(ctx: context.Context) -> list[Obj]:
        await ctx.kube.create(kube.path_for(api.SERVICELEVELS, namespace), manifest)
        await reconcile.run(namespace, "lone", ctx=ctx, now=private_history.end + 60.0)
        return await ctx.kube.list(kube.path_for(api.RECOMMENDATIONS, namespace))

    (child,) = in_process(one_pass)
    notes = child["spec"]["dataQuality"]["notes"]

    assert notes[-1] == (
        f"Fleet 'databases' has no availability prior yet (it needs {fleets.MIN_SERVICES} SLIs "
        "with history at this scope): the default prior is used."
    )


def test_a_fleets_first_prior_refreshes_a_recommendation_computed_without_it(
    in_process: Callable[[Step[Any]], Any], namespace: str, private_history: OperatorHistory
) -> None:
    # Not at the next scheduled refresh (an hour away here): at the next pass. The relearned
    # prior after it, of the same origin, refreshes nothing until the schedule.
    manifest = factories.service_level("cold", service="checkout", refreshInterval="1h")
    scope = priors.scope_of("availability")
    now = private_history.end + 60.0

    async def passes_around_learning(ctx: context.Context) -> list[reconcile.Outcome]:
        await ctx.kube.create(kube.path_for(api.SERVICELEVELS, namespace), manifest)
        before = await reconcile.run(namespace, "cold", ctx=ctx, now=now)
        for i in range(fleets.MIN_SERVICES):
            ctx.fleet.observe("default", f"ns/svc-{i}", "availability", ((scope, FLEET_STATS),))
        ctx.fleet.learn()
        learned = await reconcile.run(namespace, "cold", ctx=ctx, now=now + 60)
        ctx.fleet.learn()  # relearned, now with this ServiceLevel's own statistics too
        relearned = await reconcile.run(namespace, "cold", ctx=ctx, now=now + 120)
        return [before, learned, relearned]

    outcomes = in_process(passes_around_learning)
    kids = {
        c["metadata"]["name"]: c
        for c in in_process(
            lambda ctx: ctx.kube.list(kube.path_for(api.RECOMMENDATIONS, namespace))
        )
    }
    (first,), (second,), relearned = (o.created for o in outcomes)
    under = {name: children.computed_under_prior(kids[name]) for name in (first, second)}

    assert under == {
        first: children.PriorUsed("default", "availability"),
        second: children.PriorUsed("fleet:default", "availability"),
    }
    assert [children.state(kids[first]), children.state(kids[second])] == ["Superseded", "Active"]
    assert relearned == ()
