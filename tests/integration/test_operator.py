"""The operator end to end: real kube-apiserver + etcd, real Prometheus, ``kopf run`` as users
run it.

Each test gets its own namespace (no controller-manager here, so nothing is garbage collected;
see tests/integration/README.md) and its own operator process watching only that namespace.
"""

from __future__ import annotations

import functools
import json
import re
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from sloreco import api as sloapi
from sloreco.controller import children
from sloreco.testing import controlplane as cplane
from tests import factories
from tests.fixtures.controlplane import api
from tests.fixtures.operator import OperatorHistory, OperatorProcess, wait_for

pytestmark = pytest.mark.integration

Obj = dict[str, Any]
SL_PATH = "/apis/sloreco.dev/v1alpha1/namespaces/{ns}/servicelevels"
REC_PATH = "/apis/sloreco.dev/v1alpha1/namespaces/{ns}/slorecommendations"


@pytest.fixture
def client(controlplane: cplane.ControlPlane) -> Iterator[httpx.Client]:
    with api(controlplane) as c:
        yield c


def create(client: httpx.Client, ns: str, manifest: Obj) -> Obj:
    response = client.post(SL_PATH.format(ns=ns), json=manifest)
    assert response.status_code == 201, response.text
    return dict(response.json())


def parent(client: httpx.Client, ns: str, name: str) -> Obj:
    response = client.get(f"{SL_PATH.format(ns=ns)}/{name}")
    response.raise_for_status()
    return dict(response.json())


def kids(client: httpx.Client, ns: str, name: str | None = None) -> list[Obj]:
    label = sloapi.service_level_label(name) if name else ""
    params = {"labelSelector": f"{sloapi.LABEL_SERVICE_LEVEL}={label}"} if name else {}
    response = client.get(REC_PATH.format(ns=ns), params=params)
    response.raise_for_status()
    return list(response.json()["items"])


def condition(obj: Obj, kind: str) -> Obj:
    found = [c for c in (obj.get("status") or {}).get("conditions", []) if c["type"] == kind]
    return found[0] if found else {}


def active(items: list[Obj], sli: str) -> list[Obj]:
    return [c for c in items if children.sli_of(c) == sli and children.state(c) == "Active"]


def active_for_window(client: httpx.Client, ns: str, window: str) -> list[Obj]:
    return [
        c for c in active(kids(client, ns, "web"), "availability") if c["spec"]["window"] == window
    ]


