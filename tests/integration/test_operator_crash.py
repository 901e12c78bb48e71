"""Crash safety: SIGKILL the operator at random points during passes over 50 ServiceLevels.

The promise (SPEC §2.3): at most one Active child per (ServiceLevel, SLI) at any time, ever, and no
duplicate children — also across crashes and restarts. The kill points are random but seeded, so
a failure can be replayed; the sleeps choose *where* the operator dies, they assert nothing.
"""

from __future__ import annotations

import collections
import random
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from sloreco.controller import children
from sloreco.testing import controlplane as cplane
from tests import factories
from tests.fixtures.controlplane import api
from tests.fixtures.operator import OperatorHistory, OperatorProcess, wait_for

pytestmark = pytest.mark.integration

REC_PATH = "/apis/sloreco.dev/v1alpha1/namespaces/{ns}/slorecommendations"
SL_PATH = "/apis/sloreco.dev/v1alpha1/namespaces/{ns}/servicelevels"
SERVICE_LEVELS = 50
KILLS = 6


@pytest.fixture
def client(controlplane: cplane.ControlPlane) -> Iterator[httpx.Client]:
    with api(controlplane) as c:
        yield c


def all_children(client: httpx.Client, ns: str) -> list[dict[str, object]]:
    response = client.get(REC_PATH.format(ns=ns))
    response.raise_for_status()
    return list(response.json()["items"])


def active_counts(client: httpx.Client, ns: str) -> collections.Counter[tuple[str, str]]:
    counts: collections.Counter[tuple[str, str]] = collections.Counter()
    for child in all_children(client, ns):
        if children.state(child) == children.ACTIVE:
            counts[(child["spec"]["serviceLevel"], children.sli_of(child))] += 1  # type: ignore[index]
    return counts


def converged(client: httpx.Client, ns: str) -> bool:
    response = client.get(SL_PATH.format(ns=ns))
    response.raise_for_status()
    for sl in response.json()["items"]:
        status = sl.get("status") or {}
        ready = [c for c in status.get("conditions", []) if c["type"] == "Ready"]
        if status.get("observedGeneration") != sl["metadata"]["generation"]:
            return False
        if not ready or ready[0]["status"] != "True":
            return False
    return True


def content_duplicates(client: httpx.Client, ns: str) -> list[str]:
    seen: dict[str, str] = {}
    duplicates = []
    for child in all_children(client, ns):
        spec = {k: v for k, v in child["spec"].items() if k not in children.TIMING_FIELDS}  # type: ignore[union-attr]
        key = children.canonical_json(spec)
        name = child["metadata"]["name"]  # type: ignore[index]
        if key in seen:
            duplicates.append(f"{seen[key]} == {name}")
        seen[key] = name
    return duplicates


def test_sigkill_at_random_points_keeps_exactly_one_active_per_sli(
    client: httpx.Client,
    namespace: str,
    run_operator: Callable[..., OperatorProcess],
    operator_history: OperatorHistory,
) -> None:
    rng = random.Random(20261128)
    names = [f"svc-{i:02d}" for i in range(SERVICE_LEVELS)]
    for i, name in enumerate(names):
        manifest = factories.service_level(
            name, service=("checkout", "payments")[i % 2], latency=i % 5 == 0
        )
        response = client.post(SL_PATH.format(ns=namespace), json=manifest)
        assert response.status_code == 201, response.text

    worst_seen = 0
    for kill in range(KILLS):
        operator = run_operator(namespace=namespace, prometheus_url=operator_history.url)
        time.sleep(rng.uniform(1.0, 6.0))  # where to crash; not a timing assertion
        operator.kill()
        worst_seen = max([worst_seen, *active_counts(client, namespace).values()])
        if kill % 2 == 0:  # new inputs, so the next run has Active children to supersede
            window = ("14d", "21d", "7d")[kill // 2 % 3]
            for name in rng.sample(names, k=SERVICE_LEVELS // 2):
                client.patch(
                    f"{SL_PATH.format(ns=namespace)}/{name}",
                    json={"spec": {"window": window}},
                    headers={"Content-Type": "application/merge-patch+json"},
                ).raise_for_status()

    run_operator(namespace=namespace, prometheus_url=operator_history.url)
    expected = {(n, "availability"): 1 for n in names}
    expected.update({(n, "latency"): 1 for i, n in enumerate(names) if i % 5 == 0})
    wait_for(
        lambda: converged(client, namespace),
        what="every ServiceLevel Ready for its current generation after the crashes",
        timeout=240,
    )
    final = active_counts(client, namespace)
    assert (worst_seen <= 1, dict(final), content_duplicates(client, namespace)) == (
        True,
        expected,
        [],
    )
