"""The product on a real cluster: the image from the Dockerfile, deploy/ as shipped, the samples.

What only a full cluster can show, and the local control plane of tests/integration cannot: the
image starts and stays up as non-root with a read-only root filesystem under the ``restricted``
Pod Security Standard, the hand-written RBAC is enough (a missing verb would leave the samples
unreconciled), the in-cluster Prometheus is reached through the configured source, and the
garbage collector of kube-controller-manager deletes a ServiceLevel's children.

Opt-in and slow (minutes): ``make test-e2e``. See conftest.py for the stages and
``tests/e2e/kind.py`` for what is assumed about the machine.
"""

from __future__ import annotations

from typing import Any

import pytest

from sloreco import api
from tests.e2e import kind, objects

pytestmark = pytest.mark.e2e

Obj = dict[str, Any]
NS = kind.SAMPLES_NAMESPACE
TIERS = ["conservative", "balanced", "aggressive"]


def recommendations_of(cluster: kind.Cluster, name: str) -> list[Obj]:
    return cluster.items("slorecommendations", NS, selector=f"{api.LABEL_SERVICE_LEVEL}={name}")


def test_every_sample_is_ready_with_one_active_recommendation_per_sli(
    deployed: kind.Cluster, samples: dict[str, Obj]
) -> None:
    recs = deployed.items("slorecommendations", NS)
    for name, slis in objects.expected_slis().items():
        sl = samples[name]
        active = objects.active_children(recs, name)
        assert sorted(active) == sorted(slis), name
        for sli in slis:
            (child,) = active[sli]
            meta = child["metadata"]
            assert meta["name"].startswith(f"{name}-{sli}-"), meta["name"]
            assert meta["labels"] == {
                api.LABEL_SERVICE_LEVEL: name,
                api.LABEL_SLI: sli,
                api.LABEL_STATE: "Active",
            }
            assert meta["ownerReferences"] == [
                {
                    "apiVersion": api.API_VERSION,
                    "kind": "ServiceLevel",
                    "name": name,
                    "uid": sl["metadata"]["uid"],
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ]
            assert [tier["name"] for tier in child["spec"]["tiers"]] == TIERS
    # What users type (SPEC §1): the short name and the category, through kubectl's discovery.
    listed = deployed.kubectl("get", "sloreco", "-n", NS, "-o", "name")
    for name, slis in objects.expected_slis().items():
        for sli in slis:
            (child,) = objects.active_children(recs, name)[sli]
            assert f"slorecommendation.sloreco.dev/{child['metadata']['name']}" in listed
    everything = deployed.kubectl("get", "sloreco-all", "-n", NS, "-o", "name")
    assert "servicelevel.sloreco.dev/checkout" in everything


def test_operator_runs_restricted_and_serves_liveness_and_metrics(
    deployed: kind.Cluster, samples: dict[str, Obj]
) -> None:
    namespace = deployed.kubectl_json("get", "namespace", kind.OPERATOR_NAMESPACE)
    labels = namespace["metadata"]["labels"]
    assert labels.get("pod-security.kubernetes.io/enforce") == "restricted"
    (pod,) = deployed.items(
        "pods", kind.OPERATOR_NAMESPACE, selector="app.kubernetes.io/name=sloreco"
    )
    (status,) = pod["status"]["containerStatuses"]
    # No restart: the read-only root filesystem, the memory limit and the liveness probe held
    # through the whole reconcile of the samples.
    assert status["restartCount"] == 0, deployed.diagnostics()
    assert status["ready"], deployed.diagnostics()
    assert status["image"].endswith(kind.IMAGE), status["image"]
    proxy = f"/api/v1/namespaces/{kind.OPERATOR_NAMESPACE}/pods/{pod['metadata']['name']}"
    deployed.kubectl("get", "--raw", f"{proxy}:8080/proxy/healthz")
    metrics = deployed.kubectl("get", "--raw", f"{proxy}:8081/proxy/metrics")
    assert 'sloreco_reconcile_total{result="ok"}' in metrics
    assert f'sloreco_recommended_target_percent{{namespace="{NS}"' in metrics


@pytest.mark.parametrize(
    ("name", "cascade"),
    [
        # Nothing depends on these two samples, so deleting them changes no other result.
        ("inventory", "background"),  # kubectl's default: the owner goes, the GC follows
        ("recommendations", "foreground"),  # the owner waits for its blockOwnerDeletion children
    ],
)
def test_deleting_a_servicelevel_garbage_collects_its_children(
    deployed: kind.Cluster, samples: dict[str, Obj], name: str, cascade: str
) -> None:
    before = recommendations_of(deployed, name)
    assert before, f"{name} has no SloRecommendations to collect"
    deployed.kubectl(
        "delete", "servicelevel", name, "-n", NS, f"--cascade={cascade}", "--timeout=120s",
        timeout=150,
    )  # fmt: skip
    if cascade == "foreground":
        # The owner is gone only after its blocking dependents: these children, by name.
        left = {c["metadata"]["name"] for c in recommendations_of(deployed, name)}
        assert not left & {c["metadata"]["name"] for c in before}, left
    kind.wait_for(
        lambda: not recommendations_of(deployed, name),
        timeout=kind.GC_TIMEOUT,
        what=f"the garbage collector to delete the SloRecommendations of {name}",
        explain=lambda: str([c["metadata"]["name"] for c in recommendations_of(deployed, name)]),
    )
    # Nothing else was collected: every remaining ServiceLevel keeps its Active children.
    recs = deployed.items("slorecommendations", NS)
    for sl in deployed.items("servicelevels", NS):
        other = sl["metadata"]["name"]
        assert other != name
        active = objects.active_children(recs, other)
        for sli in objects.expected_slis()[other]:
            assert len(active.get(sli, [])) == 1, f"{other}/{sli}"
