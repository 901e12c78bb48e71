"""``kubectl kustomize`` renders deploy/ and the kind e2e overlay (needs the built kubectl).

Moved out of the unit tier, which runs no binaries: here a missing ``bin/kubectl`` fails loudly
instead of skipping.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e import kind
from tests.unit.test_e2e_manifests import DEPLOY, one

pytestmark = pytest.mark.integration

Obj = dict[str, Any]


def kustomize(directory: Path) -> list[Obj]:
    assert kind.KUBECTL.exists(), f"{kind.KUBECTL} is missing: run make controlplane"
    done = subprocess.run(
        [str(kind.KUBECTL), "kustomize", str(directory)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def test_kustomize_renders_deploy_and_the_e2e_overlay() -> None:
    shipped = kustomize(DEPLOY)
    e2e = kustomize(kind.OPERATOR_OVERLAY)
    kinds = sorted(doc["kind"] for doc in shipped)
    assert kinds == sorted(doc["kind"] for doc in e2e)
    assert kinds == sorted(
        [
            "ClusterRole",
            "ClusterRoleBinding",
            "ConfigMap",
            "CustomResourceDefinition",
            "CustomResourceDefinition",
            "Deployment",
            "Namespace",
            "Role",
            "RoleBinding",
            "Service",
            "ServiceAccount",
        ]
    )
    for docs in (shipped, e2e):
        for doc in docs:
            namespaced = ("ConfigMap", "Deployment", "Role", "RoleBinding", "Service")
            if doc["kind"] in (*namespaced, "ServiceAccount"):
                assert doc["metadata"]["namespace"] == kind.OPERATOR_NAMESPACE, doc["kind"]
        config_map = one(docs, "ConfigMap")
        pod = one(docs, "Deployment")["spec"]["template"]["spec"]
        names = {v["configMap"]["name"] for v in pod["volumes"] if "configMap" in v}
        assert names == {config_map["metadata"]["name"]}  # the generated, hashed name
    (container,) = one(e2e, "Deployment")["spec"]["template"]["spec"]["containers"]
    assert container["image"] == kind.IMAGE
    e2e_config = one(e2e, "ConfigMap")["data"]["config.yaml"]
    assert e2e_config == (kind.OPERATOR_OVERLAY / "config.yaml").read_text()
    # Only the image and the configuration differ.
    strip = {"ConfigMap", "Deployment"}
    assert [d for d in shipped if d["kind"] not in strip] == [
        d for d in e2e if d["kind"] not in strip
    ]
