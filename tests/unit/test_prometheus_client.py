"""The reader's error paths and bucket placement, against a scripted server on loopback.

What Prometheus itself defines (``increase()``, its limits and messages) is tested against the
real server in tests/integration; here the server is a script, so every failure is on demand.
The scripts are written as ``httpx`` requests and answers (the server translates), so each reads
like the answer it stands for.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
import re
import socket
import threading
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs

import httpx
import pytest
from aiohttp import web

from sloreco import errors
from sloreco.core import history
from sloreco.sources import prometheus as promclient

T = TypeVar("T")
HOUR = 3600
START = 1_714_521_600  # 2024-05-01T00:00:00Z
Handler = Callable[[httpx.Request], httpx.Response]
#: How long the server stalls when a script raises ``httpx.TimeoutException``: longer than
#: ``SHORT_TIMEOUT``, the client timeout of the tests that script one.
STALL_SECONDS = 0.5
SHORT_TIMEOUT = 0.2


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


class Loopback:
    """An HTTP server on loopback in a thread of its own (the client under test runs in the
    test's event loop), answering every request with the current ``handler``."""

    def __init__(self) -> None:
        self.handler: Handler = lambda _: httpx.Response(500, text="no script")
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        assert self._ready.wait(10), "the loopback server did not start"

    def _serve(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._answer)
        runner = web.AppRunner(app)
        self._loop.run_until_complete(runner.setup())
        self._loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", 0).start())
        self.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(runner.cleanup())
        self._loop.close()

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        scripted = httpx.Request(
            request.method,
            f"http://prom{request.path_qs}",
            headers=dict(request.headers),
            content=await request.read(),
        )
        try:
            answer = self.handler(scripted)
        except httpx.TimeoutException:
            await asyncio.sleep(STALL_SECONDS)
            return web.Response(status=504)
        kept = {k: v for k, v in answer.headers.items() if k.lower() in ("retry-after",)}
        return web.Response(
            status=answer.status_code,
            body=answer.content,
            headers=kept,
            content_type=answer.headers.get("content-type", "text/plain").split(";")[0],
        )

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


#: The current test's server (``loopback``); Recorders answer through it.
SERVERS: list[Loopback] = []


@pytest.fixture(autouse=True)
def loopback() -> Iterator[Loopback]:
    """A server per test: requests a failed test's client left behind cannot reach the next."""
    server = Loopback()
    SERVERS.append(server)
    yield server
    SERVERS.remove(server)
    server.close()


def matrix(*series: tuple[dict[str, str], list[tuple[int, str]]]) -> httpx.Response:
    result = [{"metric": m, "values": [[t, v] for t, v in points]} for m, points in series]
    return httpx.Response(
        200, json={"status": "success", "data": {"resultType": "matrix", "result": result}}
    )


def error(status: int, kind: str, message: str) -> httpx.Response:
    return httpx.Response(status, json={"status": "error", "errorType": kind, "error": message})


def form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


class Recorder:
    """A client of the loopback server answering with ``handler``, remembering requests and
    backoff delays (``config``'s URL is replaced by the server's)."""

    def __init__(self, handler: Handler, **options: Any) -> None:
        self.requests: list[dict[str, str]] = []
        self.sleeps: list[float] = []

        def record(request: httpx.Request) -> httpx.Response:
            self.requests.append(form(request))
            return handler(request)

        async def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)

        (server,) = SERVERS
        server.handler = record
        config = options.pop("config", promclient.SourceConfig(name="test", url="http://prom"))
        # Most tests script Prometheus 2.x; the anchored probe has tests of its own.
        options.setdefault("ranges", "plain")
        self.client = promclient.PrometheusClient(
            dataclasses.replace(config, url=server.url), sleep=sleep, **options
        )

    def availability(self, *, hours: int = 3) -> history.AvailabilityHistory:
        async def read() -> history.AvailabilityHistory:
            async with self.client as client:
                return await client.read_availability(
                    total='http_requests_total{service="a"}',
                    errors='http_requests_total{service="a",code=~"5.."}',
                    start=START,
                    end=START + hours * HOUR,
                    bucket_seconds=HOUR,
                )

        return run(read())

    def latency(self, *, hours: int = 2) -> history.LatencyHistory:
        async def read() -> history.LatencyHistory:
            async with self.client as client:
                return await client.read_latency(
                    histogram='latency_bucket{service="a"}',
                    start=START,
                    end=START + hours * HOUR,
                    bucket_seconds=HOUR,
                )

        return run(read())


