"""More than one operator against one real apiserver: a standby replica and two shards.

Standby (kopf peering, ``runtime.ensemble``): two operators share a ``KopfPeering``; the older one
works and the younger stands by. The active one is SIGKILLed (no goodbye in the peering record),
and the test measures how long until the standby reconciles a change — bounded by the record's
lifetime — while a sampler reads every child the whole time: never two Active children for one
(ServiceLevel, SLI).

Shards (``SLORECO_SHARD``): two operators, ``0/2`` and ``1/2``, watch the same namespaces; each
ServiceLevel must be reconciled by exactly one of them — the one ``shard_of`` names — which the
test reads from the operators' own logs of the passes they ran.
"""

from __future__ import annotations

import collections
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from sloreco.controller import children
from sloreco.runtime import ensemble
from sloreco.testing import controlplane as cplane
from tests import factories
from tests.fixtures.controlplane import api
from tests.fixtures.operator import OperatorHistory, OperatorProcess, wait_for

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
PEERING_CRDS = REPO_ROOT / "overlays" / "ha" / "peering-crds.yaml"
REC_PATH = "/apis/sloreco.dev/v1alpha1/namespaces/{ns}/slorecommendations"
SL_PATH = "/apis/sloreco.dev/v1alpha1/namespaces/{ns}/servicelevels"
PEERING_PATH = "/apis/kopf.dev/v1/namespaces/{ns}/kopfpeerings"
#: Short enough for a test, long enough that keep-alives (every lifetime - 5..10 s, at least 1 s)
#: are not mistaken for death on a loaded 2-core machine.
LIFETIME = 12
MERGE = {"Content-Type": "application/merge-patch+json"}


@pytest.fixture
def client(controlplane: cplane.ControlPlane) -> Iterator[httpx.Client]:
    cplane.apply_crds(controlplane, [PEERING_CRDS])
    with api(controlplane) as c:
        yield c


def create_service_levels(client: httpx.Client, ns: str, names: list[str]) -> None:
    for i, name in enumerate(names):
        manifest = factories.service_level(name, service=("checkout", "payments")[i % 2])
        response = client.post(SL_PATH.format(ns=ns), json=manifest)
        assert response.status_code == 201, response.text


def generations(client: httpx.Client, ns: str) -> dict[str, tuple[int, int | None, str | None]]:
    """name -> (generation, observedGeneration, Ready status)."""
    response = client.get(SL_PATH.format(ns=ns))
    response.raise_for_status()
    out = {}
    for sl in response.json()["items"]:
        status = sl.get("status") or {}
        ready = [c["status"] for c in status.get("conditions", []) if c["type"] == "Ready"]
        out[sl["metadata"]["name"]] = (
            sl["metadata"]["generation"],
            status.get("observedGeneration"),
            ready[0] if ready else None,
        )
    return out


def converged(client: httpx.Client, ns: str) -> bool:
    return all(g == o and r == "True" for g, o, r in generations(client, ns).values())


class ActiveSampler:
    """Reads the namespace's children every 0.2 s in a thread; remembers the worst moment."""

    def __init__(self, client: httpx.Client, ns: str) -> None:
        self.client, self.ns = client, ns
        self.worst = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ActiveSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            response = self.client.get(REC_PATH.format(ns=self.ns))
            if response.status_code != 200:
                continue
            counts: collections.Counter[tuple[str, str]] = collections.Counter()
            for child in response.json()["items"]:
                if children.state(child) == children.ACTIVE:
                    counts[(child["spec"]["serviceLevel"], children.sli_of(child))] += 1
            self.worst = max([self.worst, *counts.values()])
            self.samples += 1


