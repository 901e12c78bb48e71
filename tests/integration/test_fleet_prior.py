"""controller.fleet against the real API server: the learned priors survive in a ConfigMap."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from sloreco.controller import fleet as fleets
from sloreco.core import prior as priors
from sloreco.core import priordoc
from sloreco.kube import client as kube
from sloreco.testing import controlplane as cplane

pytestmark = pytest.mark.integration
T = TypeVar("T")


def run(controlplane: cplane.ControlPlane, body: Callable[[kube.KubeClient], Awaitable[T]]) -> T:
    async def main() -> T:
        async with kube.KubeClient(controlplane.credentials()) as client:
            return await body(client)

    return asyncio.run(main())


def learned(incidents: int) -> fleets.Fleet:
    fleet = fleets.Fleet()
    log = math.log(30.0)
    for i in range(fleets.MIN_SERVICES):
        stats = priors.ServiceStats(incidents, 90.0, log, log**2)
        fleet.observe("default", f"ns/s{i}", "availability", (("availability", stats),))
        fleet.observe("default", f"ns/s{i}", "latency", (("latency-0.5s", stats),))
    fleet.learn()
    return fleet


def test_saved_priors_are_restored_after_a_restart(
    controlplane: cplane.ControlPlane, namespace: str
) -> None:
    before = learned(1)

    async def body(client: kube.KubeClient) -> fleets.Fleet:
        await fleets.save(client, before, namespace)  # creates the ConfigMap
        await fleets.save(client, learned(2), namespace)  # relearned: replaces its data
        after = fleets.Fleet()
        await fleets.load(client, after, namespace)
        return after

    after = run(controlplane, body)

    documents = [priordoc.document(p) for p in after.priors("default")]
    assert documents == [priordoc.document(p) for p in learned(2).priors("default")]
    assert [(d["origin"], d["scope"]) for d in documents] == [
        ("fleet:default", "availability"),
        ("fleet:default", "latency-0.5s"),
    ]


def test_nothing_saved_yet_leaves_the_default(
    controlplane: cplane.ControlPlane, namespace: str
) -> None:
    async def body(client: kube.KubeClient) -> fleets.Fleet:
        fleet = fleets.Fleet()
        await fleets.load(client, fleet, namespace)
        return fleet

    assert run(controlplane, body).priors("default") == ()