def patch_spec(client: httpx.Client, ns: str, name: str, spec: Obj) -> None:
    response = client.patch(
        f"{SL_PATH.format(ns=ns)}/{name}",
        json={"spec": spec},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    response.raise_for_status()


def parent_when(
    client: httpx.Client, ns: str, name: str, kind: str, expected: str
) -> Callable[[], Obj | None]:
    """A probe returning the parent once its condition ``kind`` has status ``expected``."""

    def probe() -> Obj | None:
        obj = parent(client, ns, name)
        return obj if condition(obj, kind).get("status") == expected else None

    return probe


def ready_with_both(client: httpx.Client, ns: str, name: str) -> list[Obj] | None:
    items = kids(client, ns, name)
    both = len(active(items, "availability")) == 1 and len(active(items, "latency")) == 1
    is_ready = condition(parent(client, ns, name), "Ready").get("status") == "True"
    return items if both and is_ready else None


@pytest.fixture
def operator(
    run_operator: Callable[..., OperatorProcess], namespace: str, operator_history: OperatorHistory
) -> OperatorProcess:
    return run_operator(namespace=namespace, prometheus_url=operator_history.url)


def test_servicelevel_gets_active_children_with_three_tiers(
    client: httpx.Client, namespace: str, operator: OperatorProcess
) -> None:
    create(client, namespace, factories.service_level("web", service="checkout", latency=True))
    items = wait_for(lambda: ready_with_both(client, namespace, "web"), what="two Active children")
    tiers = sorted((children.sli_of(c), [t["name"] for t in c["spec"]["tiers"]]) for c in items)
    assert tiers == [
        ("availability", ["conservative", "balanced", "aggressive"]),
        ("latency", ["conservative", "balanced", "aggressive"]),
    ]


def test_kubectl_get_sloreco_fills_every_column(
    client: httpx.Client,
    namespace: str,
    operator: OperatorProcess,
    controlplane: cplane.ControlPlane,
) -> None:
    create(client, namespace, factories.service_level("web", service="checkout", latency=True))
    wait_for(lambda: ready_with_both(client, namespace, "web"), what="two Active children")
    out = subprocess.run(
        controlplane.kubectl_args("get", "sloreco", "-n", namespace, "-o", "wide"),
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    header = out[0].split()
    rows = [line.split() for line in out[1:]]
    assert header == [
        "NAME", "SERVICE", "SLI", "WINDOW", "CONSERVATIVE", "BALANCED", "AGGRESSIVE", "STATE",
        "BREACH", "DAYS", "LOW-CONFIDENCE", "PRIOR", "EXPIRES", "AGE",
    ]  # fmt: skip
    assert all("<none>" not in " ".join(row) for row in rows)
    assert sorted(row[2] for row in rows) == ["availability", "latency"]
    assert all("default" in row for row in rows)  # a fresh operator: no fleet prior yet


def test_status_summarises_active_recommendations_and_observations(
    client: httpx.Client, namespace: str, operator: OperatorProcess
) -> None:
    create(client, namespace, factories.service_level("web", service="checkout", latency=True))
    items = wait_for(lambda: ready_with_both(client, namespace, "web"), what="Ready")
    status = parent(client, namespace, "web")["status"]
    expected = {c["spec"]["sli"]: c["metadata"]["name"] for c in items}
    assert {r["sli"]: r["name"] for r in status["recommendations"]} == expected
    assert sorted(o["sli"] for o in status["observed"]) == ["availability", "latency"]


def test_status_does_not_churn_when_nothing_changed(
    client: httpx.Client,
    namespace: str,
    run_operator: Callable[..., OperatorProcess],
    operator_history: OperatorHistory,
) -> None:
    first = run_operator(namespace=namespace, prometheus_url=operator_history.url)
    create(client, namespace, factories.service_level("web", service="checkout"))
    wait_for(
        lambda: condition(parent(client, namespace, "web"), "Ready").get("status") == "True",
        what="Ready",
    )
    before = parent(client, namespace, "web")["status"]
    first.stop()
    # A restart runs a first pass per object: a full pass over identical inputs.
    second = run_operator(namespace=namespace, prometheus_url=operator_history.url)
    wait_for(
        lambda: f"First pass for ServiceLevel {namespace}/web done" in second.logs(),
        what="the first pass after the restart",
    )
    assert json.dumps(parent(client, namespace, "web")["status"], sort_keys=True) == json.dumps(
        before, sort_keys=True
    )


def test_spec_change_supersedes_and_prunes_beyond_the_history_limit(
    client: httpx.Client, namespace: str, operator: OperatorProcess
) -> None:
    create(client, namespace, factories.service_level("web", service="checkout", historyLimit=1))
    first = wait_for(lambda: active(kids(client, namespace, "web"), "availability"), what="Active")
    names = [first[0]["metadata"]["name"]]
    for window in ("14d", "7d"):
        patch_spec(client, namespace, "web", {"window": window})
        now_active = wait_for(
            functools.partial(active_for_window, client, namespace, window),
            what=f"an Active child for window {window}",
        )
        names.append(now_active[0]["metadata"]["name"])
    states = wait_for(
        lambda: (
            s
            if len(
                s := {
                    c["metadata"]["name"]: children.state(c) for c in kids(client, namespace, "web")
                }
            )
            == 2
            else None
        ),
        what="pruning down to one non-active child",
    )
    assert states == {names[1]: "Superseded", names[2]: "Active"}


def test_too_little_history_reports_days_found_and_no_recommendation(
    client: httpx.Client, namespace: str, operator: OperatorProcess
) -> None:
    create(
        client,
        namespace,
        factories.service_level("young", service="checkout", window="5d", lookback="5d"),
    )
    cond = wait_for(
        lambda: (
            c if (c := condition(parent(client, namespace, "young"), "DataSufficient")) else None
        ),
        what="DataSufficient",
    )
    # The days found: five, or a little under when the lookback's last hour has no bucket yet
    # ("only 4.96 days of data in the lookback"; the hour the test runs at decides).
    found = re.search(r"only ([0-9.]+) days of data", cond["message"])
    assert (cond["status"], found is not None, kids(client, namespace, "young")) == (
        "False",
        True,
        [],
    )
    assert found is not None
    assert 4.5 <= float(found.group(1)) <= 5.0


def test_hard_dependency_caps_targets_and_names_the_bottleneck(
    client: httpx.Client, namespace: str, operator: OperatorProcess
) -> None:
    # payments' observed availability enters the ceiling; an external dependency at 85 % makes
    # the cap certain. Checkout's 45 days hold no incident, so the default prior's outages set
    # its tiers: conservative near 89 %, balanced anywhere in 91-98 % with the seed (which the
    # object's uid picks). At 95 % a CI run met a uid whose balanced tier sat under the cap.
    create(client, namespace, factories.service_level("payments", service="payments"))
    wait_for(lambda: active(kids(client, namespace, "payments"), "availability"), what="payments")
    manifest = factories.service_level(
        "checkout",
        service="checkout",
        dependencies=[
            {"serviceLevel": "payments", "type": "hard"},
            {"external": "card-network", "availability": "85", "type": "hard"},
        ],
    )
    create(client, namespace, manifest)
    capped = wait_for(
        lambda: [
            c
            for c in active(kids(client, namespace, "checkout"), "availability")
            if any(t.get("capped") for t in c["spec"]["tiers"])
        ],
        what="a capped recommendation for checkout",
    )
    tiers = {t["name"]: t for t in capped[0]["spec"]["tiers"]}
    ceiling = float(parent(client, namespace, "checkout")["status"]["ceiling"])
    observed = parent(client, namespace, "payments")["status"]["observed"]
    median = float(next(o["median"] for o in observed if o["sli"] == "availability"))
    assert abs(ceiling - median * 0.85) < 0.001  # the product of the two availabilities
    assert float(tiers["balanced"]["target"]) <= ceiling
    summary = capped[0]["spec"]["explanation"]["summary"]
    bottleneck = "card-network" if median > 85 else "payments"
    assert f"bottleneck {bottleneck}" in summary or f"/{bottleneck} at" in summary, summary


def test_children_are_owned_and_carry_only_our_labels(
    client: httpx.Client, namespace: str, operator: OperatorProcess
) -> None:
    sl = create(client, namespace, factories.service_level("web", service="checkout"))
    [child] = wait_for(
        lambda: active(kids(client, namespace, "web"), "availability"), what="Active"
    )
    owner = child["metadata"]["ownerReferences"]
    assert [(o["kind"], o["name"], o["uid"], o["controller"]) for o in owner] == [
        ("ServiceLevel", "web", sl["metadata"]["uid"], True)
    ]
    assert sorted(child["metadata"]["labels"]) == sorted(
        [sloapi.LABEL_SERVICE_LEVEL, sloapi.LABEL_SLI, sloapi.LABEL_STATE]
    )


def test_operator_exports_its_own_metrics(
    client: httpx.Client,
    namespace: str,
    run_operator: Callable[..., OperatorProcess],
    operator_history: OperatorHistory,
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    run_operator(
        namespace=namespace, prometheus_url=operator_history.url, SLORECO_METRICS_PORT=port
    )
    create(client, namespace, factories.service_level("web", service="checkout"))
    wait_for(lambda: active(kids(client, namespace, "web"), "availability"), what="Active")

    def scrape() -> str | None:
        try:
            text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        except httpx.HTTPError:
            return None
        return text if "sloreco_recommended_target_percent{" in text else None

    text = wait_for(scrape, what="target gauges on /metrics")
    names = {"sloreco_reconcile_total", "sloreco_query_duration_seconds_count"}
    assert {n for n in names if n in text} == names


def test_cyclic_dependency_is_a_condition_not_a_crash(
    client: httpx.Client, namespace: str, operator: OperatorProcess
) -> None:
    for name, other in (("a", "b"), ("b", "a")):
        manifest = factories.service_level(
            name, service="checkout", dependencies=[{"serviceLevel": other, "type": "hard"}]
        )
        create(client, namespace, manifest)
    found = wait_for(
        parent_when(client, namespace, "a", "DependenciesResolved", "False"),
        what="DependenciesResolved=False on a",
    )
    assert "cycle" in condition(found, "DependenciesResolved")["message"]


def test_missing_dependency_is_named_in_the_condition(
    client: httpx.Client, namespace: str, operator: OperatorProcess
) -> None:
    manifest = factories.service_level(
        "web", service="checkout", dependencies=[{"serviceLevel": "ghost", "type": "hard"}]
    )
    create(client, namespace, manifest)
    found = wait_for(
        parent_when(client, namespace, "web", "DependenciesResolved", "False"),
        what="DependenciesResolved=False",
    )
    assert (
        f"{namespace}/ghost does not exist" in condition(found, "DependenciesResolved")["message"]
    )


def test_unknown_source_is_a_condition_naming_the_field(
    client: httpx.Client, namespace: str, operator: OperatorProcess
) -> None:
    create(client, namespace, factories.service_level("web", service="checkout", source="nope"))
    found = wait_for(
        parent_when(client, namespace, "web", "SourceReachable", "False"),
        what="SourceReachable=False",
    )
    reachable = condition(found, "SourceReachable")
    assert (reachable["reason"], reachable["message"].startswith("spec.source:")) == (
        "UnknownSource",
        True,
    )


def test_after_an_outage_every_object_is_ready_within_one_probe_interval(
    client: httpx.Client,
    namespace: str,
    run_operator: Callable[..., OperatorProcess],
    private_history: OperatorHistory,
) -> None:
    """Issue 10 item 6: objects whose own backoff had grown waited minutes after Prometheus came
    back. The source is probed by one pass at a time and its answer releases everyone."""
    probe_cap = 8
    operator = run_operator(
        namespace=namespace, prometheus_url=private_history.url, SLORECO_MAX_BACKOFF=probe_cap
    )
    private_history.stop()
    names = [f"web-{i}" for i in range(8)]
    for name in names:
        create(client, namespace, factories.service_level(name, service="checkout"))
    for name in names:
        wait_for(parent_when(client, namespace, name, "SourceReachable", "False"), what=name)
    time.sleep(2 * probe_cap)  # long enough for any per-object backoff to have grown past the cap
    private_history.start()
    back = time.monotonic()
    for name in names:
        wait_for(
            parent_when(client, namespace, name, "Ready", "True"),
            timeout=probe_cap + 20,
            what=f"{name} Ready after Prometheus came back",
        )
    assert time.monotonic() - back <= probe_cap + 20
    assert "Traceback" not in operator.logs()
