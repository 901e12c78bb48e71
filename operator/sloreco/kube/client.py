"""The Kubernetes API, as far as sloreco needs it — one of the two modules that do I/O.

kopf watches and dispatches; everything sloreco *writes* (children, their states, the parent's
status, events) goes through this small client so the reconcile pass can be tested against a
real apiserver without kopf, and so the exact patch types are ours to choose:

* merge patches (RFC 7386) for status, carrying ``metadata.resourceVersion`` when a write must
  not race another writer (the apiserver answers 409 on a stale version);
* creates that answer 409 ``AlreadyExists`` are how a retried pass re-finds its own child.

aiohttp rather than the official client: a dozen REST paths do not justify a generated client of
several hundred thousand lines, and kopf already runs on it. Not httpx: a request costs the
operator 1.2 ms of CPU through httpx and 0.4 ms through aiohttp (2,000 GETs against the test
control plane's apiserver), and a pass makes five of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json as jsonlib
import os
import socket
import ssl
import time
from collections.abc import Mapping
from typing import Any, cast

import aiohttp

from sloreco import api, errors, retry

#: Seconds per API call; the apiserver answers writes in milliseconds, so 30 s means "it is down".
DEFAULT_TIMEOUT = 30.0
#: 429 (priority and fairness, or "storage is (re)initializing" right after a CRD appears) and
#: 503 are the apiserver asking us to come back shortly; a few quick retries (``retry.KUBE``)
#: ride them out before the pass gives up and the operator's own backoff takes over.
RETRY_STATUSES = frozenset({429, 503})

Obj = api.Obj


@dataclasses.dataclass(frozen=True)
class Credentials:
    """Where the API is and who we are. The operator takes them from kopf's own login (in-cluster
    service account or kubeconfig: ``kopf.ConnectionInfo``, whose SSL context loads inline keys
    through temporary files that it removes at once), so sloreco parses no kubeconfig itself."""

    server: str
    #: ``Authorization`` and nothing else; empty for client-certificate logins.
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)
    #: The context that verifies the server (and presents a client certificate), or False.
    verify: ssl.SSLContext | bool = True

    @classmethod
    def bearer(cls, server: str, *, token: str, ca_file: str | None = None) -> Credentials:
        """A token and a CA bundle file: how the test control plane and a service account log in."""
        return cls(
            server=server,
            headers={"Authorization": f"Bearer {token}"},
            verify=ssl.create_default_context(cafile=ca_file) if ca_file else True,
        )


def path_for(plural: str, namespace: str, name: str | None = None, *, sub: str = "") -> str:
    """REST path of one of our custom resources (or the collection when ``name`` is None)."""
    base = f"/apis/{api.GROUP}/{api.VERSION}/namespaces/{namespace}/{plural}"
    if name is None:
        return base
    return f"{base}/{name}/{sub}" if sub else f"{base}/{name}"


class KubeClient:
    """A thin async client; created at operator startup and closed at cleanup."""

    def __init__(
        self,
        creds: Credentials,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        policy: retry.RetryPolicy = retry.KUBE,
    ) -> None:
        self._policy = policy
        self._creds = creds
        #: Paths are appended to the server as given (a proxy's path prefix included).
        self._server = creds.server.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        #: Opened on the first call: a session belongs to the running event loop.
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> KubeClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                headers=dict(self._creds.headers),
                timeout=self._timeout,
            )
        return self._session

    async def get(self, path: str) -> Obj:
        return await self._call("GET", path)

    async def list(self, path: str, *, label_selector: str | None = None) -> list[Obj]:
        params = {"labelSelector": label_selector} if label_selector else None
        body = await self._call("GET", path, params=params)
        return cast("list[Obj]", body.get("items", []))

    async def create(self, path: str, body: Obj) -> Obj:
        return await self._call("POST", path, json=body)

    async def merge_patch(self, path: str, body: Obj) -> Obj:
        headers = {"Content-Type": "application/merge-patch+json"}
        return await self._call("PATCH", path, json=body, headers=headers)

    async def delete(self, path: str, *, resource_version: str | None = None) -> None:
        # A precondition makes the delete fail (409) if someone changed the object meanwhile.
        body = (
            {"preconditions": {"resourceVersion": resource_version}} if resource_version else None
        )
        with contextlib.suppress(errors.NotFoundError):  # already gone is what we wanted
            await self._call("DELETE", path, json=body)

    async def post_event(
        self,
        obj: Mapping[str, Any],
        *,
        type_: str,
        reason: str,
        message: str,
        now: float,
    ) -> None:
        """An event about ``obj`` (core/v1, so ``kubectl describe`` shows it); ``now`` is epoch
        seconds."""
        meta = obj["metadata"]
        stamp = api.rfc3339(int(now))
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"generateName": f"{meta['name']}.", "namespace": meta["namespace"]},
            "involvedObject": {
                "apiVersion": obj["apiVersion"],
                "kind": obj["kind"],
                "name": meta["name"],
                "namespace": meta["namespace"],
                "uid": meta["uid"],
            },
            "type": type_,
            "reason": reason,
            "message": message[:1024],  # the apiserver rejects very long messages
            # kubectl shows "component, host": the operator, and the pod (or machine) it runs on.
            "source": {"component": EVENT_COMPONENT, "host": _host()},
            "reportingComponent": "sloreco.dev/operator",
            "reportingInstance": _host(),
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "count": 1,
        }
        await self._call("POST", f"/api/v1/namespaces/{meta['namespace']}/events", json=event)

    async def _call(
        self,
        method: str,
        path: str,
        *,
        json: Obj | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Obj:
        attempt = 0
        verify = self._creds.verify
        while True:
            try:
                async with self._http().request(
                    method,
                    self._server + path,
                    json=json,
                    params=params,
                    headers=headers,
                    ssl=verify,
                ) as response:
                    status, content = response.status, await response.read()
                    retry_after = response.headers.get("Retry-After")
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise errors.KubeError(f"{method} {path} failed: {exc!r}") from exc
            if status not in RETRY_STATUSES or not self._policy.retries_left(attempt):
                break
            wanted = retry.retry_after_seconds(retry_after, now=time.time())
            await asyncio.sleep(self._policy.delay(attempt, wanted))
            attempt += 1
        if 200 <= status < 300:
            return cast("Obj", jsonlib.loads(content)) if content else {}
        text = content.decode("utf-8", errors="replace")
        try:
            message = str(jsonlib.loads(text).get("message", text))
        except (ValueError, AttributeError):
            message = text
        text = f"{method} {path}: {status} {message}"
        if status == 409:
            raise errors.ConflictError(text, status=409)
        if status == 404:
            raise errors.NotFoundError(text, status=404)
        raise errors.KubeError(text, status=status)


#: ``source.component`` of our events, which ``kubectl describe`` shows as "From".
EVENT_COMPONENT = "sloreco-operator"


def _host() -> str:
    """The pod's name in a cluster (Kubernetes sets HOSTNAME to it), else this machine's."""
    return os.environ.get("HOSTNAME") or socket.gethostname()
