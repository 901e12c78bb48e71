"""The reader against a real Prometheus: what it returns is exactly what the generator wrote.

Samples sit on the 5-minute grid aligned to the hour, and Prometheus 2.x range selectors are
closed, so ``increase()`` needs no extrapolation: counts must match *exactly*, not roughly.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable
from decimal import Decimal
from typing import Any, TypeVar

import numpy as np
import pytest

from sloreco import errors, retry
from sloreco.core import history
from sloreco.render import crd
from sloreco.sources import prometheus as promclient
from sloreco.sources import promql, synth
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


def as_lists(values: np.ndarray) -> list[object]:
    """NaN-aware comparison with a readable diff: NaN becomes None."""
    return [None if math.isnan(v) else v for v in np.asarray(values, dtype=float).ravel()]


@pytest.mark.parametrize("profile", WITH_DATA)
def test_availability_counts_equal_the_generators(
    prometheus: PrometheusHistory, profile: str
) -> None:
    # Two days before the data starts too: those buckets must come back missing.
    start, end = prometheus.start - 2 * 86400, prometheus.end
    expected = synth.availability_history(
        prometheus.truth(profile), start=start, end=end, bucket_seconds=HOUR
    )
    actual = run(read_availability(prometheus.url, profile, start=start, end=end))
    assert (as_lists(expected.total), as_lists(expected.bad)) == (
        as_lists(actual.total),
        as_lists(actual.bad),
    )


@pytest.mark.parametrize("profile", WITH_DATA)
def test_latency_increments_equal_the_generators(
    prometheus: PrometheusHistory, profile: str
) -> None:
    start, end = prometheus.start, prometheus.end
    expected = synth.latency_history(
        prometheus.truth(profile), start=start, end=end, bucket_seconds=HOUR
    )
    actual = run(read_latency(prometheus.url, profile, start=start, end=end))
    assert (expected.bounds, as_lists(expected.cumulative)) == (
        actual.bounds,
        as_lists(actual.cumulative),
    )


def test_availability_recommendation_is_the_same_from_prometheus_and_from_the_generator(
    prometheus: PrometheusHistory,
) -> None:
    start, end = prometheus.start, prometheus.end
    truth = synth.availability_history(
        prometheus.truth("incidents"), start=start, end=end, bucket_seconds=HOUR
    )
    read = run(read_availability(prometheus.url, "incidents", start=start, end=end))
    options: dict[str, Any] = {"window_seconds": 28 * 86400, "seed": 7}
    assert crd.recommendation_spec(
        factories.recommend_availability(truth, **options)
    ) == crd.recommendation_spec(factories.recommend_availability(read, **options))


def test_latency_recommendation_is_the_same_from_prometheus_and_from_the_generator(
    prometheus: PrometheusHistory,
) -> None:
    start, end = prometheus.start, prometheus.end
    truth = synth.latency_history(
        prometheus.truth("high-variance"), start=start, end=end, bucket_seconds=HOUR
    )
    read = run(read_latency(prometheus.url, "high-variance", start=start, end=end))
    options: dict[str, Any] = {"percentile": Decimal("99"), "window_seconds": 28 * 86400, "seed": 7}
    assert crd.recommendation_spec(
        factories.recommend_latency(truth, **options)
    ) == crd.recommendation_spec(factories.recommend_latency(read, **options))


def test_counter_restart_profile_really_restarts(prometheus: PrometheusHistory) -> None:
    # The exactness test above only proves reset handling if there are resets to handle.
    assert prometheus.truth("counter-restarts").restarts.sum() >= 30


def test_no_data_service_reads_as_all_missing(prometheus: PrometheusHistory) -> None:
    start, end = prometheus.start, prometheus.end
    avail = run(read_availability(prometheus.url, "no-data", start=start, end=end))
    latency = run(read_latency(prometheus.url, "no-data", start=start, end=end))
    assert (
        bool(np.isnan(avail.total).all() and np.isnan(avail.bad).all()),
        bool(np.isnan(latency.cumulative).all()),
    ) == (True, True)


def test_five_minute_buckets_over_90_days_are_split_and_exact(
    prometheus: PrometheusHistory,
) -> None:
    # 25,920 points per series: more than Prometheus's 11,000, so three queries.
    start, end = prometheus.start, prometheus.end
    expected = synth.availability_history(
        prometheus.truth("steady"), start=start, end=end, bucket_seconds=300
    )
    actual = run(read_availability(prometheus.url, "steady", start=start, end=end, bucket=300))
    assert as_lists(expected.total) == as_lists(actual.total)


def test_many_small_ranges_give_what_one_range_gives(prometheus: PrometheusHistory) -> None:
    start, end = prometheus.start, prometheus.end
    whole = run(read_availability(prometheus.url, "incidents", start=start, end=end))
    pieces = run(
        read_availability(prometheus.url, "incidents", start=start, end=end, max_points=97)
    )
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
    prometheus: PrometheusHistory, aggregate: promclient.Aggregate
) -> None:
    start, end = prometheus.start, prometheus.end
    names = [*synth.PROFILES, "absent"]

    async def read() -> tuple[
        dict[str, history.AvailabilityHistory], dict[str, history.LatencyHistory]
    ]:
        async with client(prometheus.url) as source:
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
        for a in [run(read_availability(prometheus.url, name, start=start, end=end))]
        for read_single_latency in [run(read_latency(prometheus.url, name, start=start, end=end))]
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
    prometheus: PrometheusHistory,
) -> None:
    async def read() -> history.AvailabilityHistory:
        config = promclient.SourceConfig(name="test", url=prometheus.url, timeout=2.5)
        async with promclient.PrometheusClient(config) as source:
            return await source.read_availability(
                total="http_requests_total",
                errors='http_requests_total{code=~"5.."}',
                start=prometheus.end - 86400,
                end=prometheus.end,
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
    prometheus: PrometheusHistory, value: str
) -> None:
    # absent() echoes the labels of its selector's equality matchers: Prometheus's own parser
    # shows what it read from our rendering — the same value, and nothing spliced around it.
    selector = promql.Selector("no_such_metric", (promql.Matcher("probe", "=", value),))
    expr = promql.Expr(f"absent({selector.render()})")

    async def read() -> list[dict[str, str]]:
        async with client(prometheus.url) as source:
            found = await source.query_range(
                expr, start=prometheus.end, end=prometheus.end, step=60
            )
            return [dict(s.labels) for s in found]

    assert [{"probe": value}] == run(read())
