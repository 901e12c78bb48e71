"""One Prometheus's HTTP API: a POST, its retries, and its failures in the user's terms.

Why ``aiohttp``: kopf runs every handler on one asyncio loop, and a reconcile pass waits on
Prometheus most of its time; an async client lets hundreds of passes wait at once without
threads. ``prometheus-api-client`` is synchronous (``requests``) — it would block the loop or need
a thread pool — and depends on pandas, which the operator image does not need. aiohttp is what
kopf and our Kubernetes client (``kube.client``) already run on — one HTTP library in the
operator — and costs a third of httpx's CPU per request (measured there). Tests script the
server on loopback (tests/unit/test_prometheus_client.py).

Queries in flight are bounded by a semaphore (one PromQL query runs on one Prometheus core);
connection errors, timeouts, 429 and 5xx are retried under the one retry policy
(:mod:`sloreco.retry`, which honours ``Retry-After``), 4xx never (a bad selector stays bad) and
surface as ``QueryError`` with Prometheus's own message. ``Accept-Encoding: identity`` because
Prometheus's gzip made a 3.8 MB response 3.5x slower on loopback (0.46 s vs 0.13 s): its
compression costs more CPU than an in-cluster network saves.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import ssl
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

from sloreco import errors
from sloreco import retry as retries


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


class Api:
    """A connection pool to one Prometheus; ``aclose()`` when done."""

    def __init__(
        self,
        config: SourceConfig,
        *,
        concurrency: int,
        retry: retries.RetryPolicy,
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self.config = config
        self.retry = retry
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

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def post(self, path: str, form: dict[str, str], expr: str) -> bytes:
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
