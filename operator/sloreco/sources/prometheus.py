"""Read bucketed history from Prometheus's HTTP API: the operator's only Prometheus I/O.

Why ``aiohttp``: kopf runs every handler on one asyncio loop, and a reconcile pass waits on
Prometheus most of its time; an async client lets hundreds of passes wait at once without
threads. ``prometheus-api-client`` is synchronous (``requests``) — it would block the loop or need
a thread pool — and depends on pandas, which the operator image does not need. aiohttp is what
kopf and our Kubernetes client (``kube.client``) already run on — one HTTP library in the
operator — and costs a third of httpx's CPU per request (measured there). Tests script the
server on loopback (tests/unit/test_prometheus_client.py).

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

How: ranges longer than Prometheus's 11,000 points per series are split; queries in flight are
bounded by a semaphore (one PromQL query runs on one Prometheus core); connection errors,
timeouts, 429 and 5xx are retried under the one retry policy (:mod:`sloreco.retry`, which honours
``Retry-After``), 4xx never (a bad selector stays bad) and surface as ``QueryError`` with
Prometheus's own message. ``Accept-Encoding: identity`` because Prometheus's gzip made a 3.8 MB
response 3.5x slower on loopback (0.46 s vs 0.13 s): its compression costs more CPU than an
in-cluster network saves. Large bodies are decoded in a
worker thread (``promjson``) so the loop keeps serving other handlers meanwhile.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import ssl
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Literal, TypeVar

import aiohttp
import numpy as np

from sloreco import errors
from sloreco import retry as retries
from sloreco.core import history
from sloreco.sources import promjson, promql

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


@dataclasses.dataclass(frozen=True)
class SourceConfig:
    """One Prometheus the operator may query; ``ServiceLevel.spec.source`` names it."""

    name: str
    url: str
    #: A file holding a bearer token, re-read on every request (projected tokens rotate).
    bearer_token_file: str | None = None
    #: PEM bundle to verify the server's certificate with, instead of the system's.
    ca_file: str | None = None
    #: Seconds one HTTP request may take; also sent as the query's server-side ``timeout``.
    timeout: float = 30.0
    #: Concurrent reads whose selectors differ only in this label's value share one query
    #: (``sources.coalesce``); empty: every read is its own query.
    batch_label: str = "service"


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
        self.retry = retry
        self.max_points = max_points
        self._sleep = sleep
        self._slots = asyncio.Semaphore(concurrency)
        self._url = config.url.rstrip("/")
        self._verify: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=config.ca_file) if config.ca_file else True
        )
        #: Opened on the first request: a session belongs to the running event loop.
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.config.timeout),
                headers={"Accept-Encoding": "identity"},
                # The source URL is reached directly: an egress proxy from the environment
                # must not capture in-cluster (or loopback) traffic.
                trust_env=False,
            )
        return self._session

    async def __aenter__(self) -> PrometheusClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

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
                        await self._post("/api/v1/query", form, ANCHORED_PROBE)
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
        return await self._decode(await self._post("/api/v1/query_range", form, expr), expr, step)

    async def _post(self, path: str, form: dict[str, str], expr: str) -> bytes:
        """The body of a 200 answer, under the retry policy; errors as in the module docstring."""
        # Plain seconds: Prometheus reads a float here, while "0.5s" would be bad_data.
        form = {**form, "timeout": f"{self.config.timeout:g}"}
        failure: errors.SourceError | None = None
        for attempt in range(self.retry.attempts):
            retry_after = None
            try:
                async with (
                    self._slots,
                    self._http().post(
                        self._url + path, data=form, headers=self._auth(), ssl=self._verify
                    ) as response,
                ):
                    status, content = response.status, await response.read()
                    reason, wait = response.reason or "", response.headers.get("Retry-After")
            except TimeoutError as exc:
                failure = errors.SourceUnreachableError(
                    f"Prometheus source {self.config.name!r} timed out after "
                    f"{self.config.timeout:g}s ({type(exc).__name__})"
                )
            except aiohttp.ClientError as exc:
                failure = errors.SourceUnreachableError(
                    f"Prometheus source {self.config.name!r} at {self.config.url} is "
                    f"unreachable: {exc or type(exc).__name__}"
                )
            else:
                if status == 200:
                    return content
                message = _error_text(content, reason)
                if status == 429 or status >= 500:
                    failure = errors.SourceUnreachableError(
                        f"Prometheus source {self.config.name!r} answered HTTP {status}: {message}"
                    )
                    retry_after = retries.retry_after_seconds(wait, now=time.time())
                elif status in (401, 403):
                    raise errors.SourceError(
                        f"Prometheus source {self.config.name!r} refused our credentials "
                        f"(HTTP {status}): check its bearer token"
                    )
                else:
                    raise errors.QueryError(f"Prometheus rejected {expr}: {message}")
            if self.retry.retries_left(attempt):
                await self._sleep(self.retry.delay(attempt, retry_after))
        assert failure is not None
        raise failure

    async def _decode(self, body: bytes, expr: str, step: int) -> list[promjson.Series]:
        try:
            if len(body) > _THREAD_DECODE_BYTES:
                return await asyncio.to_thread(promjson.decode_matrix, body, step=step)
            return promjson.decode_matrix(body, step=step)
        except (ValueError, KeyError, TypeError) as exc:
            raise errors.SourceError(
                f"Prometheus source {self.config.name!r} sent an unreadable answer to {expr}: {exc}"
            ) from exc

    def _auth(self) -> dict[str, str] | None:
        """``Authorization: Bearer <file contents>``, read per request so rotated tokens apply."""
        path = self.config.bearer_token_file
        if path is None:
            return None
        try:
            token = Path(path).read_text().strip()
        except OSError as exc:
            raise errors.SourceError(f"cannot read bearer token file {path}: {exc}") from exc
        return {"Authorization": f"Bearer {token}"}


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


def _error_text(content: bytes, reason: str) -> str:
    """Prometheus's ``error`` field (the PromQL parser's own words), else the body's start."""
    text = content.decode("utf-8", errors="replace")
    try:
        body = json.loads(text)
        if isinstance(body, dict) and body.get("error"):
            kind = body.get("errorType")
            return f"{kind}: {body['error']}" if kind else str(body["error"])
    except ValueError:
        pass
    return text[:200] or reason
