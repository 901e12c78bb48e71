"""The Kubernetes API, as far as sloreco needs it — one of the two modules that do I/O.

kopf watches and dispatches; everything sloreco *writes* (children, their states, the parent's
status, events) goes through this small client so the reconcile pass can be tested against a
real apiserver without kopf, and so the exact patch types are ours to choose:

* merge patches (RFC 7386) for status, carrying ``metadata.resourceVersion`` when a write must
  not race another writer (the apiserver answers 409 on a stale version);
* creates that answer 409 ``AlreadyExists`` are how a retried pass re-finds its own child.

httpx (async) rather than the official client: it is already our Prometheus client, it is typed,
and a dozen REST paths do not justify a generated client of several hundred thousand lines.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import datetime
import os
import ssl
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import httpx
import yaml

from sloreco import api, errors

#: In-cluster credentials, where Kubernetes mounts them for every pod.
SA_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")

#: Seconds per API call; the apiserver answers writes in milliseconds, so 30 s means "it is down".
DEFAULT_TIMEOUT = 30.0
#: 429 (priority and fairness, or "storage is (re)initializing" right after a CRD appears) and
#: 503 are the apiserver asking us to come back shortly; a few quick retries ride them out before
#: the pass gives up and kopf's own backoff takes over.
RETRY_STATUSES = frozenset({429, 503})
RETRY_ATTEMPTS = 5
RETRY_BASE_DELAY = 0.2  # seconds, doubled per attempt: 0.2 + 0.4 + ... = 6.2 s at most

Obj = dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Credentials:
    """Where the API is and who we are; built from a kubeconfig, in-cluster files, or kopf."""

    server: str
    token: str | None = None
    ca_path: str | None = None
    ca_data: str | None = None  # PEM text, already base64-decoded
    certificate_path: str | None = None
    private_key_path: str | None = None
    insecure: bool = False


def load_kubeconfig(path: str | None = None) -> Credentials:
    """Credentials of the current context of ``path`` (or ``$KUBECONFIG``/``~/.kube/config``)."""
    location = path or os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or "~/.kube/config"
    try:
        config = yaml.safe_load(Path(location).expanduser().read_text()) or {}
        context_name = config["current-context"]
        context = _named(config["contexts"], context_name)["context"]
        cluster = _named(config["clusters"], context["cluster"])["cluster"]
        user = _named(config["users"], context["user"])["user"]
    except (OSError, KeyError, TypeError, yaml.YAMLError) as exc:
        raise errors.KubeError(f"Cannot use kubeconfig {location}: {exc!r}") from exc
    return Credentials(
        server=cluster["server"],
        token=user.get("token"),
        ca_path=cluster.get("certificate-authority"),
        ca_data=_b64(cluster.get("certificate-authority-data")),
        certificate_path=_materialise(user, "client-certificate"),
        private_key_path=_materialise(user, "client-key"),
        insecure=bool(cluster.get("insecure-skip-tls-verify", False)),
    )


def load_in_cluster() -> Credentials:
    host, port = os.environ["KUBERNETES_SERVICE_HOST"], os.environ["KUBERNETES_SERVICE_PORT"]
    return Credentials(
        server=f"https://{host}:{port}",
        token=(SA_DIR / "token").read_text().strip(),
        ca_path=str(SA_DIR / "ca.crt"),
    )


def _named(items: Sequence[Mapping[str, Any]], name: str) -> Mapping[str, Any]:
    for item in items:
        if item.get("name") == name:
            return item
    raise KeyError(name)


def _b64(data: str | None) -> str | None:
    return base64.b64decode(data).decode() if data else None


def _materialise(user: Mapping[str, Any], key: str) -> str | None:
    """ssl loads client certificates only from files; inline ``*-data`` goes to a private file."""
    if user.get(key):
        return str(user[key])
    data = user.get(f"{key}-data")
    if not data:
        return None
    fd, name = tempfile.mkstemp(prefix="sloreco-", suffix=".pem")
    with os.fdopen(fd, "wb") as f:
        f.write(base64.b64decode(data))
    return name


def _ssl_context(creds: Credentials) -> ssl.SSLContext | bool:
    if creds.insecure:
        return False
    context = ssl.create_default_context(cafile=creds.ca_path, cadata=creds.ca_data)
    if creds.certificate_path:
        context.load_cert_chain(creds.certificate_path, creds.private_key_path)
    return context


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return min(float(response.headers.get("Retry-After", "")), 10.0)
    except ValueError:
        return None


def path_for(plural: str, namespace: str, name: str | None = None, *, sub: str = "") -> str:
    """REST path of one of our custom resources (or the collection when ``name`` is None)."""
    base = f"/apis/{api.GROUP}/{api.VERSION}/namespaces/{namespace}/{plural}"
    if name is None:
        return base
    return f"{base}/{name}/{sub}" if sub else f"{base}/{name}"


class KubeClient:
    """A thin async client; created at operator startup and closed at cleanup."""

    def __init__(self, creds: Credentials, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        headers = {"Authorization": f"Bearer {creds.token}"} if creds.token else {}
        self._http = httpx.AsyncClient(
            base_url=creds.server,
            headers=headers,
            verify=_ssl_context(creds),
            timeout=timeout,
        )

    async def __aenter__(self) -> KubeClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

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
        now: datetime.datetime,
    ) -> None:
        """An event about ``obj`` (core/v1, so ``kubectl describe`` shows it)."""
        meta = obj["metadata"]
        stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
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
            "source": {"component": "sloreco"},
            "reportingComponent": "sloreco.dev/operator",
            "reportingInstance": os.environ.get("HOSTNAME", "sloreco"),
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
        for attempt in range(RETRY_ATTEMPTS):
            try:
                response = await self._http.request(
                    method, path, json=json, params=params, headers=headers
                )
            except httpx.HTTPError as exc:
                raise errors.KubeError(f"{method} {path} failed: {exc!r}") from exc
            if response.status_code not in RETRY_STATUSES or attempt == RETRY_ATTEMPTS - 1:
                break
            await asyncio.sleep(_retry_after(response) or RETRY_BASE_DELAY * 2**attempt)
        if response.is_success:
            return cast("Obj", response.json()) if response.content else {}
        try:
            message = str(response.json().get("message", response.text))
        except ValueError:
            message = response.text
        text = f"{method} {path}: {response.status_code} {message}"
        if response.status_code == 409:
            raise errors.ConflictError(text, status=409)
        if response.status_code == 404:
            raise errors.NotFoundError(text, status=404)
        raise errors.KubeError(text, status=response.status_code)
