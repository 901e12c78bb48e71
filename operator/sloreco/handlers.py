"""The kopf adapters — the only module that knows kopf (SPEC §4).

Every handler is a thin shell around :func:`sloreco.reconcile.run`: create, spec update, resume and
the timer all run the same level-based pass. A per-object lock keeps a timer tick and a change
handler from running two passes on one object at once (kopf runs them as separate tasks). Failed
queries back off exponentially per object; the last good recommendation stays until its TTL.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any

import kopf
import prometheus_client

from sloreco import api, context, errors, kube, metrics, prometheus, reconcile
from sloreco import settings as config

Logger = logging.Logger | logging.LoggerAdapter[Any]
RESOURCE = (api.GROUP, api.VERSION, api.SERVICELEVELS)
_SETTINGS = config.load(os.environ)


@kopf.on.startup()
async def startup(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    # kopf's own bookkeeping lives under our domain, in annotations, never in our status.
    settings.persistence.finalizer = f"{api.GROUP}/finalizer"
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=api.GROUP)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=api.GROUP, key="last-handled-configuration"
    )
    # Watches that end server-side every few minutes survive silent network drops.
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.posting.level = logging.WARNING  # our own events say what happened; skip kopf's
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request drowns the log
    creds = (
        kube.load_in_cluster()
        if "KUBERNETES_SERVICE_HOST" in os.environ
        else kube.load_kubeconfig()
    )
    memo.ctx = context.Context(
        kube=kube.KubeClient(creds),
        sources={
            name: prometheus.PrometheusClient(source, concurrency=_SETTINGS.query_concurrency)
            for name, source in _SETTINGS.sources.items()
        },
        settings=_SETTINGS,
    )
    memo.passes = asyncio.Semaphore(_SETTINGS.pass_concurrency)
    if _SETTINGS.metrics_port:
        prometheus_client.start_http_server(_SETTINGS.metrics_port)


@kopf.on.cleanup()
async def cleanup(memo: kopf.Memo, **_: Any) -> None:
    ctx: context.Context = memo.ctx
    await ctx.kube.close()
    for client in ctx.sources.values():
        await client.aclose()


@kopf.on.create(*RESOURCE)
@kopf.on.update(*RESOURCE, field="spec")
@kopf.on.resume(*RESOURCE)
async def changed(body: kopf.Body, memo: Any, logger: Logger, **_: Any) -> None:
    await _reconcile(body, memo, logger, forced=True)


@kopf.timer(*RESOURCE, interval=_SETTINGS.timer_interval, initial_delay=_SETTINGS.timer_interval)
async def tick(body: kopf.Body, memo: Any, logger: Logger, **_: Any) -> None:
    await _reconcile(body, memo, logger, forced=False)


async def _reconcile(body: kopf.Body, memo: Any, logger: Logger, *, forced: bool) -> None:
    now = time.time()
    lock: asyncio.Lock = memo.setdefault("lock", asyncio.Lock())
    if not forced and now < memo.get("wake_at", 0):
        return  # nothing due: no refresh, no expiry, no retry (no API call at all)
    async with lock, memo.passes:
        now = time.time()  # waiting for a slot may have taken a while
        if not forced and now < memo.get("wake_at", 0):
            return  # a pass that ran while this tick waited already did the work
        may_query = forced or now >= memo.get("retry_at", 0)
        started = time.perf_counter()
        try:
            outcome = await reconcile.run(dict(body), ctx=memo.ctx, now=now, may_query=may_query)
        except errors.KubeError as exc:
            metrics.RECONCILES.labels("error").inc()
            raise kopf.TemporaryError(f"Kubernetes API call failed: {exc}", delay=10) from exc
        finally:
            metrics.RECONCILE_SECONDS.observe(time.perf_counter() - started)
    metrics.RECONCILES.labels("source_failed" if outcome.source_failed else "ok").inc()
    _schedule(memo, outcome, now=now)
    meta = body["metadata"]
    for sli, seconds, succeeded in outcome.queries:
        metrics.QUERY_SECONDS.labels(sli, "ok" if succeeded else "error").observe(seconds)
    for sli, tier, target in outcome.targets:
        metrics.TARGET.labels(meta["namespace"], meta["name"], sli, tier).set(float(target))
    if outcome.source_failed:
        metrics.SOURCE_ERRORS.labels(body["spec"].get("source", "default")).inc()
        logger.warning(
            "Failed to query Prometheus for ServiceLevel %s/%s; retrying in %ss.",
            meta["namespace"],
            meta["name"],
            memo["backoff"],
        )
    if outcome.created or outcome.expired or outcome.pruned or outcome.status_patched:
        logger.info(
            "Reconciled ServiceLevel %s/%s: created %s, superseded %s, expired %s, pruned %s.",
            meta["namespace"],
            meta["name"],
            list(outcome.created),
            list(outcome.superseded),
            list(outcome.expired),
            list(outcome.pruned),
        )


def _schedule(memo: kopf.Memo, outcome: reconcile.Outcome, *, now: float) -> None:
    """Remember when this object next needs a pass, and back off while its source fails."""
    settings: config.Settings = memo.ctx.settings
    if outcome.source_failed:
        backoff = min(
            int(memo.get("backoff", 0) * 2) or int(settings.timer_interval),
            settings.max_backoff_seconds,
        )
        memo["backoff"] = backoff
        memo["retry_at"] = now + backoff
        memo["wake_at"] = now + min(backoff, outcome.requeue_after or backoff)
        return
    memo["backoff"] = 0
    memo["retry_at"] = 0
    memo["wake_at"] = now + outcome.requeue_after if outcome.requeue_after is not None else 0
