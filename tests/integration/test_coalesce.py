"""Merged reads (``sources.coalesce``) give exactly what single reads give, on every backend.

Exactly, not roughly: the same series summed in the same order. ``ranges="plain"`` on Prometheus 3
makes the counts fractional (extrapolated), where a different summation order would show.
"""

from __future__ import annotations

import asyncio

import pytest

from sloreco.core import history
from sloreco.sources import coalesce, synth
from tests.fixtures.prometheus import PrometheusHistory
from tests.integration.test_prometheus_reader import HOUR, as_lists, client, run

pytestmark = pytest.mark.integration

NAMES = [*synth.PROFILES, "absent"]


def selectors(name: str) -> dict[str, str]:
    return {
        "total": f'http_requests_total{{service="{name}"}}',
        "errors": f'http_requests_total{{code=~"5..",service="{name}"}}',
        "histogram": f'http_request_duration_seconds_bucket{{service="{name}"}}',
    }


def flat(a: history.AvailabilityHistory, lat: history.LatencyHistory) -> tuple[list[object], ...]:
    return as_lists(a.total), as_lists(a.bad), as_lists(lat.cumulative)


@pytest.mark.parametrize("ranges", ["auto", "plain"])
def test_merged_reads_equal_single_reads(backend: PrometheusHistory, ranges: str) -> None:
    start, end = backend.start, backend.end

    async def each(source: object, name: str) -> tuple[list[object], ...]:
        s = selectors(name)
        a, lat = await asyncio.gather(
            source.read_availability(  # type: ignore[attr-defined]
                total=s["total"], errors=s["errors"], start=start, end=end, bucket_seconds=HOUR
            ),
            source.read_latency(  # type: ignore[attr-defined]
                histogram=s["histogram"], start=start, end=end, bucket_seconds=HOUR
            ),
        )
        return flat(a, lat)

    async def merged() -> tuple[list[tuple[list[object], ...]], coalesce.Coalescing]:
        source = coalesce.Coalescing(client(backend.url, ranges=ranges))
        try:
            return list(await asyncio.gather(*(each(source, n) for n in NAMES))), source
        finally:
            await source.aclose()

    async def single() -> list[tuple[list[object], ...]]:
        async with client(backend.url, ranges=ranges) as source:
            return [await each(source, n) for n in NAMES]

    found, source = run(merged())
    assert (source.queries, source.merged) == (2, 2 * len(NAMES))  # one query per SLI
    assert found == run(single())