def by_query(total: httpx.Response, bad: httpx.Response) -> Handler:
    return lambda request: bad if "5.." in form(request)["query"] else total


def points(*values: str) -> list[tuple[int, str]]:
    """Values at the evaluation times of buckets 0, 1, …: bucket i ends at START+(i+1)h."""
    return [(START + (i + 1) * HOUR, v) for i, v in enumerate(values)]


def nan_to_none(values: history.FloatArray) -> list[float | None]:
    return [None if math.isnan(v) else float(v) for v in values.ravel()]


# --- grid and ranges -----------------------------------------------------------------------


def test_align_end_floors_to_the_bucket() -> None:
    assert (
        promclient.align_end(START + 3599.9, HOUR),
        promclient.align_end(START, HOUR),
    ) == (START, START)


def test_split_range_keeps_every_point_once_and_under_the_limit() -> None:
    assert promclient.split_range(0, 100, 10, max_points=5) == [(0, 40), (50, 90), (100, 100)]


def test_split_range_of_a_short_range_is_one_query() -> None:
    assert promclient.split_range(0, 100, 10, max_points=11_000) == [(0, 100)]


def test_long_ranges_are_queried_in_sub_ranges() -> None:
    recorder = Recorder(lambda _: matrix(), max_points=2)
    recorder.availability(hours=5)
    asked = sorted({(r["start"], r["end"]) for r in recorder.requests})
    hours = [(str(START + a * HOUR), str(START + b * HOUR)) for a, b in [(1, 2), (3, 4), (5, 5)]]
    assert hours == asked


def test_sub_range_results_are_joined_in_order() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        start, end = int(form(request)["start"]), int(form(request)["end"])
        return matrix(({}, [(t, str(t - START)) for t in range(start, end + 1, HOUR)]))

    got = Recorder(handler, max_points=2).availability(hours=5)
    assert [float(h * HOUR) for h in range(1, 6)] == got.total.tolist()


# --- values ---------------------------------------------------------------------------------


def test_counts_land_in_the_bucket_before_their_evaluation_time() -> None:
    got = Recorder(by_query(matrix(({}, points("10", "20", "30"))), matrix())).availability()
    assert (got.total.tolist(), got.bad.tolist()) == ([10.0, 20.0, 30.0], [0.0, 0.0, 0.0])


def test_buckets_without_samples_are_missing() -> None:
    total = matrix(({}, [(START + HOUR, "10"), (START + 3 * HOUR, "30")]))
    got = Recorder(by_query(total, matrix())).availability()
    assert nan_to_none(got.total) == [10.0, None, 30.0]


def test_an_empty_vector_is_all_missing() -> None:
    got = Recorder(lambda _: matrix()).availability()
    assert nan_to_none(got.total) + nan_to_none(got.bad)[3:] == [None, None, None]


def test_nan_inf_and_negative_counts_are_missing() -> None:
    got = Recorder(by_query(matrix(({}, points("NaN", "+Inf", "-1"))), matrix())).availability()
    assert nan_to_none(got.total) == [None, None, None]


def test_an_unusable_error_count_spoils_its_bucket() -> None:
    total = matrix(({}, points("10", "20", "30")))
    bad = matrix(({}, points("1", "NaN", "3")))
    got = Recorder(by_query(total, bad)).availability()
    assert (nan_to_none(got.total), nan_to_none(got.bad)) == ([10.0, None, 30.0], [1.0, None, 3.0])


def test_error_counts_above_the_total_are_capped_at_the_total() -> None:
    total = matrix(({}, points("10", "20", "30")))
    bad = matrix(({}, points("10.4", "0", "0")))
    assert Recorder(by_query(total, bad)).availability().bad.tolist() == [10.0, 0.0, 0.0]


