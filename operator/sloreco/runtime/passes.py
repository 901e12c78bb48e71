"""The running operator: who may run a pass now, when each ServiceLevel is next due, and backoff.

kopf tells us about changes (create, spec update, resume); everything time-driven — refresh,
expiry, retries after a failed query — is planned here, from what each pass reports, and run by
one :class:`~.scheduler.Scheduler`. Passes on one object never overlap (a lock per object),
at most ``passConcurrency`` run at once (kopf starts a handler for every object at startup), and a
failing source backs off exponentially per object while the last good recommendation stays until
its TTL.

Nothing here knows kopf; :mod:`sloreco.runtime.handlers` wires it up.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from sloreco import errors
from sloreco.controller import context, reconcile
from sloreco.runtime import metrics, scheduler

logger = logging.getLogger(__name__)

#: The shortest delay between two passes of one object; a guard against a plan that says
#: "again now" forever (a pass that could not do its work must not spin).
MIN_DELAY = 1.0
#: After a Kubernetes API failure in a scheduled pass, try again this much later.
KUBE_RETRY = 10.0


class Runtime:
    """Created at operator startup (clients included), closed at cleanup."""

    def __init__(self, ctx: context.Context, *, clock: Callable[[], float] = time.time) -> None:
        self.ctx = ctx
        self._clock = clock
        self._passes = asyncio.Semaphore(ctx.settings.pass_concurrency)
        self._locks: dict[scheduler.Key, asyncio.Lock] = {}
        self._backoff: dict[scheduler.Key, float] = {}
        self._retry_at: dict[scheduler.Key, float] = {}
        self.scheduler = scheduler.Scheduler(
            self._scheduled, max_sleep=ctx.settings.timer_interval, clock=clock
        )

    async def close(self) -> None:
        await self.ctx.kube.close()
        for client in self.ctx.sources.values():
            await client.aclose()

    async def run(self, key: scheduler.Key, *, forced: bool) -> float | None:
        """Run one pass for ``key``; return the seconds until the next one (None: not needed).

        ``forced`` (a change from kopf) queries Prometheus even while the object backs off.
        Raises :class:`errors.KubeError` when the Kubernetes API failed.
        """
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock, self._passes:
            now = self._clock()
            may_query = forced or now >= self._retry_at.get(key, 0.0)
            started = time.perf_counter()
            try:
                outcome = await reconcile.run(*key, ctx=self.ctx, now=now, may_query=may_query)
            except errors.KubeError:
                metrics.RECONCILES.labels("error").inc()
                raise
            finally:
                metrics.RECONCILE_SECONDS.observe(time.perf_counter() - started)
        if outcome.gone:
            self._forget(key)
            metrics.export_targets(*key, ())
            return None
        delay = self._plan(key, outcome, now=now)
        _record(key, outcome, delay)
        return delay

    async def _scheduled(self, key: scheduler.Key) -> float | None:
        try:
            return await self.run(key, forced=False)
        except errors.KubeError as exc:
            logger.warning("Failed to reconcile ServiceLevel %s/%s: %s", *key, exc)
            return KUBE_RETRY

    def _plan(self, key: scheduler.Key, outcome: reconcile.Outcome, *, now: float) -> float | None:
        settings = self.ctx.settings
        if outcome.source_failed:
            backoff = min(
                self._backoff.get(key, 0.0) * 2 or settings.timer_interval,
                float(settings.max_backoff_seconds),
            )
            self._backoff[key] = backoff
            self._retry_at[key] = now + backoff
        elif outcome.queries:  # the source answered: the backoff is over
            self._backoff.pop(key, None)
            self._retry_at.pop(key, None)
        if outcome.requeue_after is None:
            return None
        delay = float(outcome.requeue_after)
        if key in self._retry_at:  # a refresh is due but must wait for the backoff
            delay = max(delay, self._retry_at[key] - now) if delay == 0 else delay
        return max(delay, MIN_DELAY)

    def _forget(self, key: scheduler.Key) -> None:
        self._locks.pop(key, None)
        self._backoff.pop(key, None)
        self._retry_at.pop(key, None)


def _record(key: scheduler.Key, outcome: reconcile.Outcome, delay: float | None) -> None:
    namespace, name = key
    metrics.RECONCILES.labels("source_failed" if outcome.source_failed else "ok").inc()
    for sli, seconds, succeeded in outcome.queries:
        metrics.QUERY_SECONDS.labels(sli, "ok" if succeeded else "error").observe(seconds)
    metrics.export_targets(namespace, name, outcome.targets)
    if outcome.source_failed:
        metrics.SOURCE_ERRORS.labels(outcome.source).inc()
        logger.warning(
            "Failed to query Prometheus for ServiceLevel %s/%s; retrying in %.0fs.",
            namespace,
            name,
            delay or 0,
        )
    if outcome.created or outcome.expired or outcome.pruned or outcome.status_patched:
        logger.info(
            "Reconciled ServiceLevel %s/%s: created %s, activated %s, superseded %s, expired %s, "
            "pruned %s.",
            namespace,
            name,
            list(outcome.created),
            list(outcome.activated),
            list(outcome.superseded),
            list(outcome.expired),
            list(outcome.pruned),
        )
