"""Read bucketed history from Prometheus's HTTP API: the operator's only Prometheus I/O.

What to ask and how to place the answers; how to ask (one HTTP request, its retries, its errors
in the user's terms) is :mod:`.promhttp`'s.

What is read: ``sum(increase(<selector>[<bucket>]))`` evaluated at ``start+bucket, …, end``; the
value at ``t`` covers the bucket ``[t - bucket, t)``. The result (placed by ``promjson``) is a
``history`` object on the exact grid ``[start, end)`` with NaN wherever Prometheus had nothing
or something unusable (NaN, ±Inf, negative): those never reach the statistics.

Range semantics: Prometheus 2.x range selectors are closed, so ``increase(x[1h])`` at ``t`` sees
the samples at ``t-1h`` and ``t`` and, on a scrape grid aligned with the buckets, returns the exact
count. Prometheus 3 made them left-open: the sample at ``t-1h`` falls out, the increment between
it and the next sample belongs to no bucket, and ``increase()`` extrapolates over the gap (counts
off by up to ~1% per hour on a 5-minute grid, measured). Its ``anchored`` modifier (stable since
3.16.0, ``--enable-feature=promql-extended-range-selectors`` from 3.7) takes the last sample at or
before the start and does not extrapolate: exact again. So each client asks once, by evaluating a
tiny ``anchored`` query, and uses the modifier when the server accepts it; Prometheus 2.x and
VictoriaMetrics refuse it, and their plain ``increase()`` is exact (VictoriaMetrics takes the
sample before the window by design). The integration tests check this on all three.

How: ranges longer than Prometheus's 11,000 points per series are split, and the queries of one
read run concurrently and fail together. Large bodies are decoded in a worker thread
(``promjson``) so the loop keeps serving other handlers meanwhile.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from typing import Literal, TypeVar

import numpy as np

from sloreco import errors
from sloreco import retry as retries
from sloreco.core import history
from sloreco.sources import promhttp, promjson, promql

#: Prometheus refuses range queries of more than 11,000 points per series ("exceeded maximum
#: resolution"); see ``web/api/v1/api.go``. Its check is ``(end-start)/step > 11000``.
MAX_POINTS = 11_000

#: Services per batched query. Measured on 1,000 services × 90 days hourly (2 cores): 50 was
#: fastest (25 and 100 were 10-15% slower: fewer, bigger queries idle one core at the end).
DEFAULT_CHUNK_SIZE = 50

#: Bodies above this are decoded in a worker thread rather than on the event loop (~5 ms).
_THREAD_DECODE_BYTES = 1 << 20

Aggregate = Literal["server", "client"]
#: How range selectors are written: ``auto`` asks the server once (see the module docstring).
Ranges = Literal["auto", "plain", "anchored"]

#: Evaluated once per client: accepted means the server knows ``anchored``; it selects nothing.
ANCHORED_PROBE = promql.Expr("increase(sloreco_anchored_probe[5m] anchored)")
T = TypeVar("T")
#: One Prometheus the operator may query (defined with the HTTP layer that reads it).
SourceConfig = promhttp.SourceConfig


def align_end(now_epoch: float, bucket_seconds: int) -> int:
    """The last bucket boundary at or before ``now``: passes within one bucket see one input."""
    return int(now_epoch // bucket_seconds) * bucket_seconds


def split_range(start: int, end: int, step: int, *, max_points: int) -> list[tuple[int, int]]:
    """Cut evaluation times ``start, start+step, …, end`` into ranges of at most ``max_points``
    points each (inclusive ends, as ``query_range`` takes them)."""
    if step <= 0 or end < start or (end - start) % step or max_points < 1:
        raise ValueError(f"bad range {start}..{end} step {step} max_points {max_points}")
    ranges = []
    while start <= end:
        last = min(end, start + (max_points - 1) * step)
        ranges.append((start, last))
        start = last + step
    return ranges


class PrometheusClient:
    """A connection pool to one Prometheus source; create at startup, ``aclose()`` at cleanup."""

    def __init__(
        self,
        config: SourceConfig,
        *,
        concurrency: int = 2,
        retry: retries.RetryPolicy = retries.PROMETHEUS,
        max_points: int = MAX_POINTS,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        ranges: Ranges = "auto",
    ) -> None:
        self.config = config
        self.ranges = ranges
        self._probe_lock = asyncio.Lock()
        self.max_points = max_points
        self._api = promhttp.Api(config, concurrency=concurrency, retry=retry, sleep=sleep)

    async def __aenter__(self) -> PrometheusClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._api.aclose()

    # --- single series ----------------------------------------------------------------------

    async def read_availability(
        self,
        *,
        total: str | promql.Selector,
        errors: str | promql.Selector,
        start: int,
        end: int,
        bucket_seconds: int,
    ) -> history.AvailabilityHistory:
        """Requests and failed requests per bucket on ``[start, end)``."""
        total_sel = _selector(total, field="total")
        error_sel = _selector(errors, field="errors")
        grid = promjson.Grid.of(start, end, bucket_seconds)
        anchored = await self.anchored()
        total_series, error_series = await _all(
            *(
                self.query_range(
                    promql.increase_sum(sel, bucket_seconds=bucket_seconds, anchored=anchored),
                    **grid.query(),
                )
                for sel in (total_sel, error_sel)
            )
        )
        return promjson.availability(grid, total_series, error_series)

    async def read_latency(
        self, *, histogram: str | promql.Selector, start: int, end: int, bucket_seconds: int
    ) -> history.LatencyHistory:
        """Cumulative per-``le`` request counts per bucket on ``[start, end)``."""
        selector = _selector(histogram, field="histogram", histogram=True)
        grid = promjson.Grid.of(start, end, bucket_seconds)
        expr = promql.increase_sum(
            selector, bucket_seconds=bucket_seconds, by=("le",), anchored=await self.anchored()
        )
        return promjson.latency(grid, await self.query_range(expr, **grid.query()))

    # --- many services at once ----------------------------------------------------------------

    async def read_availability_many(
        self,
        *,
        total: str | promql.Selector,
        errors: str | promql.Selector,
        label: str,
        values: Sequence[str],
        start: int,
        end: int,
        bucket_seconds: int,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        aggregate: Aggregate = "server",
    ) -> dict[str, history.AvailabilityHistory]:
        """``read_availability`` for every ``label=value``, ``chunk_size`` values per query.

        ``total``/``errors`` select all services (e.g. ``http_requests_total``); each chunk adds
        ``label=~"v1|v2|…"``. ``aggregate="server"`` sums by ``label`` in PromQL (smallest
        response); ``"client"`` fetches ``increase()`` per series and sums here — on Prometheus
        2.x ``sum by`` hashes every series' labels at every step, which made it ~5x slower than
        ``increase()`` alone for one series per service (1,200 series: 1.35 s vs 0.25 s), but
        the response grows with the series per service. Absent services get all-NaN histories.
        """
        total_sel = _selector(total, field="total")
        error_sel = _selector(errors, field="errors")
        grid = promjson.Grid.of(start, end, bucket_seconds)

        async def chunk(names: Sequence[str]) -> dict[str, history.AvailabilityHistory]:
            by_total, by_errors = await _all(
                self._grouped(total_sel, label=label, names=names, grid=grid, aggregate=aggregate),
                self._grouped(error_sel, label=label, names=names, grid=grid, aggregate=aggregate),
            )
            return {
                name: promjson.availability(grid, by_total.get(name, []), by_errors.get(name, []))
                for name in names
            }

        return await self._chunked(chunk, values, chunk_size)

    async def read_latency_many(
        self,
        *,
        histogram: str | promql.Selector,
        label: str,
        values: Sequence[str],
        start: int,
        end: int,
        bucket_seconds: int,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        aggregate: Aggregate = "server",
    ) -> dict[str, history.LatencyHistory]:
        """``read_latency`` for every ``label=value``; see ``read_availability_many``."""
        selector = _selector(histogram, field="histogram", histogram=True)
        grid = promjson.Grid.of(start, end, bucket_seconds)

        async def chunk(names: Sequence[str]) -> dict[str, history.LatencyHistory]:
            found = await self._grouped(
                selector, label=label, names=names, grid=grid, aggregate=aggregate, extra=("le",)
            )
            return {name: promjson.latency(grid, found.get(name, [])) for name in names}

        return await self._chunked(chunk, values, chunk_size)

    async def _chunked(
        self,
        read: Callable[[Sequence[str]], Awaitable[dict[str, T]]],
        values: Sequence[str],
        chunk_size: int,
    ) -> dict[str, T]:
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        unique = list(dict.fromkeys(values))
        parts = await _all(
            *(read(unique[i : i + chunk_size]) for i in range(0, len(unique), chunk_size))
        )
        return {name: item for part in parts for name, item in part.items()}

    async def _grouped(
        self,
        selector: promql.Selector,
        *,
        label: str,
        names: Sequence[str],
        grid: promjson.Grid,
        aggregate: Aggregate,
        extra: tuple[str, ...] = (),
    ) -> dict[str, list[promjson.Series]]:
        """Series of ``names`` grouped by ``label``, each group keeping ``extra`` labels."""
        narrowed = selector.with_matcher(promql.one_of(label, names))
        bucket, anchored = grid.bucket, await self.anchored()
        if aggregate == "server":
            expr = promql.increase_sum(
                narrowed, bucket_seconds=bucket, by=(label, *extra), anchored=anchored
            )
        else:
            expr = promql.increase(narrowed, bucket_seconds=bucket, anchored=anchored)
        groups: dict[str, list[promjson.Series]] = {}
        for series in await self.query_range(expr, **grid.query()):
            name = series.labels.get(label)
            if name is not None:
                kept = {k: v for k, v in series.labels.items() if k in extra}
                groups.setdefault(name, []).append(dataclasses.replace(series, labels=kept))
        return groups

    # --- the HTTP API ---------------------------------------------------------------------------

    async def anchored(self) -> bool:
        """Whether range selectors get ``anchored``; the first call asks the server (once)."""
        if self.ranges == "auto":
            async with self._probe_lock:
                if self.ranges == "auto":
                    form = {"query": ANCHORED_PROBE, "time": "0"}
                    try:
                        await self._api.post("/api/v1/query", form, ANCHORED_PROBE)
                        self.ranges = "anchored"
                    except errors.QueryError:
                        self.ranges = "plain"
        return self.ranges == "anchored"

    async def query_range(
        self, expr: promql.Expr, *, start: int, end: int, step: int
    ) -> list[promjson.Series]:
        """Evaluate ``expr`` at ``start, start+step, …, end``; long ranges are split and joined."""
        ranges = split_range(start, end, step, max_points=self.max_points)
        parts = await _all(*(self._query(expr, s, e, step) for s, e in ranges))
        if len(parts) == 1:
            return parts[0]
        joined: dict[tuple[tuple[str, str], ...], list[promjson.Series]] = {}
        for part in parts:
            for series in part:
                joined.setdefault(tuple(sorted(series.labels.items())), []).append(series)
        return [
            promjson.Series(
                pieces[0].labels,
                np.concatenate([p.times for p in pieces]),
                np.concatenate([p.values for p in pieces]),
            )
            for pieces in joined.values()
        ]

    async def _query(self, expr: str, start: int, end: int, step: int) -> list[promjson.Series]:
        form = {
            "query": expr,
            "start": str(start),
            "end": str(end),
            "step": str(step),
        }
        return await self._decode(
            await self._api.post("/api/v1/query_range", form, expr), expr, step
        )

    async def _decode(self, body: bytes, expr: str, step: int) -> list[promjson.Series]:
        try:
            if len(body) > _THREAD_DECODE_BYTES:
                return await asyncio.to_thread(promjson.decode_matrix, body, step=step)
            return promjson.decode_matrix(body, step=step)
        except (ValueError, KeyError, TypeError) as exc:
            raise errors.SourceError(
                f"Prometheus source {self.config.name!r} sent an unreadable answer to {expr}: {exc}"
            ) from exc


async def _all(*steps: Awaitable[T]) -> list[T]:
    """The steps' results in order, run concurrently; the first failure cancels the others and
    is raised as itself. ``asyncio.gather`` alone leaves them running: a read that has already
    failed kept querying (and retrying) behind the failed pass."""
    tasks = [asyncio.ensure_future(step) for step in steps]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        raise


def _selector(
    value: str | promql.Selector, *, field: str, histogram: bool = False
) -> promql.Selector:
    if isinstance(value, promql.Selector):
        return value
    if histogram:
        return promql.parse_histogram_selector(value, field=field)
    return promql.parse_selector(value, field=field)
