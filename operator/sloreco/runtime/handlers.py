"""The kopf adapters — the only module that knows kopf (SPEC §4).

kopf reports changes: create, spec update and resume all run the same level-based pass
(:func:`controller.reconcile.run`) at once, through :class:`.passes.Runtime`. Everything
time-driven — refresh, expiry, retries — is planned from what each pass returns and run by one
scheduler task, instead of a kopf timer per object (kopf runs every timer as its own asyncio task,
ticking whether or not anything is due). Handlers return nothing: the status is written by the
pass itself, never from handler results.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import typing
from collections.abc import Iterable
from typing import Any

import kopf
import prometheus_client

from sloreco import api, errors
from sloreco import settings as config
from sloreco.controller import context
from sloreco.controller import fleet as fleets
from sloreco.kube import client as kube
from sloreco.runtime import ensemble
from sloreco.runtime import passes as runtime
from sloreco.sources import prometheus

RESOURCE = (api.GROUP, api.VERSION, api.SERVICELEVELS)
log = logging.getLogger(__name__)


class SpecDigestStorage(kopf.AnnotationsDiffBaseStorage):
    """kopf's diff base, reduced to a digest of the spec.

    kopf stores the last handled "essence" of an object to tell a spec change from a status
    write; by default that is a copy of the whole spec, labels and annotations, which
    ``kubectl describe`` then prints as one long JSON annotation. The only handler that reads the
    diff reacts to *any* change of ``spec``, so a digest is all it needs: a changed spec changes
    the digest, and kopf reports a change of the field ``spec``.
    """

    def build(
        self,
        *,
        body: kopf.Body,
        extra_fields: Iterable[kopf.FieldSpec] | None = None,
    ) -> kopf.BodyEssence:
        essence = super().build(body=body, extra_fields=extra_fields)
        spec = json.dumps(essence.get("spec"), sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256(spec.encode()).hexdigest()[:DIGEST_LENGTH]
        return typing.cast(kopf.BodyEssence, {"spec": digest})


#: 16 hex digits (64 bits): two different specs of one object never collide in practice.
DIGEST_LENGTH = 16


@kopf.on.startup()
async def startup(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    # kopf's own bookkeeping lives under our domain, in annotations, never in our status.
    settings.persistence.finalizer = f"{api.GROUP}/finalizer"
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=api.GROUP)
    settings.persistence.diffbase_storage = SpecDigestStorage(
        prefix=api.GROUP, key="last-handled-spec"
    )
    # Watches that end server-side every few minutes survive silent network drops.
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.posting.level = logging.WARNING  # our own events say what happened; skip kopf's
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request drowns the log
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
        sources={
            name: prometheus.PrometheusClient(source, concurrency=conf.query_concurrency)
            for name, source in conf.sources.items()
        },
        settings=conf,
    )
    memo.runtime = runtime.Runtime(ctx)
    memo.scheduler_task = asyncio.create_task(memo.runtime.scheduler.run_forever())
    memo.fleet_task = asyncio.create_task(learn_forever(ctx, os.environ.get(NAMESPACE_ENV)))
    if conf.metrics_port:
        prometheus_client.start_http_server(conf.metrics_port)


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


async def learn_forever(ctx: context.Context, namespace: str | None) -> None:
    """Restore the fleet priors, then relearn and save them on a schedule (not per pass)."""
    if namespace:
        try:
            await fleets.load(ctx.kube, ctx.fleet, namespace)
        except errors.KubeError as exc:
            log.warning("fleet priors not restored from %s: %s", namespace, exc)
    while True:
        await asyncio.sleep(fleets.LEARN_INTERVAL_SECONDS)
        learned = ctx.fleet.learn()
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


def owned(namespace: str | None, memo: Any, **_: Any) -> bool:
    """This operator's shard holds ``namespace`` (always, without sharding)."""
    place: ensemble.Ensemble = memo.ensemble
    return place.owns(namespace)


@kopf.on.create(*RESOURCE, when=owned)
@kopf.on.update(*RESOURCE, field="spec", when=owned)
@kopf.on.resume(*RESOURCE, when=owned)
async def changed(name: str, namespace: str | None, memo: Any, **_: Any) -> None:
    operator: runtime.Runtime = memo.runtime
    key = (namespace or "", name)  # ServiceLevels are namespaced: kopf always gives one
    try:
        delay = await operator.run(key, forced=True)
    except errors.KubeError as exc:
        raise kopf.TemporaryError(f"Kubernetes API call failed: {exc}", delay=10) from exc
    operator.scheduler.due_in(key, delay)
