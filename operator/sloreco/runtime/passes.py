"""The running operator: who may run a pass now, when each ServiceLevel is next due, and backoff.

kopf tells us about changes (create, spec update, resume); everything time-driven — refresh,
expiry, retries after a failed query — is planned here, from what each pass reports, and run by
one :class:`~.scheduler.Scheduler`. Passes on one object never overlap (a lock per object), at
most ``passConcurrency`` run at once, admitted fairly across namespaces (:mod:`.fairness`), and a
failing source is probed by one pass at a time while the others wait for it (:mod:`.health`); the
last good recommendation stays until its TTL. An exception in a pass is never silent: it becomes
``Ready=False`` (``InternalError``) and a Warning event, and the object is retried with bounded
backoff.

Nothing here knows kopf; :mod:`sloreco.runtime.handlers` wires it up.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from sloreco import errors
from sloreco.controller import context, fleet, publish, reconcile
from sloreco.runtime import fairness, health, metrics, scheduler

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
        self._gate = fairness.FairGate(ctx.settings.pass_concurrency)
        self._locks: dict[scheduler.Key, asyncio.Lock] = {}
        self._sources = health.SourceHealth(
            first_delay=ctx.settings.timer_interval,
            max_delay=float(ctx.settings.max_backoff_seconds),
        )
        #: The source each object named on its last pass (whose health decides its queries).
        self._source_of: dict[scheduler.Key, str] = {}
        #: Consecutive internal errors per object, for their backoff.
        self._failures: dict[scheduler.Key, int] = {}
        #: Objects kopf reported a change of since their last pass began (``changed``).
        self._changed: set[scheduler.Key] = set()
        self.scheduler = scheduler.Scheduler(
            self._scheduled, max_sleep=ctx.settings.timer_interval, clock=clock
        )

    async def close(self) -> None:
        await self.ctx.kube.close()
        for client in self.ctx.sources.values():
            await client.aclose()

    def changed(self, key: scheduler.Key) -> None:
        """kopf saw a change (a new object, a new generation, a deletion): run a pass now, one
        that queries Prometheus even while its source is down."""
        self._changed.add(key)
        self.scheduler.due_in(key, 0)

    async def run(self, key: scheduler.Key, *, forced: bool) -> float | None:
        """Run one pass for ``key``; return the seconds until the next one (None: not needed).

        ``forced`` (a change from kopf) queries Prometheus even while its source is down.
        Raises :class:`errors.KubeError` when the Kubernetes API failed; any other exception is
        reported on the object (:meth:`_failed`) and never escapes.
        """
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock, self._gate.slot(key[0]):
            now = self._clock()
            source = self._source_of.get(key)
            may_query = forced or source is None or self._sources.may_query(source, key, now=now)
            started = time.perf_counter()
            try:
                outcome = await reconcile.run(*key, ctx=self.ctx, now=now, may_query=may_query)
            except errors.KubeError:
                metrics.RECONCILES.labels("error").inc()
                raise
            except Exception as exc:  # any failure must reach the user, never only the log
                metrics.RECONCILES.labels("error").inc()
                return await self._failed(key, exc, now=now)
            finally:
                metrics.RECONCILE_SECONDS.observe(time.perf_counter() - started)
        self._failures.pop(key, None)
        if outcome.gone:
            self._forget(key)
            metrics.export_targets(*key, ())
            return None
        delay = self._plan(key, outcome, now=now, queried=may_query)
        _record(key, outcome, delay)
        return delay

    async def _scheduled(self, key: scheduler.Key) -> float | None:
        forced = key in self._changed
        self._changed.discard(key)
        first = key not in self._locks
        try:
            delay = await self.run(key, forced=forced)
        except errors.KubeError as exc:
            logger.warning("Failed to reconcile ServiceLevel %s/%s: %s", *key, exc)
            return KUBE_RETRY
        if first:  # one line per object and process, like kopf's own for its resume handlers
            when = "never" if delay is None else f"{delay:.0f}s"
            logger.info("First pass for ServiceLevel %s/%s done; next in %s.", *key, when)
        return delay

    async def _failed(self, key: scheduler.Key, exc: Exception, *, now: float) -> float:
        """A bug or an input nothing else caught: say so on the object, back off, go on."""
        failures = self._failures.get(key, 0) + 1
        self._failures[key] = failures
        settings = self.ctx.settings
        delay = min(settings.timer_interval * 2.0 ** (failures - 1), settings.max_backoff_seconds)
        message = (
            f"The operator failed on this ServiceLevel ({type(exc).__name__}: {exc}); "
            f"it tries again in {delay:.0f}s."
        )
        logger.error("Failed to reconcile ServiceLevel %s/%s: %s", *key, message)
        logger.debug("Failure details for %s/%s.", *key, exc_info=exc)
        await publish.report_failure(*key, ctx=self.ctx, now=now, message=message)
        return max(delay, MIN_DELAY)

    def _plan(
        self, key: scheduler.Key, outcome: reconcile.Outcome, *, now: float, queried: bool
    ) -> float | None:
        source = outcome.source
        previous = self._source_of.get(key)
        if previous is not None and previous != source:
            self._sources.forget(key)
        self._source_of[key] = source
        failed_queries = any(not ok for _, _, ok in outcome.queries)
        retry: float | None = None
        if outcome.source_failed and failed_queries:
            retry = self._sources.failed(source, key, now=now)
        elif outcome.source_failed:  # not an outage (an unknown source): no retry storm
            retry = float(self.ctx.settings.max_backoff_seconds)
        elif outcome.queries:  # the source answered: everyone who waited for it goes now
            for waiting in self._sources.succeeded(source) - {key}:
                self.scheduler.due_in(waiting, 0)
        if outcome.requeue_after is None:
            return None
        delay = float(outcome.requeue_after)
        if delay == 0 and retry is not None:
            delay = retry  # a refresh is due but must wait for the source
        elif delay == 0 and not queried:
            # Waiting for a source that is down: the probe's success wakes this object early.
            delay = self._sources.wait(source, now=now) or MIN_DELAY
            delay = max(delay, float(self.ctx.settings.max_backoff_seconds))
        return max(delay, MIN_DELAY)

    def _forget(self, key: scheduler.Key) -> None:
        self._locks.pop(key, None)
        self._changed.discard(key)
        self._failures.pop(key, None)
        self._source_of.pop(key, None)
        self._sources.forget(key)
        self.ctx.fleet.forget(fleet.member(*key))


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
