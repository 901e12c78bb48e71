"""The kopf adapters — the only module that knows kopf (SPEC §4).

kopf reports what the watch sees (``on.event``); the first sight of an object in this process, and
every new ``metadata.generation`` the pass has not yet observed (``status.observedGeneration``), ask
for the same level-based pass (:func:`controller.reconcile.run`) at once, through
:class:`.passes.Runtime`, which runs it as soon as a pass slot is free; a status write, ours or
anyone's, changes no generation and runs nothing. Why not kopf's create/update/resume handlers: they
need kopf's own bookkeeping on every object — a diff-base annotation patched after each change,
progress annotations on retries — one more write per ServiceLevel for the apiserver (with its CEL
validation) and one more watch event back, to learn what the generation already says (issue 12
measured 8 -> 7 requests per ServiceLevel). Nothing of kopf's is written on our objects, so there is
nothing to clean up.

Everything time-driven — refresh, expiry, retries — is planned from what each pass returns and run
by one scheduler task, instead of a kopf timer per object (kopf runs every timer as its own asyncio
task, ticking whether or not anything is due). Handlers return nothing: the status is written by the
pass itself, never from handler results.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from collections.abc import Callable, Iterable
from typing import Any

import kopf
import prometheus_client

from sloreco import allocator, api, errors
from sloreco import settings as config
from sloreco.controller import context
from sloreco.controller import fleet as fleets
from sloreco.core.slis import base
from sloreco.kube import client as kube
from sloreco.runtime import ensemble
from sloreco.runtime import passes as runtime
from sloreco.sources import coalesce, prometheus

RESOURCE = (api.GROUP, api.VERSION, api.SERVICELEVELS)
log = logging.getLogger(__name__)


@kopf.on.startup()
async def startup(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    # kopf's own bookkeeping, if it ever wrote any, lives under our domain, never in our status.
    settings.persistence.finalizer = f"{api.GROUP}/finalizer"
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=api.GROUP)
    settings.persistence.diffbase_storage = NoDiffBase()
    # Watches that end server-side every few minutes survive silent network drops.
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.posting.level = logging.WARNING  # our own events say what happened; skip kopf's
    # kopf says "Handler 'observed' succeeded" for every watch event; its warnings stay.
    logging.getLogger("kopf.objects").setLevel(logging.WARNING)
    allocator.tune()  # before the first recommendation: its temporaries stay mapped
    conf = config.load(os.environ)
    memo.ensemble = place = ensemble.load(os.environ)
    if place.peering:
        settings.peering.standalone = False
        settings.peering.mandatory = True
        settings.peering.name = place.peering
        settings.peering.priority = place.priority
        settings.peering.lifetime = place.lifetime
        settings.peering.stealth = True
    ctx = context.Context(
        kube=kube.KubeClient(credentials(settings)),
        sources={name: _source(source, conf) for name, source in conf.sources.items()},
        settings=conf,
    )
    memo.runtime = runtime.Runtime(ctx)
    #: Objects this process has run a pass for (one key per ServiceLevel; dropped on delete).
    memo.seen = set()
    namespace = os.environ.get(NAMESPACE_ENV)
    await restore(ctx, namespace)  # before any pass computes under a prior not yet read back
    memo.scheduler_task = asyncio.create_task(memo.runtime.scheduler.run_forever())
    wake = functools.partial(memo.runtime.scheduler.due_in, seconds=0)
    memo.fleet_task = asyncio.create_task(learn_forever(ctx, namespace, wake))
    if conf.metrics_port:
        prometheus_client.start_http_server(conf.metrics_port)


def _source(source: prometheus.SourceConfig, conf: config.Settings) -> base.HistorySource:
    """A source's client; reads that differ only in its batch label share queries."""
    client = prometheus.PrometheusClient(source, concurrency=conf.query_concurrency)
    return coalesce.Coalescing(client, label=source.batch_label) if source.batch_label else client


def credentials(settings: kopf.OperatorSettings) -> kube.Credentials:
    """The API credentials kopf itself logs in with (in-cluster service account first, else the
    kubeconfig): one parser for both clients, and inline keys never touch the disk for long."""
    info = kopf.login_with_service_account(settings=settings) or kopf.login_with_kubeconfig(
        settings=settings
    )
    if info is None or not info.server:
        raise kopf.PermanentError("No Kubernetes credentials: neither in-cluster nor kubeconfig.")
    return kube.Credentials(
        server=info.server, headers=info.as_http_headers(), verify=info.as_ssl_context()
    )


#: The operator's own namespace (the Deployment sets it from the downward API): where the fleet
#: priors are kept (``controller.fleet``). Unset, they are learned but not persisted.
NAMESPACE_ENV = "SLORECO_NAMESPACE"