def test_latency_bounds_come_sorted_from_le_labels() -> None:
    series = [({"le": le}, points(*counts)) for le, counts in [
        ("+Inf", ("9", "4")), ("0.5", ("7", "3")), ("0.1", ("2", "1")),
    ]]  # fmt: skip
    got = Recorder(lambda _: matrix(*series)).latency()
    assert ((0.1, 0.5, math.inf), [[2.0, 7.0, 9.0], [1.0, 3.0, 4.0]]) == (
        got.bounds,
        got.cumulative.tolist(),
    )


def test_a_latency_bucket_missing_any_bound_is_missing_whole() -> None:
    series = [({"le": "0.1"}, points("2", "1")), ({"le": "+Inf"}, [(START + HOUR, "9")])]
    got = Recorder(lambda _: matrix(*series)).latency()
    assert nan_to_none(got.cumulative) == [2.0, 9.0, None, None]


def test_a_histogram_without_inf_bucket_is_a_query_error() -> None:
    recorder = Recorder(lambda _: matrix(({"le": "0.1"}, points("2", "1"))))
    with pytest.raises(errors.QueryError, match=r'le="\+Inf"'):
        recorder.latency()


def test_series_without_le_are_bad_input_not_an_unreachable_source() -> None:
    """Issue 10: Prometheus answered; the selector is wrong for a histogram (a data problem)."""
    recorder = Recorder(lambda _: matrix(({}, points("2", "1"))))
    with pytest.raises(errors.InputError, match="histogram: matched series without an 'le'"):
        recorder.latency()


def test_an_error_selector_counting_more_than_the_total_is_refused() -> None:
    """Issue 10: such a pair gave 0.00 % tiers with Ready=True."""

    def handler(request: httpx.Request) -> httpx.Response:
        query = parse_qs(request.content.decode())["query"][0]
        count = "500" if "code" in query else "100"
        return matrix(({}, points(count, count)))

    recorder = Recorder(handler, config=promclient.SourceConfig(name="t", url="http://prom"))
    with pytest.raises(errors.InconsistentDataError, match="1000 failed requests against 200"):
        recorder.availability(hours=2)


def test_errors_a_hair_above_the_total_are_extrapolation_not_an_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        query = parse_qs(request.content.decode())["query"][0]
        return matrix(({}, points("1000.5" if "code" in query else "1000")))

    got = Recorder(handler).availability(hours=1)
    assert got.bad.tolist() == got.total.tolist() == [1000.0]


def test_no_histogram_series_at_all_is_all_missing() -> None:
    got = Recorder(lambda _: matrix()).latency()
    assert ((math.inf,), [None, None]) == (got.bounds, nan_to_none(got.cumulative))


# --- what is sent ---------------------------------------------------------------------------


def test_queries_wrap_the_canonical_selector() -> None:
    recorder = Recorder(lambda _: matrix())
    recorder.availability()
    assert {
        'sum (increase(http_requests_total{service="a"}[1h]))',
        'sum (increase(http_requests_total{service="a",code=~"5.."}[1h]))',
    } == {r["query"] for r in recorder.requests}


def test_an_invalid_selector_fails_before_any_request() -> None:
    recorder = Recorder(lambda _: matrix())

    async def read() -> None:
        async with recorder.client as client:
            await client.read_availability(
                total="rate(x[5m])", errors="x", start=START, end=START + HOUR, bucket_seconds=HOUR
            )

    with pytest.raises(errors.InputError, match=r"^total: "):
        run(read())
    assert recorder.requests == []


