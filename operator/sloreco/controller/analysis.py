"""One SLI's analysis: read its history from Prometheus, then run the engine on it.

The seam between the reconcile pass and the two halves it drives — the source (I/O) and the pure
engine — with the read timed for the operator's metrics and the computation run by the
configured executor (``context.executor``: the event loop itself by default, or worker threads).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import functools
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from sloreco import errors
from sloreco.controller.context import Work
from sloreco.core import alerting, history, inputs, method, results, slis
from sloreco.core.prior import Prior, ServiceStats
from sloreco.core.slis import base
from sloreco.sources import matched
from sloreco.spec import model as specs

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Job:
    """One SLI's analysis: what to read (the spec's selectors, ``[start, end)`` in buckets) and
    how to compute (exclusions, the seed, hard dependencies, the method's settings)."""

    spec: specs.ServiceLevelSpec
    sli: str
    start: int
    end: int
    bucket: int
    exclusions: tuple[history.Exclusion, ...]
    seed: int
    deps: Sequence[inputs.Dependency]
    settings: method.MethodSettings
    #: The incident priors (the source's fleet priors, one per scope, once learned; none: the
    #: default), and where the SLI's own incident statistics go, per scope, for the next fleet
    #: priors (``fleet.Fleet``).
    priors: tuple[Prior, ...] = ()
    observe: Callable[[tuple[tuple[str, ServiceStats], ...]], None] | None = None


async def recommend(
    source: base.HistorySource,
    job: Job,
    *,
    work: Work,
    executor: concurrent.futures.Executor,
) -> results.SliResult:
    spec, sli, start, end, bucket = job.spec, job.sli, job.start, job.end, job.bucket
    exclusions, seed, deps, settings = job.exclusions, job.seed, job.deps, job.settings
    kind = slis.get(sli)
    data = await _timed(
        work,
        sli,
        kind.read(source, spec.selectors()[sli], start=start, end=end, bucket_seconds=bucket),
    )
    selectors = spec.selectors()[sli]
    role = "total" if "total" in selectors else "histogram"  # the selector that must match
    matched.require(data, selector=selectors[role], role=role)
    request = dataclasses.replace(
        spec.request(seed=seed, settings=settings, dependencies=deps),
        priors=job.priors,
        observe=job.observe is not None,
    )
    # The engine is pure CPU (10–20 ms), run by ``executor`` (``settings.analysis_threads``):
    # on the loop itself by default, which is cheaper than handing the GIL to a thread.
    call = functools.partial(_recommend, kind, history.exclude(data, exclusions), request)
    result = await asyncio.get_running_loop().run_in_executor(executor, call)
    if job.observe is not None and result.incidents:
        job.observe(result.incidents)
    return result


def _recommend(
    kind: base.SliKind,
    data: history.AvailabilityHistory | history.LatencyHistory,
    request: base.Request,
) -> results.SliResult:
    """The tiers and each tier's pager cost (``core.alerting``) over the same history."""
    return alerting.with_alerting(kind.recommend(data, request), data)


async def _timed(work: Work, sli: str, read: Awaitable[T]) -> T:
    """Await a history read, recording how long it took and whether it failed (for metrics)."""
    began = time.perf_counter()
    try:
        value = await read
    except errors.SourceError:
        work.queries.append((sli, time.perf_counter() - began, False))
        raise
    work.queries.append((sli, time.perf_counter() - began, True))
    return value
