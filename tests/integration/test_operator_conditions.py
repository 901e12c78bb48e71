"""What users read on a ServiceLevel is true and useful (issue 9): conditions, events, metrics.

Real kube-apiserver + etcd, real Prometheus with the operator tests' 45 days of history, and the
operator as users run it (``kopf run``), one namespace and one operator per test.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from sloreco.testing import controlplane as cplane
from tests import factories
from tests.fixtures.controlplane import api
from tests.fixtures.operator import OperatorHistory, OperatorProcess, wait_for
from tests.integration.test_operator import (
    Obj,
    active,
    condition,
    create,
    kids,
    parent,
    parent_when,
    patch_spec,
    ready_with_both,
)

pytestmark = pytest.mark.integration

EVENTS = "/api/v1/namespaces/{ns}/events"


@pytest.fixture
def client(controlplane: cplane.ControlPlane) -> Iterator[httpx.Client]:
    with api(controlplane) as c:
        yield c


@pytest.fixture
def operator(
    run_operator: Callable[..., OperatorProcess], namespace: str, operator_history: OperatorHistory
) -> OperatorProcess:
    return run_operator(namespace=namespace, prometheus_url=operator_history.url)


def events(client: httpx.Client, ns: str, name: str) -> list[Obj]:
    response = client.get(
        EVENTS.format(ns=ns), params={"fieldSelector": f"involvedObject.name={name}"}
    )
    response.raise_for_status()
    return list(response.json()["items"])


def warnings(client: httpx.Client, ns: str, name: str, reason: str) -> list[Obj]:
    return [e for e in events(client, ns, name) if e["type"] == "Warning" and e["reason"] == reason]


def test_an_objective_the_history_misses_is_unachievable_with_the_numbers(
    client: httpx.Client, namespace: str, operator: OperatorProcess
) -> None:
    """Before: ObjectiveUnachievable=False / WithinDependencyCeiling, Degraded=False."""
    manifest = factories.service_level(
        "web", service="payments", window="7d", currentObjective={"availability": "99.999"}
    )
    create(client, namespace, manifest)
    found = wait_for(
        parent_when(client, namespace, "web", "ObjectiveUnachievable", "True"),
        what="ObjectiveUnachievable=True",
    )
    cond = condition(found, "ObjectiveUnachievable")
    assert cond["reason"] in ("MostPastWindowsMissed", "LikelyMissed")
    assert cond["message"].startswith("Availability objective 99.999% is unachievable: missed in ")
    assert "predicted to miss" in cond["message"]
    degraded = condition(found, "Degraded")
    assert (degraded["status"], degraded["reason"]) == ("True", cond["reason"])
    [child] = active(kids(client, namespace, "web"), "availability")
    report = child["spec"]["explanation"]["currentObjective"]
    assert report["achievable"] is False
    assert report["backtest"]["breaches"] > report["backtest"]["evaluations"] / 2


def test_low_confidence_is_visible_in_the_condition(
    client: httpx.Client, namespace: str, operator: OperatorProcess
) -> None:
    """45 days of history for a 60-day window. Before: DataSufficient=True / EnoughHistory."""
    create(
        client,
        namespace,
        factories.service_level("web", service="checkout", window="60d", lookback="90d"),
    )
    wait_for(lambda: active(kids(client, namespace, "web"), "availability"), what="Active")
    found = wait_for(
        lambda: (
            obj
            if condition(obj := parent(client, namespace, "web"), "DataSufficient").get("reason")
            == "LowConfidence"
            else None
        ),
        what="DataSufficient reason LowConfidence",
    )
    cond = condition(found, "DataSufficient")
    assert cond["status"] == "True"
    assert " days of history, fewer than one 60d window (60 days)" in cond["message"]
    assert cond["message"].startswith("availability: 4")  # 45 days found, less any gap


@pytest.mark.parametrize(
    ("sli_spec", "field"),
    [
        (
            {
                "availability": {
                    "totalQuery": 'http_requests_total{service="typo"}',
                    "errorQuery": 'http_requests_total{service="typo",code=~"5.."}',
                }
            },
            'spec.availability.totalQuery: http_requests_total{service="typo"} matched no series',
        ),
        (
            {
                "latency": {
                    "histogram": 'http_request_duration_seconds_bucket{service="typo"}',
                    "percentile": "99",
                }
            },
            "spec.latency.histogram: http_request_duration_seconds_bucket"
            '{service="typo"} matched no series',
        ),
    ],
)
def test_a_selector_that_matches_nothing_is_named_with_a_warning(
    client: httpx.Client,
    namespace: str,
    operator: OperatorProcess,
    sli_spec: Obj,
    field: str,
) -> None:
    """Before: latency said "histogram bounds must increase strictly"; availability no reason."""
    manifest = factories.service_level("web", service="typo", availability=False)
    spec = manifest["spec"]
    assert isinstance(spec, dict)
    spec.update(sli_spec)
    create(client, namespace, manifest)
    found = wait_for(
        parent_when(client, namespace, "web", "DataSufficient", "False"), what="DataSufficient"
    )
    cond = condition(found, "DataSufficient")
    assert (cond["reason"], cond["message"].startswith(field)) == ("NoSeries", True)
    [event] = wait_for(
        lambda: warnings(client, namespace, "web", "NoSeries"), what="a NoSeries Warning event"
    )
    assert event["message"] == cond["message"]


def test_an_unknown_source_is_a_condition_and_one_event_not_a_retry_storm(
    client: httpx.Client, namespace: str, operator: OperatorProcess
) -> None:
    """Before: retried with backoff, logging "Failed to query Prometheus ... retrying"."""
    create(client, namespace, factories.service_level("web", service="checkout", source="nope"))
    found = wait_for(
        parent_when(client, namespace, "web", "SourceReachable", "False"),
        what="SourceReachable=False",
    )
    cond = condition(found, "SourceReachable")
    assert cond["reason"] == "UnknownSource"
    assert "configured: default" in cond["message"]
    wait_for(lambda: warnings(client, namespace, "web", "UnknownSource"), what="a Warning event")
    time.sleep(5)  # five scheduler ticks of this operator (timer interval 1 s)
    assert len(warnings(client, namespace, "web", "UnknownSource")) == 1
    assert "Failed to query Prometheus" not in operator.logs()


def test_metrics_after_a_restart_export_the_resumed_recommendations(
    client: httpx.Client,
    namespace: str,
    run_operator: Callable[..., OperatorProcess],
    operator_history: OperatorHistory,
) -> None:
    """Before: only objects the current process recomputed had target series."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    first = run_operator(namespace=namespace, prometheus_url=operator_history.url)
    create(client, namespace, factories.service_level("web", service="checkout"))
    [child] = wait_for(
        lambda: active(kids(client, namespace, "web"), "availability"), what="Active"
    )
    wait_for(parent_when(client, namespace, "web", "Ready", "True"), what="Ready")
    first.stop()
    run_operator(
        namespace=namespace, prometheus_url=operator_history.url, SLORECO_METRICS_PORT=port
    )
    balanced = child["spec"]["tiers"][1]["target"]
    series = (
        f'sloreco_recommended_target_percent{{namespace="{namespace}",'
        f'service_level="web",sli="availability",tier="balanced"}} {float(balanced)}'
    )

    def scrape() -> str | None:
        try:
            text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        except httpx.HTTPError:
            return None
        return text if series in text else None

    wait_for(scrape, what=f"{series} on /metrics")
    assert [
        c["metadata"]["name"] for c in active(kids(client, namespace, "web"), "availability")
    ] == [child["metadata"]["name"]], "the restart recomputed nothing new"


