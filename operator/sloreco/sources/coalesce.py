"""Concurrent reads that differ only in one label's value, merged into one query (issue 12).

A fleet's ServiceLevels usually select the same metrics for different services —
``http_requests_total{service="checkout"}``, ``http_requests_total{service="payments"}``, … —
and at a cold start, or after an outage, the operator reads hundreds of them at once. Each read
was its own ``query_range`` (two for availability), so Prometheus evaluated the same metric
hundreds of times. :class:`Coalescing` wraps a :class:`.prometheus.PrometheusClient` as a
``HistorySource``: a read whose selectors hold an equality matcher on the batch label (by
default ``service``) waits :data:`LINGER_SECONDS` for others with the same selectors but that
label, the same range and the same bucket; then one ``label=~"a|b|…"`` query, summed by the
label, answers them all (``read_availability_many``/``read_latency_many``), up to
:data:`MAX_BATCH` values each. A read alone when its batch closes goes out exactly as before.

The numbers are the same either way: each service's series are the same series, summed in the
same order (Prometheus sums a group in its series' label order; the integration test compares
the two on a real Prometheus, fractional counts included). A failed batch fails each of its
reads with the same error, as the reads would have failed alone. Bounded concurrency per source
stays the client's (its query semaphore); fairness between namespaces stays the pass gate's.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sloreco.core import history
from sloreco.sources import prometheus, promql

#: How long a read waits for others to share its query. Passes that start together (a cold start,
#: a source back from an outage) reach their reads within milliseconds of each other; 20 ms is a
#: small price beside a 90-day read (tens of milliseconds) and an analysis (tens more).
LINGER_SECONDS = 0.02
#: Values per query: the regex grows with each, and one slow query should not hold hundreds of
#: passes (``prometheus.DEFAULT_CHUNK_SIZE`` is the client's own chunk for batched reads).
MAX_BATCH = 50
#: The label whose value tells services apart in most fleets' metrics.
DEFAULT_LABEL = "service"


@dataclasses.dataclass(frozen=True)
class _Key:
    """What reads must share to share a query."""

    kind: str
    #: The selectors with the batch label's matcher taken out, rendered.
    selectors: tuple[str, ...]
    start: int
    end: int
    bucket_seconds: int


def split(selector: promql.Selector, label: str) -> tuple[promql.Selector, str] | None:
    """``selector`` without its one ``label="value"`` matcher, and the value; None when it has
    none, or matches the label in any other way (then it is read alone)."""
    on_label = [m for m in selector.matchers if m.label == label]
    if len(on_label) != 1 or on_label[0].op != "=":
        return None
    rest = tuple(m for m in selector.matchers if m.label != label)
    return dataclasses.replace(selector, matchers=rest), on_label[0].value


@dataclasses.dataclass
class _Batch:
    """Reads waiting for one query, by the label value each asked for."""

    read_many: Callable[[Sequence[str]], Awaitable[dict[str, Any]]]
    read_one: dict[str, Callable[[], Awaitable[Any]]] = dataclasses.field(default_factory=dict)
    waiting: dict[str, list[asyncio.Future[Any]]] = dataclasses.field(default_factory=dict)
    closed: bool = False


class Coalescing:
    """A ``HistorySource`` over one Prometheus client that merges reads (see the module)."""

    def __init__(
        self,
        client: prometheus.PrometheusClient,
        *,
        label: str = DEFAULT_LABEL,
        linger: float = LINGER_SECONDS,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self.client = client
        self._label = promql.check_label(label, field="batchLabel")
        self._linger = linger
        self._max_batch = max_batch
        self._open: dict[_Key, _Batch] = {}
        self._sending: set[asyncio.Task[None]] = set()  # held until done (the loop keeps weak refs)
        #: Queries sent for merged reads, and the reads they answered (for tests and benches).
        self.queries = 0
        self.merged = 0

    async def aclose(self) -> None:
        await self.client.aclose()

    async def read_availability(
        self, *, total: str, errors: str, start: int, end: int, bucket_seconds: int
    ) -> history.AvailabilityHistory:
        def alone() -> Awaitable[history.AvailabilityHistory]:
            return self.client.read_availability(
                total=total, errors=errors, start=start, end=end, bucket_seconds=bucket_seconds
            )

        parts = [split(promql.parse_selector(s, field=f), self._label) for s, f in
                 ((total, "total"), (errors, "errors"))]  # fmt: skip
        if parts[0] is None or parts[1] is None or parts[0][1] != parts[1][1]:
            return await alone()
        (total_rest, value), (errors_rest, _) = parts[0], parts[1]

        def many(values: Sequence[str]) -> Awaitable[dict[str, history.AvailabilityHistory]]:
            return self.client.read_availability_many(
                total=total_rest, errors=errors_rest, label=self._label, values=values,
                start=start, end=end, bucket_seconds=bucket_seconds, chunk_size=self._max_batch,
            )  # fmt: skip

        key = _Key("availability", (str(total_rest), str(errors_rest)), start, end, bucket_seconds)
        found: history.AvailabilityHistory = await self._join(key, value, many, alone)
        return found

    async def read_latency(
        self, *, histogram: str, start: int, end: int, bucket_seconds: int
    ) -> history.LatencyHistory:
        def alone() -> Awaitable[history.LatencyHistory]:
            return self.client.read_latency(
                histogram=histogram, start=start, end=end, bucket_seconds=bucket_seconds
            )

        part = split(promql.parse_histogram_selector(histogram, field="histogram"), self._label)
        if part is None:
            return await alone()
        rest, value = part

        def many(values: Sequence[str]) -> Awaitable[dict[str, history.LatencyHistory]]:
            return self.client.read_latency_many(
                histogram=rest, label=self._label, values=values, start=start, end=end,
                bucket_seconds=bucket_seconds, chunk_size=self._max_batch,
            )  # fmt: skip

        found: history.LatencyHistory = await self._join(
            _Key("latency", (str(rest),), start, end, bucket_seconds), value, many, alone
        )
        return found

    async def _join(
        self,
        key: _Key,
        value: str,
        many: Callable[[Sequence[str]], Awaitable[dict[str, Any]]],
        alone: Callable[[], Awaitable[Any]],
    ) -> Any:
        batch = self._open.get(key)
        if batch is None:
            batch = self._open[key] = _Batch(many)
            asyncio.get_running_loop().call_later(self._linger, self._close, key, batch)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        batch.waiting.setdefault(value, []).append(future)
        batch.read_one.setdefault(value, alone)
        if len(batch.waiting) >= self._max_batch:
            self._close(key, batch)
        return await future

    def _close(self, key: _Key, batch: _Batch) -> None:
        if batch.closed:
            return
        batch.closed = True
        if self._open.get(key) is batch:
            del self._open[key]
        task = asyncio.get_running_loop().create_task(self._send(batch))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, batch: _Batch) -> None:
        values = list(batch.waiting)
        try:
            if len(values) == 1:
                found = {values[0]: await batch.read_one[values[0]]()}
            else:
                found = await batch.read_many(values)
                self.queries += 1
                self.merged += len(values)
        except asyncio.CancelledError:  # the operator is stopping: so are its passes
            for futures in batch.waiting.values():
                for future in futures:
                    future.cancel()
            raise
        except Exception as exc:  # each read fails as it would have alone
            for futures in batch.waiting.values():
                for future in futures:
                    if not future.done():
                        future.set_exception(exc)
            return
        for value, futures in batch.waiting.items():
            for future in futures:
                if not future.done():
                    future.set_result(found[value])
