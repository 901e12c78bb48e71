"""One SLI's analysis: read its history from Prometheus, then run the engine on it.

The seam between the reconcile pass and the two halves it drives — the source (I/O) and the pure
engine — with the read timed for the operator's metrics and the computation run in a worker
thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Sequence
from typing import TypeVar

from sloreco import errors
from sloreco.controller.context import Work
from sloreco.core import engine, history, results
from sloreco.sources import prometheus
from sloreco.spec import model as specs

T = TypeVar("T")


async def recommend(
    source: prometheus.PrometheusClient,
    spec: specs.ServiceLevelSpec,
    sli: str,
    *,
    work: Work,
    start: int,
    end: int,
    bucket: int,
    exclusions: tuple[history.Exclusion, ...],
    seed: int,
    deps: Sequence[engine.Dependency],
    settings: engine.MethodSettings,
) -> results.SliResult:
    objective = spec.current_objective
    if sli == "availability":
        assert spec.availability is not None
        avail = await _timed(
            work,
            sli,
            source.read_availability(
                total=spec.availability.total_query,
                errors=spec.availability.error_query,
                start=start,
                end=end,
                bucket_seconds=bucket,
            ),
        )
        # The engine is pure CPU (10–20 ms): off the event loop, so watches and other passes
        # keep moving while it runs.
        return await asyncio.to_thread(
            functools.partial(
                engine.recommend_availability,
                history.exclude(avail, exclusions),
                window_seconds=spec.window_seconds,
                seed=seed,
                settings=settings,
                dependencies=deps,
                current_objective=objective.availability if objective else None,
            )
        )
    assert spec.latency is not None
    lat = await _timed(
        work,
        sli,
        source.read_latency(
            histogram=spec.latency.histogram, start=start, end=end, bucket_seconds=bucket
        ),
    )
    latency_objective = None
    if objective and objective.latency:
        latency_objective = results.LatencyObjective(
            threshold=objective.latency.threshold, target=objective.latency.target
        )
    return await asyncio.to_thread(
        functools.partial(
            engine.recommend_latency,
            history.exclude(lat, exclusions),
            percentile=spec.latency.percentile,
            window_seconds=spec.window_seconds,
            seed=seed,
            settings=settings,
            current_objective=latency_objective,
        )
    )


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
