"""sloreco.kube.client against the real API server: patch and conflict semantics it relies on."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from sloreco import api, errors
from sloreco.kube import client as kube
from sloreco.testing import controlplane as cplane
from tests import factories

pytestmark = pytest.mark.integration
T = TypeVar("T")


def run(controlplane: cplane.ControlPlane, body: Callable[[kube.KubeClient], Awaitable[T]]) -> T:
    async def main() -> T:
        async with kube.KubeClient(controlplane.credentials()) as client:
            return await body(client)

    return asyncio.run(main())


def sl_path(namespace: str, name: str | None = None, *, sub: str = "") -> str:
    return kube.path_for(api.SERVICELEVELS, namespace, name, sub=sub)


def test_create_then_get_round_trips(controlplane: cplane.ControlPlane, namespace: str) -> None:
    async def body(client: kube.KubeClient) -> Any:
        await client.create(sl_path(namespace), factories.service_level("a", service="a"))
        return (await client.get(sl_path(namespace, "a")))["spec"]["service"]

    assert run(controlplane, body) == "a"


def test_second_create_is_a_conflict(controlplane: cplane.ControlPlane, namespace: str) -> None:
    async def body(client: kube.KubeClient) -> None:
        await client.create(sl_path(namespace), factories.service_level("a", service="a"))
        await client.create(sl_path(namespace), factories.service_level("a", service="a"))

    with pytest.raises(errors.ConflictError):
        run(controlplane, body)


def test_status_patch_with_stale_resource_version_is_a_conflict(
    controlplane: cplane.ControlPlane, namespace: str
) -> None:
    async def body(client: kube.KubeClient) -> None:
        made = await client.create(sl_path(namespace), factories.service_level("a", service="a"))
        stale = made["metadata"]["resourceVersion"]
        await client.merge_patch(sl_path(namespace, "a"), {"metadata": {"labels": {"x": "1"}}})
        await client.merge_patch(
            sl_path(namespace, "a", sub="status"),
            {"metadata": {"resourceVersion": stale}, "status": {"observedGeneration": 1}},
        )

    with pytest.raises(errors.ConflictError):
        run(controlplane, body)


def test_merge_patch_null_removes_a_status_field(
    controlplane: cplane.ControlPlane, namespace: str
) -> None:
    async def body(client: kube.KubeClient) -> Any:
        await client.create(sl_path(namespace), factories.service_level("a", service="a"))
        status = sl_path(namespace, "a", sub="status")
        await client.merge_patch(status, {"status": {"ceiling": "99.9", "observedGeneration": 1}})
        await client.merge_patch(status, {"status": {"ceiling": None}})
        return (await client.get(sl_path(namespace, "a")))["status"]

    assert run(controlplane, body) == {"observedGeneration": 1}


def test_label_selector_lists_only_matching(
    controlplane: cplane.ControlPlane, namespace: str
) -> None:
    async def body(client: kube.KubeClient) -> list[str]:
        for name, team in (("a", "x"), ("b", "y")):
            manifest = factories.service_level(name, service=name)
            manifest["metadata"]["labels"] = {"team": team}  # type: ignore[index]
            await client.create(sl_path(namespace), manifest)
        items = await client.list(sl_path(namespace), label_selector="team=y")
        return [i["metadata"]["name"] for i in items]

    assert run(controlplane, body) == ["b"]


def test_delete_with_stale_precondition_is_a_conflict(
    controlplane: cplane.ControlPlane, namespace: str
) -> None:
    async def body(client: kube.KubeClient) -> None:
        made = await client.create(sl_path(namespace), factories.service_level("a", service="a"))
        await client.merge_patch(sl_path(namespace, "a"), {"metadata": {"labels": {"x": "1"}}})
        await client.delete(
            sl_path(namespace, "a"), resource_version=made["metadata"]["resourceVersion"]
        )

    with pytest.raises(errors.ConflictError):
        run(controlplane, body)


def test_deleting_a_missing_object_is_not_an_error(
    controlplane: cplane.ControlPlane, namespace: str
) -> None:
    async def body(client: kube.KubeClient) -> str:
        await client.delete(sl_path(namespace, "never-existed"))
        return "done"

    assert run(controlplane, body) == "done"


def test_events_are_recorded_against_the_object(
    controlplane: cplane.ControlPlane, namespace: str
) -> None:
    async def body(client: kube.KubeClient) -> list[str]:
        made = await client.create(sl_path(namespace), factories.service_level("a", service="a"))
        when = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC).timestamp()
        await client.post_event(made, type_="Normal", reason="Created", message="hi", now=when)
        events = await client.list(f"/api/v1/namespaces/{namespace}/events")
        return [e["involvedObject"]["name"] + "/" + e["reason"] for e in events]

    assert run(controlplane, body) == ["a/Created"]


def test_the_operator_logs_in_the_way_kopf_does(
    controlplane: cplane.ControlPlane, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The runtime takes its credentials from kopf's kubeconfig login, not a parser of its own."""
    import kopf

    from sloreco.runtime import handlers

    monkeypatch.setenv("KUBECONFIG", str(controlplane.kubeconfig))
    creds = handlers.credentials(kopf.OperatorSettings())

    async def main() -> Any:
        async with kube.KubeClient(creds) as client:
            await client.create(sl_path(namespace), factories.service_level("k", service="k"))
            return (await client.get(sl_path(namespace, "k")))["metadata"]["name"]

    assert asyncio.run(main()) == "k"
