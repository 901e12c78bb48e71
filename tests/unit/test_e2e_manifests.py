"""What can be checked of the deployment and of the kind e2e run without a cluster.

The e2e run (tests/e2e, ``make test-e2e``) needs Docker and kind, which CI does not have; this
test runs in ``make test`` and keeps its inputs honest: every manifest parses, the names the run
and the manifests share agree (image, namespaces, Services, the synthetic services), the
Deployment is hardened as SPEC §5 says and agrees with the Dockerfile and the settings loader,
and the RBAC grants what SPEC §5 lists and nothing more. When ``bin/kubectl`` is built (``make
test`` builds it), ``kubectl kustomize`` renders deploy/ and the e2e overlay for real.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib import parse

import pytest
import yaml

from sloreco import settings
from sloreco.core import durations
from sloreco.sources import synth
from sloreco.testing import demo
from tests.e2e import kind

Obj = dict[str, Any]

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
CRDS = REPO / "crds"
E2E = REPO / "tests" / "e2e"

#: (apiGroup, resource) -> (verbs required, verbs allowed). SPEC §5: "servicelevels
#: get/list/watch/patch-status, slorecommendations full, events create, plus what kopf itself
#: needs". A verb outside "allowed" is excess privilege; one missing from "required" breaks a
#: code path (named per rule).
RBAC: dict[tuple[str, str], tuple[set[str], set[str]]] = {
    # kopf lists and watches them; reconcile reads dependencies; kopf keeps its progress and
    # last-handled configuration in annotations (a patch of the object itself).
    ("sloreco.dev", "servicelevels"): ({"get", "list", "watch", "patch"},) * 2,
    # The status the reconcile pass writes as one merge patch.
    ("sloreco.dev", "servicelevels/status"): ({"patch"},) * 2,
    # Not required by kind's API server, but where the OwnerReferencesPermissionEnforcement
    # admission plugin runs (OpenShift), children with blockOwnerDeletion need it.
    ("sloreco.dev", "servicelevels/finalizers"): (set(), {"update"}),
    # Exactly what the code does: creates, gets, lists, patches (state: status and label;
    # annotations) and deletes them; it never updates (PUT) or watches them (issue 10: no
    # excess verbs). The kind has no status subresource (crds/slorecommendations.yaml).
    ("sloreco.dev", "slorecommendations"): ({"get", "list", "create", "patch", "delete"},) * 2,
    # The operator's own events and kopf's are core/v1 Events.
    ("", "events"): ({"create"}, {"create", "patch"}),
    ("events.k8s.io", "events"): (set(), {"create", "patch"}),
    # kopf watches CRDs to follow the resources its handlers name.
    ("apiextensions.k8s.io", "customresourcedefinitions"): (
        {"list", "watch"},
        {"get", "list", "watch"},
    ),
    # spec.adopt (controller.adopt): read to compare, create, merge-patch when a newer
    # recommendation changes them, delete when publish no longer names them. No list, no watch.
    ("monitoring.coreos.com", "prometheusrules"): ({"get", "create", "patch", "delete"},) * 2,
    ("pyrra.dev", "servicelevelobjectives"): ({"get", "create", "patch", "delete"},) * 2,
    ("sloth.slok.dev", "prometheusservicelevels"): ({"get", "create", "patch", "delete"},) * 2,
    # kopf lists and watches namespaces only when given namespace patterns; the Deployment runs
    # it with --all-namespaces, which does not.
    ("", "namespaces"): (set(), {"list", "watch"}),
}


def load_all(path: Path) -> list[Obj]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def by_kind(docs: list[Obj], kind_name: str) -> list[Obj]:
    return [doc for doc in docs if doc.get("kind") == kind_name]


def one(docs: list[Obj], kind_name: str) -> Obj:
    (found,) = by_kind(docs, kind_name)
    return found


#: The operator's configuration files: YAML, but not Kubernetes objects (loaded by the settings
#: tests below).
CONFIGS = (DEPLOY / "config.yaml", E2E / "manifests" / "operator" / "config.yaml")


#: The Helm chart: templates, not manifests; helm checks them (tests/integration/test_helm.py).
HELM = DEPLOY / "helm"


def manifests() -> Iterator[Path]:
    yield from sorted(
        p for p in DEPLOY.rglob("*.yaml") if p not in CONFIGS and HELM not in p.parents
    )
    yield from sorted(CRDS.glob("*.yaml"))
    yield CRDS / "Kustomization"
    yield from sorted(p for p in E2E.rglob("*.yaml") if p not in CONFIGS)


def deploy_docs() -> list[Obj]:
    kustomization = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())
    docs: list[Obj] = []
    for resource in kustomization["resources"]:
        if (DEPLOY / resource).is_file():
            docs += load_all(DEPLOY / resource)
    return docs


def prometheus_docs() -> list[Obj]:
    return load_all(kind.PROMETHEUS_MANIFEST)


def prometheus_pod() -> Obj:
    pod: Obj = one(prometheus_docs(), "Deployment")["spec"]["template"]["spec"]
    return pod


def operator_deployment() -> Obj:
    return one(deploy_docs(), "Deployment")


def dockerfile_instructions(name: str) -> list[str]:
    """Arguments of every ``name`` instruction of the runtime (last) stage of the Dockerfile."""
    text = (REPO / "Dockerfile").read_text().replace("\\\n", " ")
    stage = text.split("\nFROM ")[-1]
    prefix = f"{name} "
    return [line[len(prefix) :].strip() for line in stage.splitlines() if line.startswith(prefix)]


def env_of(container: Obj) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}


# --- everything parses ------------------------------------------------------------------------


@pytest.mark.parametrize("path", list(manifests()), ids=lambda p: str(p.relative_to(REPO)))
def test_manifest_parses_as_kubernetes_objects(path: Path) -> None:
    docs = load_all(path)
    assert docs, f"{path} is empty"
    for doc in docs:
        assert isinstance(doc, dict), path
        assert doc.get("apiVersion"), f"{path}: a document without apiVersion"
        assert doc.get("kind"), f"{path}: a document without kind"


def test_kustomizations_name_files_that_exist() -> None:
    deploy = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())
    for resource in deploy["resources"]:
        target = DEPLOY / resource
        assert target.is_file() or (target / "Kustomization").is_file(), resource
    for generator in deploy.get("configMapGenerator", []):
        for file in generator["files"]:
            assert (DEPLOY / file).is_file(), file
    crds = yaml.safe_load((CRDS / "Kustomization").read_text())
    assert sorted(crds["resources"]) == sorted(p.name for p in CRDS.glob("*.yaml"))
    overlay = yaml.safe_load((kind.OPERATOR_OVERLAY / "kustomization.yaml").read_text())
    assert [(kind.OPERATOR_OVERLAY / r).resolve() for r in overlay["resources"]] == [DEPLOY]
    (generator,) = overlay["configMapGenerator"]
    assert generator["behavior"] == "replace"
    assert all((kind.OPERATOR_OVERLAY / file).is_file() for file in generator["files"])


# --- the operator's Deployment ----------------------------------------------------------------


def restricted_violations(pod: Obj) -> list[str]:
    """Where a pod spec breaks the ``restricted`` Pod Security Standard or our read-only rule."""
    problems = []
    pod_sc = pod.get("securityContext") or {}
    for container in [*pod.get("initContainers", []), *pod["containers"]]:
        sc = container.get("securityContext") or {}
        name = container["name"]
        if sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is not True:
            problems.append(f"{name}: runAsNonRoot is not true")
        if sc.get("runAsUser", pod_sc.get("runAsUser")) == 0:
            problems.append(f"{name}: runs as uid 0")
        seccomp = sc.get("seccompProfile", pod_sc.get("seccompProfile")) or {}
        if seccomp.get("type") not in ("RuntimeDefault", "Localhost"):
            problems.append(f"{name}: no RuntimeDefault seccomp profile")
        if sc.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{name}: allowPrivilegeEscalation is not false")
        if (sc.get("capabilities") or {}).get("drop") != ["ALL"]:
            problems.append(f"{name}: capabilities are not dropped")
        if sc.get("readOnlyRootFilesystem") is not True:
            problems.append(f"{name}: the root filesystem is writable")
        if sc.get("privileged"):
            problems.append(f"{name}: privileged")
    for volume in pod.get("volumes", []):
        if not {"configMap", "emptyDir", "secret", "projected"} & set(volume):
            problems.append(f"volume {volume['name']}: a type restricted pods may not use")
    return problems


def test_operator_deployment_is_one_non_root_read_only_replica() -> None:
    deployment = operator_deployment()
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    pod = deployment["spec"]["template"]["spec"]
    assert restricted_violations(pod) == []
    (container,) = pod["containers"]
    # Writable paths exist only as volumes: /tmp is an emptyDir, the config is read-only.
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]["name"]]
    assert all(m.get("readOnly") for p, m in mounts.items() if p != "/tmp")


def test_operator_namespace_enforces_the_restricted_standard() -> None:
    namespace = one(deploy_docs(), "Namespace")
    kustomization = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())
    assert namespace["metadata"]["name"] == kustomization["namespace"] == kind.OPERATOR_NAMESPACE
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_deployment_agrees_with_the_dockerfile() -> None:
    pod = operator_deployment()["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    (user,) = dockerfile_instructions("USER")
    uid, gid = (int(part) for part in user.split(":"))
    assert (pod["securityContext"]["runAsUser"], pod["securityContext"]["runAsGroup"]) == (uid, gid)
    (exposed,) = dockerfile_instructions("EXPOSE")
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert sorted(ports.values()) == sorted(int(p) for p in exposed.split())
    (entrypoint,) = dockerfile_instructions("ENTRYPOINT")
    argv = json.loads(entrypoint)
    assert argv[:2] == ["kopf", "run"]
    assert "--all-namespaces" in argv
    (liveness,) = [a.split("=", 1)[1] for a in argv if a.startswith("--liveness=")]
    probe = container["livenessProbe"]["httpGet"]
    assert parse.urlsplit(liveness).port == ports[probe["port"]]
    assert parse.urlsplit(liveness).path == probe["path"]
    assert int(env_of(container)["SLORECO_METRICS_PORT"]) == ports["metrics"]
    assert "SLORECO_CONFIG" not in " ".join(dockerfile_instructions("ENV"))


def test_metrics_have_a_service_and_the_pod_a_readiness_probe() -> None:
    """Issue 9: /metrics had no Service to scrape it through, and the pod no readiness probe."""
    deployment = operator_deployment()
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    service = one(deploy_docs(), "Service")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    (port,) = service["spec"]["ports"]
    assert (port["targetPort"], port["port"]) == ("metrics", ports["metrics"])
    assert service["metadata"]["annotations"]["prometheus.io/port"] == str(ports["metrics"])
    readiness = container["readinessProbe"]["httpGet"]
    assert (readiness["port"], readiness["path"]) == ("healthz", "/healthz")


def test_the_image_leaves_the_test_harness_out() -> None:
    text = (REPO / "Dockerfile").read_text().replace("\\\n", " ")
    (install,) = [line for line in text.splitlines() if "pip install ." in line]
    assert "&& rm -r /opt/sloreco/lib/python3.11/site-packages/sloreco/testing" in install
    # ... which works only because nothing the operator runs imports it (checked by lint).
    contracts = (REPO / "pyproject.toml").read_text()
    assert 'forbidden_modules = ["sloreco.testing"]' in contracts


def test_deployment_mounts_the_generated_configuration() -> None:
    kustomization = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())
    (generator,) = kustomization["configMapGenerator"]
    (file,) = generator["files"]
    pod = operator_deployment()["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    (mount,) = [m for m in container["volumeMounts"] if "configMap" in volumes[m["name"]]]
    assert volumes[mount["name"]]["configMap"]["name"] == generator["name"]
    assert env_of(container)["SLORECO_CONFIG"] == f"{mount['mountPath']}/{file}"


def test_image_names_agree() -> None:
    (container,) = operator_deployment()["spec"]["template"]["spec"]["containers"]
    name, _, tag = container["image"].partition(":")
    kustomization = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())
    assert kustomization["images"] == [{"name": name, "newTag": tag}]
    overlay = yaml.safe_load((kind.OPERATOR_OVERLAY / "kustomization.yaml").read_text())
    (image,) = overlay["images"]
    assert f"{image['name']}:{image['newTag']}" == kind.IMAGE
    synth_container = next(c for c in prometheus_pod()["initContainers"] if c["name"] == "synth")
    assert synth_container["image"] == kind.IMAGE
    # What the e2e test selects the operator's pod by.
    labels = operator_deployment()["spec"]["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/name"] == "sloreco"
    assert operator_deployment()["metadata"]["name"] == kind.OPERATOR_DEPLOYMENT


# --- RBAC ---------------------------------------------------------------------------------------


def test_rbac_grants_what_spec_section_5_lists_and_no_more() -> None:
    docs = deploy_docs()
    role = one(docs, "ClusterRole")
    granted: dict[tuple[str, str], set[str]] = {}
    for rule in role["rules"]:
        assert set(rule) == {"apiGroups", "resources", "verbs"}, rule  # no names, no URLs
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                granted.setdefault((group, resource), set()).update(rule["verbs"])
    assert not [key for key, verbs in granted.items() if "*" in verbs or "*" in key], granted
    unexpected = sorted(set(granted) - set(RBAC))
    assert unexpected == [], f"rules for resources SPEC §5 does not need: {unexpected}"
    for key, (required, allowed) in RBAC.items():
        verbs = granted.get(key, set())
        assert required <= verbs, f"{key}: missing {sorted(required - verbs)}"
        assert verbs <= allowed, f"{key}: excess {sorted(verbs - allowed)}"


def test_rbac_binds_the_deployments_service_account() -> None:
    docs = deploy_docs()
    account = one(docs, "ServiceAccount")["metadata"]["name"]
    binding = one(docs, "ClusterRoleBinding")
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": one(docs, "ClusterRole")["metadata"]["name"],
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account, "namespace": kind.OPERATOR_NAMESPACE}
    ]
    assert operator_deployment()["spec"]["template"]["spec"]["serviceAccountName"] == account


# --- configuration --------------------------------------------------------------------------


def load_settings(path: Path) -> settings.Settings:
    return settings.load({"SLORECO_CONFIG": str(path)})


def test_shipped_and_e2e_configurations_load_and_differ_only_in_the_url() -> None:
    assert kind.OPERATOR_OVERLAY / "config.yaml" in CONFIGS
    shipped = yaml.safe_load((DEPLOY / "config.yaml").read_text())
    e2e = yaml.safe_load((kind.OPERATOR_OVERLAY / "config.yaml").read_text())
    assert {k: v for k, v in e2e.items() if k != "sources"} == {
        k: v for k, v in shipped.items() if k != "sources"
    }
    (source,) = e2e["sources"]
    default = next(s for s in shipped["sources"] if s["name"] == "default")
    assert {**source, "url": default["url"]} == default
    assert load_settings(DEPLOY / "config.yaml").sources["default"].url == default["url"]
    assert (
        load_settings(kind.OPERATOR_OVERLAY / "config.yaml").sources["default"].url
        == (source["url"])
    )


def test_e2e_source_is_the_e2e_prometheus_service() -> None:
    e2e = yaml.safe_load((kind.OPERATOR_OVERLAY / "config.yaml").read_text())
    url = parse.urlsplit(e2e["sources"][0]["url"])
    service = one(prometheus_docs(), "Service")
    assert url.hostname == f"{service['metadata']['name']}.{kind.PROMETHEUS_NAMESPACE}.svc"
    assert service["metadata"]["namespace"] == kind.PROMETHEUS_NAMESPACE
    (port,) = service["spec"]["ports"]
    assert url.port == port["port"]
    deployment = one(prometheus_docs(), "Deployment")
    assert deployment["metadata"]["name"] == kind.PROMETHEUS_DEPLOYMENT
    assert service["spec"]["selector"].items() <= (
        deployment["spec"]["template"]["metadata"]["labels"].items()
    )


# --- the e2e cluster and its Prometheus -------------------------------------------------------


def test_kind_config_is_one_node_named_like_the_run() -> None:
    config = yaml.safe_load(kind.KIND_CONFIG.read_text())
    assert (config["kind"], config["apiVersion"]) == ("Cluster", "kind.x-k8s.io/v1alpha4")
    assert config["name"] == kind.CLUSTER
    assert config["nodes"] == [{"role": "control-plane"}]


def test_e2e_prometheus_is_hardened_and_pinned_to_2x() -> None:
    (namespace,) = by_kind(prometheus_docs(), "Namespace")
    assert namespace["metadata"]["name"] == kind.PROMETHEUS_NAMESPACE
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    pod = prometheus_pod()
    assert restricted_violations(pod) == []
    images = {c["image"] for c in [*pod["initContainers"], *pod["containers"]]} - {kind.IMAGE}
    (image,) = images
    assert re.fullmatch(r"quay\.io/prometheus/prometheus:v2\.\d+\.\d+", image), image
    (server,) = pod["containers"]
    assert "--storage.tsdb.retention.time=10y" in server["args"]


def synth_args() -> tuple[list[str], dict[str, str]]:
    init = {c["name"]: c for c in prometheus_pod()["initContainers"]}
    assert list(init) == ["synth", "backfill"]  # generate, then backfill
    days = {env_of(c)["HISTORY_DAYS"] for c in init.values()}
    assert len(days) == 1, "both steps must agree on the history's length"
    return init["synth"]["args"], env_of(init["synth"])


def test_e2e_history_is_the_demo_history_and_covers_every_sample() -> None:
    _script, _output, *pairs = synth_args()[0]
    services = [synth.Service(*pair.split("=", 1)) for pair in pairs]
    assert services == list(demo.SERVICES)
    samples = [doc for p in sorted(kind.SAMPLES.glob("*.yaml")) for doc in load_all(p)]
    assert {s["spec"]["service"] for s in samples} <= {s.name for s in services}
    days = int(synth_args()[1]["HISTORY_DAYS"])
    for sample in samples:
        lookback = durations.parse(sample["spec"].get("lookback", "90d"), field="lookback")
        assert lookback <= days * 86400, sample["metadata"]["name"]


def test_e2e_synth_script_writes_openmetrics(tmp_path: Path) -> None:
    """Run the init container's inline script here, shortened to 8 days of one service."""
    (script, _, first, *_), env = synth_args()
    out = tmp_path / "history.om"
    environment = {
        **os.environ,
        **env,
        "HISTORY_DAYS": "8",
        "PYTHONPATH": os.pathsep.join([str(REPO / "operator"), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, "-c", script, str(out), first],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert text.startswith("# TYPE http_requests counter\n")
    assert text.endswith("# EOF\n")
    name = first.split("=", 1)[0]
    assert f'http_requests_total{{service="{name}",code="500"}}' in text
    assert f'http_request_duration_seconds_bucket{{service="{name}",le="+Inf"}}' in text
    assert not (tmp_path / "history.om.spill").exists()


def test_e2e_backfill_fills_the_servers_data_directory() -> None:
    backfill = next(c for c in prometheus_pod()["initContainers"] if c["name"] == "backfill")
    (script,) = backfill["args"]
    assert "promtool tsdb create-blocks-from openmetrics" in script
    assert "--max-block-duration=$(( HISTORY_DAYS * 24 + 1 ))h" in script
    mounts = {m["mountPath"]: m["name"] for m in backfill["volumeMounts"]}
    (server,) = prometheus_pod()["containers"]
    data = {m["mountPath"]: m["name"] for m in server["volumeMounts"]}
    assert mounts["/prometheus"] == data["/prometheus"]
    assert "--storage.tsdb.path=/prometheus" in server["args"]
    synth_mounts = {
        m["mountPath"]: m["name"] for m in prometheus_pod()["initContainers"][0]["volumeMounts"]
    }
    assert synth_mounts["/tmp"] == mounts["/tmp"]  # the OpenMetrics file is passed through /tmp


def test_the_demo_moves_sample_exclusions_into_its_history() -> None:
    """Issue 9: payments excluded a date outside the demo history (excludedBuckets: 0)."""
    end = 1_780_000_000 // 3600 * 3600
    payments = yaml.safe_load((DEPLOY / "samples" / "payments.yaml").read_text())
    (original,) = payments["spec"]["exclusions"]
    (moved,) = demo.within_history(payments, end=end)["spec"]["exclusions"]

    def epoch(text: str) -> int:
        return int(datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())

    start, stop = epoch(moved["start"]), epoch(moved["end"])
    assert end - demo.HISTORY_DAYS * 86400 <= start < stop <= end
    assert stop - start == epoch(original["end"]) - epoch(original["start"])
    assert (moved["start"][10:], moved["reason"]) == (original["start"][10:], original["reason"])
    checkout = yaml.safe_load((DEPLOY / "samples" / "checkout.yaml").read_text())
    assert demo.within_history(checkout, end=end) == checkout
