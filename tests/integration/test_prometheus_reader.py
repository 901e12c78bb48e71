"""The reader against real backends: what it returns is exactly what the generator wrote.

Samples sit on the 5-minute grid aligned to the hour. Prometheus 2.x range selectors are closed,
Prometheus 3's are left-open but the reader adds ``anchored`` when the server knows it, and
VictoriaMetrics' ``increase()`` takes the sample before the window: on every backend no
extrapolation happens, so counts must match *exactly*, not roughly. Tests that take ``backend``
run once per backend (``tests.fixtures.prometheus.BACKENDS``); the one difference found between
them is written down in :func:`as_served`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import time
from collections.abc import Awaitable
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest

from sloreco import errors, retry
from sloreco.core import history
from sloreco.render import crd
from sloreco.sources import prometheus as promclient
from sloreco.sources import promql, synth, synthseries
from sloreco.testing import prometheus as promtest
from tests import factories
from tests.fixtures.prometheus import PrometheusHistory

pytestmark = pytest.mark.integration

T = TypeVar("T")
HOUR = 3600
WITH_DATA = [p for p in synth.PROFILES if p != "no-data"]


def run(coro: Awaitable[T]) -> T:
    async def main() -> T:
        return await coro

    return asyncio.run(main())


def client(url: str, **options: Any) -> promclient.PrometheusClient:
    return promclient.PrometheusClient(promclient.SourceConfig(name="test", url=url), **options)


async def read_availability(
    url: str, service: str, *, start: int, end: int, bucket: int = HOUR, **options: Any
) -> history.AvailabilityHistory:
    async with client(url, **options) as source:
        return await source.read_availability(
            total=f'http_requests_total{{service="{service}"}}',
            errors=f'http_requests_total{{service="{service}",code=~"5.."}}',
            start=start,
            end=end,
            bucket_seconds=bucket,
        )


async def read_latency(url: str, service: str, *, start: int, end: int) -> history.LatencyHistory:
    async with client(url) as source:
        return await source.read_latency(
            histogram=f'http_request_duration_seconds_bucket{{service="{service}"}}',
            start=start,
            end=end,
            bucket_seconds=HOUR,
        )


H = TypeVar("H", history.AvailabilityHistory, history.LatencyHistory)


def as_served(backend: PrometheusHistory, profile: str, expected: H) -> H:
    """``expected`` as ``backend`` serves it: VictoriaMetrics and Prometheus 3 with ``anchored``
    read the bucket that *ends* at a series' first sample as 0, not missing.

    Both evaluate ``increase()`` over a window holding that one sample (a new counter's 0) and
    answer 0 where Prometheus 2.x needs two samples in range and answers nothing. It costs one
    zero-traffic hour at a service's birth and no request is miscounted. Measured here, not
    assumed: the tests fail if it stops (or starts) being so.
    """
    first = backend.truth(profile).first
    if backend.backend not in ("prometheus3", "victoriametrics") or first is None:
        return expected
    index = (first - expected.start) // expected.bucket_seconds - 1
    if not 0 <= index < (expected.end - expected.start) // expected.bucket_seconds:
        return expected
    if isinstance(expected, history.AvailabilityHistory):
        total, bad = expected.total.copy(), expected.bad.copy()
        total[index] = bad[index] = 0.0
        return dataclasses.replace(expected, total=total, bad=bad)
    cumulative = expected.cumulative.copy()
    cumulative[index] = 0.0
    return dataclasses.replace(expected, cumulative=cumulative)


def as_lists(values: np.ndarray) -> list[object]:
    """NaN-aware comparison with a readable diff: NaN becomes None."""
    return [None if math.isnan(v) else v for v in np.asarray(values, dtype=float).ravel()]


@pytest.mark.parametrize("profile", WITH_DATA)
def test_availability_counts_equal_the_generators(backend: PrometheusHistory, profile: str) -> None:
    # Two days before the data starts too: those buckets must come back missing.
    start, end = backend.start - 2 * 86400, backend.end
    expected = synthseries.availability_history(
        backend.truth(profile), start=start, end=end, bucket_seconds=HOUR
    )
    expected = as_served(backend, profile, expected)
    actual = run(read_availability(backend.url, profile, start=start, end=end))
    assert (as_lists(expected.total), as_lists(expected.bad)) == (
        as_lists(actual.total),
        as_lists(actual.bad),
    )


@pytest.mark.parametrize("profile", WITH_DATA)
def test_latency_increments_equal_the_generators(backend: PrometheusHistory, profile: str) -> None:
    start, end = backend.start, backend.end
    expected = synthseries.latency_history(
        backend.truth(profile), start=start, end=end, bucket_seconds=HOUR
    )
    expected = as_served(backend, profile, expected)
    actual = run(read_latency(backend.url, profile, start=start, end=end))
    assert (expected.bounds, as_lists(expected.cumulative)) == (
        actual.bounds,
        as_lists(actual.cumulative),
    )


def test_availability_recommendation_is_the_same_from_prometheus_and_from_the_generator(
    backend: PrometheusHistory,
) -> None:
    start, end = backend.start, backend.end
    truth = synthseries.availability_history(
        backend.truth("incidents"), start=start, end=end, bucket_seconds=HOUR
    )
    read = run(read_availability(backend.url, "incidents", start=start, end=end))
    options: dict[str, Any] = {"window_seconds": 28 * 86400, "seed": 7}
    assert crd.recommendation_spec(
        factories.recommend_availability(truth, **options)
    ) == crd.recommendation_spec(factories.recommend_availability(read, **options))


def test_latency_recommendation_is_the_same_from_prometheus_and_from_the_generator(
    backend: PrometheusHistory,
) -> None:
    start, end = backend.start, backend.end
    truth = synthseries.latency_history(
        backend.truth("high-variance"), start=start, end=end, bucket_seconds=HOUR
    )
    read = run(read_latency(backend.url, "high-variance", start=start, end=end))
    options: dict[str, Any] = {"percentile": Decimal("99"), "window_seconds": 28 * 86400, "seed": 7}
    assert crd.recommendation_spec(
        factories.recommend_latency(truth, **options)
    ) == crd.recommendation_spec(factories.recommend_latency(read, **options))


def test_counter_restart_profile_really_restarts(prometheus: PrometheusHistory) -> None:
    # The exactness test above only proves reset handling if there are resets to handle.
    assert prometheus.truth("counter-restarts").restarts.sum() >= 30


def test_no_data_service_reads_as_all_missing(backend: PrometheusHistory) -> None:
    start, end = backend.start, backend.end
    avail = run(read_availability(backend.url, "no-data", start=start, end=end))
    latency = run(read_latency(backend.url, "no-data", start=start, end=end))
    assert (
        bool(np.isnan(avail.total).all() and np.isnan(avail.bad).all()),
        bool(np.isnan(latency.cumulative).all()),
    ) == (True, True)


def test_five_minute_buckets_over_90_days_are_split_and_exact(
    backend: PrometheusHistory,
) -> None:
    # 25,920 points per series: more than Prometheus's 11,000, so three queries.
    start, end = backend.start, backend.end
    expected = synthseries.availability_history(
        backend.truth("steady"), start=start, end=end, bucket_seconds=300
    )
    actual = run(read_availability(backend.url, "steady", start=start, end=end, bucket=300))
    assert as_lists(expected.total) == as_lists(actual.total)


def test_many_small_ranges_give_what_one_range_gives(backend: PrometheusHistory) -> None:
    start, end = backend.start, backend.end
    whole = run(read_availability(backend.url, "incidents", start=start, end=end))
    pieces = run(read_availability(backend.url, "incidents", start=start, end=end, max_points=97))
    assert (as_lists(whole.total), as_lists(whole.bad)) == (
        as_lists(pieces.total),
        as_lists(pieces.bad),
    )


def test_prometheus_really_refuses_more_than_11000_points(prometheus: PrometheusHistory) -> None:
    # Why the reader splits: without splitting, the server says no.
    start, end = prometheus.start, prometheus.end
    with pytest.raises(errors.QueryError, match="exceeded maximum resolution"):
        run(
            read_availability(
                prometheus.url, "steady", start=start, end=end, bucket=300, max_points=30_000
            )
        )


def test_bad_regex_comes_back_as_prometheus_own_message(prometheus: PrometheusHistory) -> None:
    async def read() -> None:
        async with client(prometheus.url) as source:
            await source.read_availability(
                total='http_requests_total{service=~"(unclosed"}',
                errors='http_requests_total{code=~"5.."}',
                start=prometheus.end - 86400,
                end=prometheus.end,
                bucket_seconds=HOUR,
            )

    with pytest.raises(errors.QueryError, match="missing closing"):
        run(read())


def test_invalid_selector_is_an_input_error_naming_the_field(
    prometheus: PrometheusHistory,
) -> None:
    async def read() -> None:
        async with client(prometheus.url) as source:
            await source.read_latency(
                histogram="sum(http_request_duration_seconds_bucket)",
                start=prometheus.end - 86400,
                end=prometheus.end,
                bucket_seconds=HOUR,
            )

    with pytest.raises(errors.InputError) as caught:
        run(read())
    assert caught.value.field == "histogram"


@pytest.mark.parametrize("aggregate", ["server", "client"])
def test_batched_reads_equal_single_reads(
    backend: PrometheusHistory, aggregate: promclient.Aggregate
) -> None:
    start, end = backend.start, backend.end
    names = [*synth.PROFILES, "absent"]

    async def read() -> tuple[
        dict[str, history.AvailabilityHistory], dict[str, history.LatencyHistory]
    ]:
        async with client(backend.url) as source:
            return await asyncio.gather(
                source.read_availability_many(
                    total="http_requests_total",
                    errors='http_requests_total{code=~"5.."}',
                    label="service",
                    values=names,
                    start=start,
                    end=end,
                    bucket_seconds=HOUR,
                    chunk_size=3,
                    aggregate=aggregate,
                ),
                source.read_latency_many(
                    histogram="http_request_duration_seconds_bucket",
                    label="service",
                    values=names,
                    start=start,
                    end=end,
                    bucket_seconds=HOUR,
                    chunk_size=3,
                    aggregate=aggregate,
                ),
            )

    avail, latency = run(read())
    expected = {
        name: (
            as_lists(a.total),
            as_lists(a.bad),
            as_lists(read_single_latency.cumulative),
        )
        for name in names
        for a in [run(read_availability(backend.url, name, start=start, end=end))]
        for read_single_latency in [run(read_latency(backend.url, name, start=start, end=end))]
    }
    actual = {
        name: (
            as_lists(avail[name].total),
            as_lists(avail[name].bad),
            as_lists(latency[name].cumulative),
        )
        for name in names
    }
    assert expected == actual


def test_a_fractional_timeout_is_sent_in_a_form_prometheus_accepts(
    backend: PrometheusHistory,
) -> None:
    async def read() -> history.AvailabilityHistory:
        config = promclient.SourceConfig(name="test", url=backend.url, timeout=2.5)
        async with promclient.PrometheusClient(config) as source:
            return await source.read_availability(
                total="http_requests_total",
                errors='http_requests_total{code=~"5.."}',
                start=backend.end - 86400,
                end=backend.end,
                bucket_seconds=HOUR,
            )

    assert int(np.isfinite(run(read()).total).sum()) == 24


def test_a_stopped_source_is_unreachable_and_comes_back_on_the_same_url(
    private_prometheus: promtest.PrometheusServer, prometheus: PrometheusHistory
) -> None:
    url = private_prometheus.url
    window = {"start": prometheus.end - 86400, "end": prometheus.end}
    private_prometheus.stop()
    no_wait = prometheus_retry_without_waiting()
    with pytest.raises(errors.SourceUnreachableError):
        run(read_availability(url, "steady", **window, retry=no_wait))
    private_prometheus.start()
    back = run(read_availability(url, "steady", **window))
    assert (url, 24) == (private_prometheus.url, int(np.isfinite(back.total).sum()))


def prometheus_retry_without_waiting() -> retry.RetryPolicy:
    return retry.RetryPolicy(attempts=2, first_delay=0.0)


@pytest.mark.parametrize(
    "value",
    [
        'quote " inside',
        "back\\slash \\d+",
        "new\nline and\ttab",
        "ünïcødé ✓",
        '"} or vector(1) or up{a="',
        "\x7f\x01",
    ],
)
def test_rendered_label_values_reach_prometheus_unchanged(
    backend: PrometheusHistory, value: str
) -> None:
    # absent() echoes the labels of its selector's equality matchers: Prometheus's own parser
    # shows what it read from our rendering — the same value, and nothing spliced around it.
    selector = promql.Selector("no_such_metric", (promql.Matcher("probe", "=", value),))
    expr = promql.Expr(f"absent({selector.render()})")

    async def read() -> list[dict[str, str]]:
        async with client(backend.url) as source:
            found = await source.query_range(expr, start=backend.end, end=backend.end, step=60)
            return [dict(s.labels) for s in found]

    assert [{"probe": value}] == run(read())


def test_anchored_is_used_exactly_where_the_server_knows_it(backend: PrometheusHistory) -> None:
    async def ask() -> bool:
        async with client(backend.url) as source:
            return await source.anchored()

    assert run(ask()) == (backend.backend == "prometheus3")


def test_plain_increase_is_exact_except_on_prometheus3(backend: PrometheusHistory) -> None:
    # Why the reader asks: without ``anchored``, Prometheus 3's left-open ranges extrapolate.
    start, end = backend.start, backend.end
    expected = synthseries.availability_history(
        backend.truth("steady"), start=start, end=end, bucket_seconds=HOUR
    )
    plain = run(read_availability(backend.url, "steady", start=start, end=end, ranges="plain"))
    worst = float(np.nanmax(np.abs(plain.total / expected.total - 1)))
    assert (worst == 0.0, worst < 0.02) == (backend.backend != "prometheus3", True)


def test_a_histogram_whose_buckets_changed_is_read_whole_at_the_bounds_it_kept(
    tmp_path: Path,
) -> None:
    # Twenty days of a histogram with le 0.1, 0.5 and +Inf, and le 0.3 added for the last five
    # (the bucket a team adds at its new threshold), backfilled into a Prometheus of its own.
    step, days = 300, 20
    end = int(time.time()) // HOUR * HOUR
    first = end - days * 86400
    times = np.arange(first, end + 1, step)
    rng = np.random.default_rng(7)
    per_step = rng.poisson(100, (len(times), 4)).cumsum(axis=1)  # 0.1, 0.3, 0.5, +Inf
    counters = np.vstack([np.zeros((1, 4), np.int64), per_step[1:].cumsum(axis=0)])
    added = len(times) - 5 * 86400 // step
    lines = ["# TYPE http_request_duration_seconds histogram"]
    for j, le in enumerate(("0.1", "0.3", "0.5", "+Inf")):
        rows = range(added, len(times)) if le == "0.3" else range(len(times))
        base = counters[added, j] if le == "0.3" else 0  # a new series starts from zero
        lines += [
            f'http_request_duration_seconds_bucket{{service="rebucketed",le="{le}"}} '
            f"{counters[i, j] - base} {times[i]}"
            for i in rows
        ]
    openmetrics = tmp_path / "history.om"
    openmetrics.write_text("\n".join([*lines, "# EOF"]) + "\n")
    promtest.backfill(openmetrics, tmp_path / "server" / "data", span_seconds=days * 86400)

    with promtest.PrometheusServer(tmp_path / "server") as server:
        read = run(read_latency(server.url, "rebucketed", start=first, end=end))

    increments = np.diff(counters, axis=0).reshape(-1, HOUR // step, 4).sum(axis=1)
    assert (read.bounds, read.partial_bounds) == ((0.1, 0.5, math.inf), (0.3,))
    np.testing.assert_array_equal(read.cumulative, increments[:, [0, 2, 3]])