def test_a_standby_takes_over_when_the_active_operator_is_killed(
    client: httpx.Client,
    namespace: str,
    run_operator: Callable[..., OperatorProcess],
    operator_history: OperatorHistory,
) -> None:
    peering = "sloreco"
    client.post(
        PEERING_PATH.format(ns=namespace),
        json={"apiVersion": "kopf.dev/v1", "kind": "KopfPeering", "metadata": {"name": peering}},
    ).raise_for_status()
    names = [f"svc-{i}" for i in range(6)]
    create_service_levels(client, namespace, names)
    env = {"SLORECO_PEERING": peering, "SLORECO_PEERING_LIFETIME": LIFETIME}
    with ActiveSampler(client, namespace) as sampler:
        active = run_operator(namespace=namespace, prometheus_url=operator_history.url, **env)
        wait_for(lambda: converged(client, namespace), what="the first operator reconciles all")
        standby = run_operator(namespace=namespace, prometheus_url=operator_history.url, **env)
        # kopf starts a mandatory-peering operator paused; it stays so while it sees an elder.
        wait_for(
            lambda: len(peers(client, namespace, peering)) == 2,
            what="both operators' records in the peering object",
        )
        # A change while both run: only the active one may act on it.
        client.patch(
            f"{SL_PATH.format(ns=namespace)}/{names[0]}",
            json={"spec": {"window": "14d"}},
            headers=MERGE,
        ).raise_for_status()
        wait_for(lambda: converged(client, namespace), what="the active operator reconciles it")
        standby_passes_before = passes_logged(standby.logs())
        resumed_before = "Resuming operations" in standby.logs()

        active.kill()
        killed = time.monotonic()
        client.patch(
            f"{SL_PATH.format(ns=namespace)}/{names[1]}",
            json={"spec": {"window": "14d"}},
            headers=MERGE,
        ).raise_for_status()
        wait_for(
            lambda: converged(client, namespace),
            what="the standby reconciles the change after the active operator died",
            every=0.2,
        )
        takeover = time.monotonic() - killed
        # A pass logs its line after it writes the status that ``converged`` reads.
        wait_for(
            lambda: names[1] in passes_logged(standby.logs()),
            what="the standby's log line for its pass",
            every=0.2,
        )
    print(f"\nstandby took over {takeover:.1f}s after SIGKILL (lifetime {LIFETIME}s)")
    assert (
        standby_passes_before,
        resumed_before,
        names[1] in passes_logged(standby.logs()),
        sampler.worst,
        sampler.samples > 10,
        takeover < LIFETIME + 20,
    ) == (set(), False, True, 1, True, True)


def peers(client: httpx.Client, ns: str, name: str) -> dict[str, object]:
    response = client.get(f"{PEERING_PATH.format(ns=ns)}/{name}")
    response.raise_for_status()
    return dict(response.json().get("status") or {})


#: What ``runtime.passes`` logs for every pass it runs (the ServiceLevel's namespace/name).
PASS_LINE = re.compile(r"Reconciled ServiceLevel (?P<ns>[a-z0-9-]+)/(?P<name>[a-z0-9-]+)")


def passes_logged(log: str, namespace: str | None = None) -> set[str]:
    return {m["name"] for m in PASS_LINE.finditer(log) if namespace is None or m["ns"] == namespace}


def test_two_shards_reconcile_every_service_level_exactly_once(
    client: httpx.Client,
    run_operator: Callable[..., OperatorProcess],
    operator_history: OperatorHistory,
    kube_api: httpx.Client,
) -> None:
    # Namespaces until both shards own at least one (the split is a hash: usually 3 suffice).
    namespaces: list[str] = []
    while {ensemble.shard_of(ns, 2) for ns in namespaces} != {0, 1} or len(namespaces) < 4:
        ns = f"shard-{len(namespaces)}-{int(time.time() * 1000) % 100000}"
        kube_api.post("/api/v1/namespaces", json={"metadata": {"name": ns}}).raise_for_status()
        namespaces.append(ns)
    names = ["a", "b", "c"]
    for ns in namespaces:
        create_service_levels(client, ns, names)
    shards = [
        run_operator(
            namespace=namespaces[0],
            also=tuple(namespaces[1:]),
            prometheus_url=operator_history.url,
            SLORECO_SHARD=f"{k}/2",
        )
        for k in range(2)
    ]
    for ns in namespaces:
        wait_for(lambda ns=ns: converged(client, ns), what=f"every ServiceLevel in {ns} Ready")
    # A pass logs its line after it writes the status that ``converged`` reads.
    wait_for(
        lambda: all(
            any(name in passes_logged(shard.logs(), ns) for shard in shards)
            for ns in namespaces
            for name in names
        ),
        what="every pass's log line",
    )
    reconciled_by = {
        (ns, name): [k for k, shard in enumerate(shards) if name in passes_logged(shard.logs(), ns)]
        for ns in namespaces
        for name in names
    }
    expected = {(ns, name): [ensemble.shard_of(ns, 2)] for ns in namespaces for name in names}
    assert reconciled_by == expected
