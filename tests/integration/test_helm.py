"""The Helm chart (``deploy/helm/sloreco``) checked by a real ``helm`` (v4, ``make helm``).

- ``helm lint --strict`` accepts it;
- with the default values it renders exactly the kustomization's objects (``kubectl kustomize
  deploy/``), less the Namespace and plus Helm's own labels — the drift test that keeps one source
  of truth; its CRD and dashboard files are the repository's, byte for byte;
- with every option on (ServiceMonitor, dashboard), ``kubectl apply --dry-run=server`` against the
  real kube-apiserver accepts every object (the ServiceMonitor CRD from ``make peer-crds``).
"""

from __future__ import annotations

import copy
import pathlib
import re
import subprocess
from typing import Any

import pytest
import yaml

from sloreco.testing import controlplane as cplane
from tests import peertools

pytestmark = pytest.mark.integration

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "sloreco"
#: Labels and annotations only Helm adds (the kustomization has no release).
HELM_LABELS = ("app.kubernetes.io/instance", "app.kubernetes.io/managed-by", "helm.sh/chart")
HELM_ANNOTATIONS = ("helm.sh/resource-policy", "checksum/config")
#: kustomize's configMapGenerator appends a content hash to the name.
HASHED = re.compile(r"^(sloreco-config)-[a-z0-9]{10}$")


def _helm(*args: str) -> str:
    done = peertools.run("helm", *args)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _docs(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d]


def _strip(meta: dict[str, Any]) -> None:
    for key, names in (("labels", HELM_LABELS), ("annotations", HELM_ANNOTATIONS)):
        found = meta.get(key)
        if found is None:
            continue
        for name in names:
            found.pop(name, None)
        if not found:
            del meta[key]


def _normal(doc: dict[str, Any]) -> dict[str, Any]:
    """Helm's and kustomize's renderings of the same object, made comparable."""
    out = copy.deepcopy(doc)
    _strip(out["metadata"])
    match = HASHED.match(out["metadata"]["name"])
    if match:
        out["metadata"]["name"] = match.group(1)
    if out["kind"] == "ConfigMap":
        out["data"] = {k: yaml.safe_load(v) for k, v in out["data"].items()}
    if out["kind"] == "Deployment":
        pod = out["spec"]["template"]
        _strip(pod["metadata"])
        for volume in pod["spec"]["volumes"]:
            if "configMap" in volume:
                name = volume["configMap"]["name"]
                volume["configMap"]["name"] = HASHED.sub(r"\1", name)
    return out


def _by_key(docs: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    normal = [_normal(d) for d in docs]
    return {(d["kind"], d["metadata"]["name"]): d for d in normal}


def test_helm_lint_strict() -> None:
    out = _helm("lint", "--strict", str(CHART))
    assert "1 chart(s) linted, 0 chart(s) failed" in out


def test_chart_files_are_the_repositorys() -> None:
    for name in ("servicelevels.yaml", "slorecommendations.yaml"):
        assert (CHART / "files" / "crds" / name).read_bytes() == (ROOT / "crds" / name).read_bytes()
    dashboard = ROOT / "deploy" / "grafana" / "sloreco.json"
    assert (CHART / "files" / "dashboards" / "sloreco.json").read_bytes() == dashboard.read_bytes()


def test_default_values_render_the_kustomization(controlplane: cplane.ControlPlane) -> None:
    helm = _by_key(_docs(_helm("template", "sloreco", str(CHART), "--namespace", "sloreco-system")))
    done = subprocess.run(
        [str(controlplane.kubectl), "kustomize", str(ROOT / "deploy")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    kustomize = _by_key([d for d in _docs(done.stdout) if d["kind"] != "Namespace"])
    assert sorted(helm) == sorted(kustomize)
    for key, expected in kustomize.items():
        assert helm[key] == expected, key
    crd = next(
        d
        for d in _docs(_helm("template", "x", str(CHART)))
        if d["kind"] == "CustomResourceDefinition"
    )
    assert crd["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"


def test_every_object_passes_the_apiserver(
    controlplane: cplane.ControlPlane, namespace: str
) -> None:
    cplane.apply_crds(controlplane, [peertools.crd("monitoring.coreos.com_servicemonitors.yaml")])
    rendered = _helm(
        "template", "sloreco", str(CHART), "--namespace", namespace,
        "--set", "serviceMonitor.enabled=true", "--set", "grafanaDashboard.enabled=true",
    )  # fmt: skip
    kinds = sorted({d["kind"] for d in _docs(rendered)})
    assert "ServiceMonitor" in kinds
    assert kinds.count("ConfigMap") == 1
    assert len([d for d in _docs(rendered) if d["kind"] == "ConfigMap"]) == 2
    done = subprocess.run(
        controlplane.kubectl_args(
            "apply", "--dry-run=server", "--server-side", "--force-conflicts",
            "--field-manager=helm-test", "-f", "-",
        ),
        input=rendered, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    applied = [line for line in done.stdout.splitlines() if "(server dry run)" in line]
    assert len(applied) == len(_docs(rendered)), done.stdout

    broken = rendered.replace("runAsNonRoot: true", "runAsNonRoot: maybe", 1)
    done = subprocess.run(
        controlplane.kubectl_args("apply", "--dry-run=server", "--server-side", "-f", "-"),
        input=broken, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode != 0
