"""The shipped RBAC works when the operator watches one namespace (issue 9, item 16).

The README says what ``kopf run --namespace NS`` needs: the ClusterRole of ``deploy/rbac.yaml``
bound by a RoleBinding in each watched namespace, plus ``list``/``watch`` on
``customresourcedefinitions`` and ``namespaces`` cluster-wide (kopf treats every ``--namespace``
value as a pattern and lists namespaces to match it; without the grant it retries for about a
minute, logging 403s, before it falls back to the names as given). This test grants exactly
that to a ServiceAccount of the real kube-apiserver (which runs with
``--authorization-mode=RBAC``), runs the operator with that ServiceAccount's token, and checks
that a ServiceLevel becomes Ready with both SLIs and that nothing was forbidden.
(``--all-namespaces`` with the ClusterRoleBinding is what the kind end-to-end run deploys.)
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from sloreco.testing import controlplane as cplane
from tests import factories
from tests.fixtures.controlplane import api
from tests.fixtures.operator import OperatorHistory, OperatorProcess, wait_for
from tests.integration.test_operator import create, kids, ready_with_both

pytestmark = pytest.mark.integration

RBAC = Path(__file__).resolve().parents[2] / "deploy" / "rbac.yaml"
SA = "sloreco"


def kubectl(cp: cplane.ControlPlane, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        cp.kubectl_args(*args), input=stdin, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def namespaced_grants(controlplane: cplane.ControlPlane, namespace: str) -> Iterator[Path]:
    """A kubeconfig of a ServiceAccount holding only the grants the README lists."""
    cluster_role = next(
        doc for doc in yaml.safe_load_all(RBAC.read_text()) if doc["kind"] == "ClusterRole"
    )
    crd_reader = f"sloreco-cluster-reads-{namespace}"
    kubectl(
        controlplane,
        "apply",
        "--server-side",
        "--field-manager=sloreco-tests",
        "-f",
        "-",
        stdin=yaml.safe_dump(cluster_role),
    )
    kubectl(controlplane, "-n", namespace, "create", "serviceaccount", SA)
    kubectl(
        controlplane, "-n", namespace, "create", "rolebinding", "sloreco",
        f"--clusterrole={cluster_role['metadata']['name']}", f"--serviceaccount={namespace}:{SA}",
    )  # fmt: skip
    kubectl(
        controlplane, "create", "clusterrole", crd_reader, "--verb=list,watch",
        "--resource=customresourcedefinitions.apiextensions.k8s.io", "--resource=namespaces",
    )  # fmt: skip
    kubectl(
        controlplane, "create", "clusterrolebinding", crd_reader, f"--clusterrole={crd_reader}",
        f"--serviceaccount={namespace}:{SA}",
    )  # fmt: skip
    token = kubectl(controlplane, "-n", namespace, "create", "token", SA, "--duration=1h").strip()
    path = controlplane.workdir / f"kubeconfig-{namespace}"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {
                        "name": "c",
                        "cluster": {
                            "server": controlplane.url,
                            "certificate-authority": str(controlplane.ca_file),
                        },
                    }
                ],
                "users": [{"name": "sa", "user": {"token": token}}],
                "contexts": [{"name": "sa", "context": {"cluster": "c", "user": "sa"}}],
                "current-context": "sa",
            }
        )
    )
    yield path
    kubectl(controlplane, "delete", "clusterrolebinding", crd_reader)
    kubectl(controlplane, "delete", "clusterrole", crd_reader)


@pytest.fixture
def client(controlplane: cplane.ControlPlane) -> Iterator[httpx.Client]:
    with api(controlplane) as c:
        yield c


def test_the_operator_runs_on_one_namespace_with_the_documented_grants(
    client: httpx.Client,
    namespace: str,
    namespaced_grants: Path,
    run_operator: Callable[..., OperatorProcess],
    operator_history: OperatorHistory,
) -> None:
    operator = run_operator(
        namespace=namespace, prometheus_url=operator_history.url, KUBECONFIG=namespaced_grants
    )
    create(client, namespace, factories.service_level("web", service="checkout", latency=True))
    wait_for(lambda: ready_with_both(client, namespace, "web"), what="Ready with both SLIs")
    assert len(kids(client, namespace, "web")) == 2
    log = operator.logs()
    assert "Forbidden" not in log
    assert " 403" not in log