async def restore(ctx: context.Context, namespace: str | None) -> None:
    """The fleet priors a previous run saved, read back before the first pass: a pass before
    them would recompute nothing under the default that it had computed under a fleet's, but
    any refresh due in that moment would fall back to the default."""
    if namespace:
        try:
            await fleets.load(ctx.kube, ctx.fleet, namespace)
        except errors.KubeError as exc:
            log.warning("fleet priors not restored from %s: %s", namespace, exc)


async def learn_forever(
    ctx: context.Context, namespace: str | None, wake: Callable[[tuple[str, str]], None]
) -> None:
    """Relearn the fleet priors and save them on a schedule (not per pass).

    A pool's first prior of a scope wakes the ServiceLevels that feed it: their
    recommendations were computed without it, and their next pass recomputes them
    (``controller.plan.refresh_due``) instead of waiting out their ``refreshInterval``."""
    while True:
        await asyncio.sleep(ctx.settings.fleet_learn_seconds)
        known = ctx.fleet.in_force()
        learned = ctx.fleet.learn()
        first = sorted(set(learned) - known)
        if first:
            woken = ctx.fleet.members({name for name, _ in first})
            log.info(
                "Learned the first fleet prior of %s; refreshing the %d ServiceLevels feeding it.",
                ", ".join(f"{name} ({scope})" for name, scope in first),
                len(woken),
            )
            for key in woken:
                wake(key)
        if namespace and learned:
            try:
                await fleets.save(ctx.kube, ctx.fleet, namespace)
            except errors.KubeError as exc:
                log.warning("fleet priors not saved to %s: %s", namespace, exc)


@kopf.on.cleanup()
async def cleanup(memo: kopf.Memo, **_: Any) -> None:
    memo.scheduler_task.cancel()
    memo.fleet_task.cancel()
    await asyncio.gather(memo.scheduler_task, memo.fleet_task, return_exceptions=True)
    await memo.runtime.close()
    memo.runtime.ctx.analyses.shutdown(cancel_futures=True)


class NoDiffBase(kopf.DiffBaseStorage):
    """No diff base. kopf builds one from every event's body for change handlers to diff (a deep
    copy of the whole object, status included, then pruned), and this operator has none:
    ``observed`` compares generations. An empty essence is never read and costs nothing (py-spy,
    2,000 ServiceLevels: kopf's build and its deep copies were 2.5% and 2.3% of the operator's
    CPU); nothing is stored on the object, as before."""

    def build(
        self, *, body: kopf.Body, extra_fields: Iterable[kopf.FieldSpec] | None = None
    ) -> kopf.BodyEssence:
        return kopf.BodyEssence()

    def fetch(self, *, body: kopf.Body) -> kopf.BodyEssence | None:
        return None

    def store(self, *, body: kopf.Body, patch: kopf.Patch, essence: kopf.BodyEssence) -> None:
        return None


def owned(namespace: str | None, memo: Any, **_: Any) -> bool:
    """This operator's shard holds ``namespace`` (always, without sharding)."""
    place: ensemble.Ensemble = memo.ensemble
    return place.owns(namespace)


@kopf.on.event(*RESOURCE)
async def dependency_graph(event: kopf.RawEvent, body: kopf.Body, memo: Any, **_: Any) -> None:
    """Keep the dependency graph (``controller.graph``) from every event, in every namespace:
    a dependency may live in a namespace another shard owns. Registered before ``observed`` so
    that the pass an event starts reads the graph with that event in it."""
    graph = memo.runtime.ctx.graph
    if event["type"] == "DELETED":
        graph.drop(body.metadata.namespace or "", body.metadata.name or "")
    else:
        graph.see(body)


@kopf.on.event(*RESOURCE, when=owned)
async def observed(
    event: kopf.RawEvent, body: kopf.Body, name: str, namespace: str | None, memo: Any, **_: Any
) -> None:
    """Ask for a pass; never wait for it. A handler that ran the pass would hold kopf's
    per-object worker, and the event's body, until a pass slot came free: at a cold start that
    is every object at once (20,000 measured, issue 12). The pass reads the object itself."""
    operator: runtime.Runtime = memo.runtime
    key = (namespace or "", name)  # ServiceLevels are namespaced: kopf always gives one
    if event["type"] == "DELETED":
        memo.seen.discard(key)
        operator.changed(key)  # the pass finds it gone and forgets it
        return
    generation = body.metadata.get("generation")
    if key in memo.seen and generation == body.status.get("observedGeneration"):
        return  # nothing new to the pass: a status or metadata write
    memo.seen.add(key)
    operator.changed(key)