def test_the_bearer_token_is_read_from_its_file(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("s3cret\n")
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Authorization"))
        return matrix()

    config = promclient.SourceConfig(name="t", url="http://prom", bearer_token_file=str(token))
    Recorder(handler, config=config).availability()
    assert seen == ["Bearer s3cret", "Bearer s3cret"]


# --- failures -------------------------------------------------------------------------------


def test_503_is_retried_with_growing_delays_until_success() -> None:
    answers = iter([error(503, "unavailable", "busy")] * 2)

    def handler(request: httpx.Request) -> httpx.Response:  # the errors query always answers
        return (
            matrix()
            if "5.." in form(request)["query"]
            else next(answers, matrix(({}, points("5"))))
        )

    recorder = Recorder(handler)
    got = recorder.availability(hours=1)
    assert (got.total.tolist(), recorder.sleeps) == ([5.0], [0.5, 1.0])


def test_retry_after_is_honoured_when_longer_than_the_backoff() -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After": "3"}, text="slow down")])
    recorder = Recorder(lambda _: next(answers, matrix()))
    recorder.availability(hours=1)
    assert recorder.sleeps == [3.0]


def test_persistent_5xx_becomes_source_unreachable() -> None:
    recorder = Recorder(lambda _: error(500, "internal", "boom"), concurrency=1)
    with pytest.raises(errors.SourceUnreachableError, match="HTTP 500: internal: boom"):
        recorder.availability(hours=1)
    # The queries take turns (one slot); the first to give up, after its four attempts, fails
    # the read and cancels the other.
    first = recorder.requests[0]["query"]
    assert [r["query"] for r in recorder.requests].count(first) == 4


def test_bad_data_is_not_retried_and_says_what_prometheus_said() -> None:
    message = 'parse error: unexpected character inside braces: "}"'
    recorder = Recorder(lambda _: error(400, "bad_data", message))
    with pytest.raises(errors.QueryError, match="bad_data: parse error: unexpected"):
        recorder.availability(hours=1)
    assert recorder.sleeps == []


def test_timeouts_become_source_unreachable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("too slow", request=request)

    config = promclient.SourceConfig(name="t", url="http://prom", timeout=SHORT_TIMEOUT)
    with pytest.raises(errors.SourceUnreachableError, match=r"timed out after 0\.2s"):
        Recorder(handler, config=config).availability(hours=1)


def test_refused_connections_become_source_unreachable() -> None:
    with socket.socket() as sock:  # a port nobody listens on once it is closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = promclient.SourceConfig(name="t", url=f"http://127.0.0.1:{port}")

    async def read() -> None:
        async with promclient.PrometheusClient(config, sleep=_no_wait, ranges="plain") as client:
            await client.query_range(promclient.ANCHORED_PROBE, start=0, end=3600, step=3600)

    with pytest.raises(
        errors.SourceUnreachableError, match=re.escape(f"127.0.0.1:{port} is unreachable")
    ):
        run(read())


async def _no_wait(_: float) -> None:
    return None


def test_rejected_credentials_are_a_source_error_not_retried() -> None:
    recorder = Recorder(lambda _: httpx.Response(401, text="Unauthorized"))
    with pytest.raises(errors.SourceError, match="refused our credentials"):
        recorder.availability(hours=1)
    assert recorder.sleeps == []


def test_an_unreadable_answer_is_a_source_error() -> None:
    recorder = Recorder(lambda _: httpx.Response(200, text="<html>proxy login</html>"))
    with pytest.raises(errors.SourceError, match="unreadable answer"):
        recorder.availability(hours=1)


def test_a_failed_query_cancels_the_other_query_of_its_read() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if "5.." in form(request)["query"]:  # stalls, then answers 504: retried
            raise httpx.ReadTimeout("slow", request=request)
        return error(400, "bad_data", "parse error")  # fails the read at once

    recorder = Recorder(handler)

    async def read() -> None:
        async with recorder.client as client:
            with pytest.raises(errors.QueryError):
                await client.read_availability(
                    total="up",
                    errors='up{code=~"5.."}',
                    start=START,
                    end=START + HOUR,
                    bucket_seconds=HOUR,
                )
            # Long enough for a query left running to get its 504 and ask again.
            await asyncio.sleep(STALL_SECONDS * 1.5)

    run(read())
    # Once at most: cancelled while stalled (or, if the 400 came first, before it was sent).
    assert sum("5.." in r["query"] for r in recorder.requests) <= 1


# --- many services ----------------------------------------------------------------------------


def grouped_handler(request: httpx.Request) -> httpx.Response:
    query = form(request)["query"]
    value = "1" if "5.." in query else "10"
    regex = query.split('service=~"')[1].split('"')[0].replace("\\\\", "\\")
    names = [n.replace("\\.", ".") for n in regex.split("|")]
    return matrix(*(({"service": n}, points(value, value)) for n in names if n != "ghost"))


def test_many_services_are_queried_in_chunks_of_the_label_regex() -> None:
    recorder = Recorder(grouped_handler)

    async def read() -> dict[str, history.AvailabilityHistory]:
        async with recorder.client as client:
            return await client.read_availability_many(
                total="http_requests_total",
                errors='http_requests_total{code=~"5.."}',
                label="service",
                values=["a", "b.c", "ghost"],
                start=START,
                end=START + 2 * HOUR,
                bucket_seconds=HOUR,
                chunk_size=2,
            )

    got = run(read())
    total, bad = "http_requests_total{", 'http_requests_total{code=~"5..",'
    assert (
        {
            f'sum by (service) (increase({total}service=~"a|b\\\\.c"}}[1h]))',
            f'sum by (service) (increase({bad}service=~"a|b\\\\.c"}}[1h]))',
            f'sum by (service) (increase({total}service=~"ghost"}}[1h]))',
            f'sum by (service) (increase({bad}service=~"ghost"}}[1h]))',
        },
        {"a": [10.0, 10.0], "b.c": [10.0, 10.0], "ghost": [None, None]},
    ) == (
        {r["query"] for r in recorder.requests},
        {name: nan_to_none(h.total) for name, h in got.items()},
    )


def test_client_side_aggregation_sums_series_of_one_group() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return matrix(
            ({"service": "a", "le": "+Inf", "pod": "1"}, points("3", "4")),
            ({"service": "a", "le": "+Inf", "pod": "2"}, points("5", "6")),
        )

    recorder = Recorder(handler)

    async def read() -> dict[str, history.LatencyHistory]:
        async with recorder.client as client:
            return await client.read_latency_many(
                histogram="latency_bucket",
                label="service",
                values=["a"],
                start=START,
                end=START + 2 * HOUR,
                bucket_seconds=HOUR,
                aggregate="client",
            )

    got = run(read())
    assert (
        [r["query"] for r in recorder.requests],
        got["a"].cumulative.tolist(),
    ) == (['increase(latency_bucket{service=~"a"}[1h])'], [[8.0], [10.0]])


def test_matrix_helper_is_what_prometheus_sends() -> None:
    # Guard for the fixtures above: the shape matches /api/v1/query_range's documented JSON.
    body = json.loads(matrix(({"a": "b"}, [(1, "2")])).content)
    assert body == {"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": {"a": "b"}, "values": [[1, "2"]]}
    ]}}  # fmt: skip


