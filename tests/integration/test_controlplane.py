"""Proof that the test control plane is a real API server, not a stand-in.

The operator relies on behaviour that only the real kube-apiserver has: CEL validation in CRDs,
the status subresource and ``metadata.generation``, optimistic concurrency, and watches that
resume from a resourceVersion. Each test pins one of those down, so a change to the control
plane (a version bump, a launcher flag) that loses one fails here first.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sloreco.testing import controlplane as cplane

pytestmark = pytest.mark.integration

WIDGET_CRD = Path(__file__).parent / "testdata" / "widgets.proof.sloreco.dev.yaml"
GROUP_VERSION = "proof.sloreco.dev/v1alpha1"
CEL_MESSAGE = "minReplicas must not exceed maxReplicas"


@pytest.fixture(scope="module")
def widget_crd(controlplane: cplane.ControlPlane) -> None:
    cplane.apply_crds(controlplane, [WIDGET_CRD])


@pytest.fixture
def widgets(widget_crd: None, namespace: str) -> str:
    """The collection URL for Widgets in this test's namespace."""
    return f"/apis/{GROUP_VERSION}/namespaces/{namespace}/widgets"


def widget(name: str, *, min_replicas: int = 1, max_replicas: int = 3) -> dict[str, Any]:
    return {
        "apiVersion": GROUP_VERSION,
        "kind": "Widget",
        "metadata": {"name": name},
        "spec": {"minReplicas": min_replicas, "maxReplicas": max_replicas},
    }


def create(client: httpx.Client, widgets: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(widgets, json=body)
    response.raise_for_status()
    created: dict[str, Any] = response.json()
    return created


def put(client: httpx.Client, url: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.put(url, json=body)
    response.raise_for_status()
    updated: dict[str, Any] = response.json()
    return updated


def watch_events(
    client: httpx.Client, url: str, *, resource_version: str, count: int
) -> Iterator[tuple[str, str]]:
    """The first ``count`` watch events at ``url`` after ``resource_version``, as (type, name)."""
    # timeoutSeconds bounds the request server-side, so a missing event fails instead of hangs.
    params = {"watch": "true", "resourceVersion": resource_version, "timeoutSeconds": "20"}
    with client.stream("GET", url, params=params) as response:
        response.raise_for_status()
        for seen, line in enumerate(response.iter_lines(), start=1):
            event = json.loads(line)
            yield event["type"], event["object"]["metadata"]["name"]
            if seen == count:
                return


def test_cel_rule_rejects_violating_object_with_its_message(
    kube_api: httpx.Client, widgets: str
) -> None:
    response = kube_api.post(widgets, json=widget("bad", min_replicas=5, max_replicas=1))

    expected = (422, True)
    assert expected == (response.status_code, CEL_MESSAGE in response.text)


def test_cel_rule_accepts_valid_object(kube_api: httpx.Client, widgets: str) -> None:
    response = kube_api.post(widgets, json=widget("good", min_replicas=1, max_replicas=5))

    expected = 201
    assert expected == response.status_code


def test_write_to_main_resource_does_not_change_status(
    kube_api: httpx.Client, widgets: str
) -> None:
    created = create(kube_api, widgets, widget("w"))
    with_status = put(kube_api, f"{widgets}/w/status", {**created, "status": {"phase": "Ready"}})

    updated = put(kube_api, f"{widgets}/w", {**with_status, "status": {"phase": "Broken"}})

    expected = {"phase": "Ready"}
    assert expected == updated["status"]


def test_status_write_does_not_bump_generation(kube_api: httpx.Client, widgets: str) -> None:
    created = create(kube_api, widgets, widget("w"))

    updated = put(kube_api, f"{widgets}/w/status", {**created, "status": {"phase": "Ready"}})

    assert created["metadata"]["generation"] == updated["metadata"]["generation"]


def test_spec_write_bumps_generation(kube_api: httpx.Client, widgets: str) -> None:
    created = create(kube_api, widgets, widget("w", max_replicas=3))

    updated = put(
        kube_api, f"{widgets}/w", {**created, "spec": {**created["spec"], "maxReplicas": 4}}
    )

    assert created["metadata"]["generation"] + 1 == updated["metadata"]["generation"]


def test_update_with_stale_resource_version_conflicts(kube_api: httpx.Client, widgets: str) -> None:
    stale = create(kube_api, widgets, widget("w", max_replicas=3))
    put(kube_api, f"{widgets}/w", {**stale, "spec": {**stale["spec"], "maxReplicas": 4}})

    response = kube_api.put(
        f"{widgets}/w", json={**stale, "spec": {**stale["spec"], "maxReplicas": 5}}
    )

    expected = 409
    assert expected == response.status_code


def test_watch_from_resource_version_delivers_later_events(
    kube_api: httpx.Client, widgets: str
) -> None:
    listed = kube_api.get(widgets)
    listed.raise_for_status()
    start = listed.json()["metadata"]["resourceVersion"]
    first = create(kube_api, widgets, widget("first"))
    put(kube_api, f"{widgets}/first", {**first, "spec": {**first["spec"], "maxReplicas": 4}})
    kube_api.delete(f"{widgets}/first").raise_for_status()

    events = list(watch_events(kube_api, widgets, resource_version=start, count=3))

    expected = [("ADDED", "first"), ("MODIFIED", "first"), ("DELETED", "first")]
    assert expected == events
