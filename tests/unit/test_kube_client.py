"""The Kubernetes client's error paths, against a scripted HTTP server on loopback.

What the apiserver itself defines (merge patches, conflicts on a stale resourceVersion, the
status subresource) is tested against the real kube-apiserver in tests/integration/test_kube.py;
here the server answers whatever a test needs, so the retries and the error mapping are on demand.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from aiohttp import web

from sloreco import errors, retry
from sloreco.kube import client as kube

T = TypeVar("T")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: No waiting between retries: the policy's delays are tested in test_retry.py.
QUICK = retry.RetryPolicy(attempts=3, first_delay=0.0)


def serve(handler: Handler, body: Callable[[kube.KubeClient], Awaitable[T]]) -> T:
    """Run ``body`` against a client of a loopback server that answers with ``handler``."""

    async def main() -> T:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        try:
            creds = kube.Credentials(server=f"http://127.0.0.1:{port}/prefix/", verify=False)
            async with kube.KubeClient(creds, policy=QUICK) as client:
                return await body(client)
        finally:
            await runner.cleanup()

    return asyncio.run(main())


def status_error(code: int, message: str) -> web.Response:
    return web.json_response({"kind": "Status", "code": code, "message": message}, status=code)


def test_a_429_is_retried_until_the_apiserver_answers() -> None:
    calls: list[str] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        calls.append(request.path)
        if len(calls) < 3:
            return web.Response(status=429, headers={"Retry-After": "0"})
        return web.json_response({"metadata": {"name": "x"}})

    got = serve(handler, lambda c: c.get("/apis/x"))
    assert got == {"metadata": {"name": "x"}}
    assert calls == ["/prefix/apis/x"] * 3  # the server's path prefix is kept


def test_a_503_that_persists_becomes_a_kube_error_with_its_status() -> None:
    async def handler(_: web.Request) -> web.StreamResponse:
        return status_error(503, "storage is (re)initializing")

    with pytest.raises(errors.KubeError, match="503 storage is") as caught:
        serve(handler, lambda c: c.get("/apis/x"))
    assert caught.value.status == 503


@pytest.mark.parametrize(
    ("code", "kind"), [(409, errors.ConflictError), (404, errors.NotFoundError)]
)
def test_conflict_and_not_found_get_their_own_errors(code: int, kind: type[Exception]) -> None:
    async def handler(_: web.Request) -> web.StreamResponse:
        return status_error(code, "the object has been modified")

    with pytest.raises(kind, match=f"PATCH /apis/x: {code} the object has been modified"):
        serve(handler, lambda c: c.merge_patch("/apis/x", {"status": {}}))


def test_a_body_that_is_not_json_is_quoted_as_text() -> None:
    async def handler(_: web.Request) -> web.StreamResponse:
        return web.Response(status=500, text="upstream connect error")

    with pytest.raises(errors.KubeError, match="GET /apis/x: 500 upstream connect error"):
        serve(handler, lambda c: c.get("/apis/x"))


def test_a_merge_patch_says_so_and_sends_the_body() -> None:
    seen: dict[str, Any] = {}

    async def handler(request: web.Request) -> web.StreamResponse:
        seen["type"] = request.headers["Content-Type"]
        seen["body"] = await request.json()
        return web.json_response({"ok": True})

    serve(handler, lambda c: c.merge_patch("/apis/x", {"status": {"a": 1}}))
    assert seen == {"type": "application/merge-patch+json", "body": {"status": {"a": 1}}}


def test_a_label_selector_is_sent_as_a_query_parameter() -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.json_response({"items": [{"selector": request.query["labelSelector"]}]})

    got = serve(handler, lambda c: c.list("/apis/x", label_selector="a=b"))
    assert got == [{"selector": "a=b"}]


def test_a_refused_connection_is_a_kube_error() -> None:
    async def body() -> None:
        creds = kube.Credentials(server="http://127.0.0.1:9", verify=False)  # discard: closed
        async with kube.KubeClient(creds, policy=QUICK) as client:
            await client.get("/apis/x")

    with pytest.raises(errors.KubeError, match="GET /apis/x failed"):
        asyncio.run(body())
