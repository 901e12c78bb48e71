"""The HA and sharding overlays render (``bin/kubectl kustomize``) to what ``runtime.ensemble``
reads: peering on for two replicas, and shards that cover 0..N-1 once each.

Unit-level because it needs no cluster, only the kubectl ``make test`` builds; a missing kubectl
fails naming the target. What the settings do is tested against the apiserver in
tests/integration/test_operator_ensemble.py.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from sloreco.runtime import ensemble

REPO = Path(__file__).resolve().parents[2]
KUBECTL = REPO / "bin" / "kubectl"


def render(overlay: str) -> list[dict[str, Any]]:
    if not KUBECTL.exists():
        pytest.fail(f"{KUBECTL} is missing: run `make controlplane`")
    done = subprocess.run(
        [str(KUBECTL), "kustomize", str(REPO / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=True,
    )
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def env_of(deployment: dict[str, Any]) -> dict[str, Any]:
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def test_ha_runs_two_peered_replicas_without_standalone() -> None:
    docs = render("ha")
    [deployment] = [d for d in docs if d["kind"] == "Deployment"]
    env = env_of(deployment)
    peering = [d["metadata"]["name"] for d in docs if d["kind"] == "ClusterKopfPeering"]
    place = ensemble.load({k: v for k, v in env.items() if isinstance(v, str)})
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert (
        deployment["spec"]["replicas"],
        container.get("args"),
        peering,
        place.peering,
        "POD_ID" in env,
    ) == (2, [], ["sloreco"], "sloreco", True)


def test_shards_cover_every_index_once_and_share_one_set_of_cluster_objects() -> None:
    docs = render("shards")
    shards = sorted(env_of(d)["SLORECO_SHARD"] for d in docs if d["kind"] == "Deployment")
    places = [ensemble.load({"SLORECO_SHARD": s}) for s in shards]
    kinds = sorted(d["kind"] for d in docs if d["kind"] != "Deployment")
    selectors = {
        d["metadata"]["name"]: d["spec"]["selector"]["matchLabels"]
        for d in docs
        if d["kind"] == "Deployment"
    }
    assert (
        sorted((p.shard, p.shards) for p in places),
        kinds.count("CustomResourceDefinition"),
        kinds.count("Namespace"),
        len({tuple(sorted(s.items())) for s in selectors.values()}),
    ) == ([(0, 2), (1, 2)], 2, 1, 2)