def test_retry_after_as_an_http_date_is_honoured() -> None:
    import email.utils
    import time

    when = email.utils.formatdate(time.time() + 4, usegmt=True)
    answers = iter([httpx.Response(503, headers={"Retry-After": when}, text="restarting")])
    recorder = Recorder(lambda _: next(answers, matrix()))
    recorder.availability(hours=1)
    assert len(recorder.sleeps) == 1
    assert 2.0 <= recorder.sleeps[0] <= 4.0  # the date has whole seconds; time has passed


# --- range semantics (Prometheus 3's anchored modifier) ------------------------------------


def anchored_aware(*, accepts: bool) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        query = form(request)["query"]
        if "anchored" in query and not accepts:
            return error(400, "bad_data", '1:33: parse error: unexpected identifier "anchored"')
        if request.url.path == "/api/v1/query":
            return httpx.Response(
                200, json={"status": "success", "data": {"resultType": "vector", "result": []}}
            )
        return matrix(({}, points("5")))

    return handle


@pytest.mark.parametrize("accepts", [True, False])
def test_the_server_is_asked_once_whether_it_knows_anchored(accepts: bool) -> None:
    recorder = Recorder(anchored_aware(accepts=accepts), ranges="auto")
    history_read = recorder.availability(hours=1)
    queries = [r["query"] for r in recorder.requests]
    suffix = "[1h] anchored))" if accepts else "[1h]))"
    assert (
        queries[0],
        len(queries),
        all(q.endswith(suffix) for q in queries[1:]),
        nan_to_none(history_read.total),
    ) == (promclient.ANCHORED_PROBE, 3, True, [5.0])