def test_events_name_the_operator_and_its_pod(
    client: httpx.Client, namespace: str, operator: OperatorProcess
) -> None:
    create(client, namespace, factories.service_level("web", service="checkout"))
    wait_for(lambda: active(kids(client, namespace, "web"), "availability"), what="Active")
    [event, *_] = wait_for(lambda: events(client, namespace, "web"), what="an event")
    assert event["source"]["component"] == "sloreco-operator"
    assert event["source"]["host"] == (os.environ.get("HOSTNAME") or socket.gethostname())
    assert event["reportingComponent"] == "sloreco.dev/operator"


def _table(text: str) -> list[dict[str, str]]:
    """kubectl's table as dicts, cut at the header's column starts (cells may hold spaces)."""
    header, *rows = text.splitlines()
    names = header.split()
    starts = [header.index(name) for name in names]
    ends = [*starts[1:], None]
    return [
        {name: row[a:b].strip() for name, a, b in zip(names, starts, ends, strict=True)}
        for row in rows
    ]


def test_kubectl_get_svclevel_shows_targets_and_the_state_of_the_data(
    client: httpx.Client,
    namespace: str,
    operator: OperatorProcess,
    controlplane: cplane.ControlPlane,
) -> None:
    """Before: only NAME, SERVICE, READY and AGE."""
    create(client, namespace, factories.service_level("web", service="checkout", latency=True))
    wait_for(lambda: ready_with_both(client, namespace, "web"), what="Ready")
    items = {c["spec"]["sli"]: c for c in kids(client, namespace, "web")}
    out = subprocess.run(
        controlplane.kubectl_args("get", "svclevel", "-n", namespace, "-o", "wide"),
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    [row] = _table(out)
    assert row == {
        "NAME": "web",
        "SERVICE": "checkout",
        "READY": "True",
        "AVAILABILITY": items["availability"]["spec"]["tiers"][1]["summary"],
        "LATENCY": items["latency"]["spec"]["tiers"][1]["summary"],
        "DATA": "EnoughHistory",
        "PROBLEM": "AsExpected",
        "AGE": row["AGE"],
    }
    assert row["AVAILABILITY"].endswith("%")


def test_describe_shows_no_copy_of_the_spec_in_annotations(
    client: httpx.Client,
    namespace: str,
    operator: OperatorProcess,
    controlplane: cplane.ControlPlane,
) -> None:
    """Before: kopf's last-handled-configuration annotation repeated the whole spec as JSON."""
    create(client, namespace, factories.service_level("web", service="checkout"))
    wait_for(parent_when(client, namespace, "web", "Ready", "True"), what="Ready")
    [child] = active(kids(client, namespace, "web"), "availability")
    described = subprocess.run(
        controlplane.kubectl_args(
            "describe", "sloreco", child["metadata"]["name"], "-n", namespace
        ),
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    # The summary reads as short lines, the targets first (it was one long paragraph).
    summary = re.search(r"\n +Summary: +(.*)\n(.*)\n", described)
    assert summary is not None
    assert summary.group(1).startswith("Recommended for 28d windows: balanced ")
    assert summary.group(2).startswith("Based on "), "one line each, not one paragraph"
    annotations = parent(client, namespace, "web")["metadata"].get("annotations", {})
    assert "sloreco.dev/last-handled-configuration" not in annotations
    assert all(len(value) < 64 for value in annotations.values()), annotations
    # kopf still tells a spec change from a status write: the change gets a new recommendation.
    patch_spec(client, namespace, "web", {"window": "14d"})
    wait_for(
        lambda: [c for c in active(kids(client, namespace, "web"), "availability")
                 if c["spec"]["window"] == "14d"],
        what="a recommendation for the new window",
    )  # fmt: skip
