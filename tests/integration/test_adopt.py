"""``spec.adopt`` against the real apiserver with the peers' CRDs, under the shipped RBAC.

Each pass runs in-process (time is an argument) as a ServiceAccount bound, in the test's
namespace, to the ClusterRole of ``deploy/rbac.yaml`` — so a verb the adopt code needs and the
role lacks fails the test with a 403. The PrometheusRule and Sloth CRDs come from their Go
modules (``make peer-crds``); Pyrra's cannot be built here (the module proxy refuses it), which
the test uses: publishing a ServiceLevelObjective is reported as ``KindNotInstalled``.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml

from sloreco import api, errors, settings
from sloreco.controller import children, context, reconcile
from sloreco.kube import client as kube
from sloreco.sources import prometheus
from sloreco.spec import model as specs
from sloreco.testing import controlplane as cplane
from tests import factories, peertools
from tests.fixtures.operator import OperatorHistory

pytestmark = pytest.mark.integration
T = TypeVar("T")
HOUR = 3600
Obj = api.Obj
Step = Callable[[context.Context], Awaitable[T]]

RBAC = Path(__file__).resolve().parents[2] / "deploy" / "rbac.yaml"
RULES = "/apis/monitoring.coreos.com/v1/namespaces/{ns}/prometheusrules"
SLOTH = "/apis/sloth.slok.dev/v1/namespaces/{ns}/prometheusservicelevels"


def _kubectl(cp: cplane.ControlPlane, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        cp.kubectl_args(*args), input=stdin, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def peer_crds(controlplane: cplane.ControlPlane) -> None:
    cplane.apply_crds(
        controlplane,
        [
            peertools.crd("monitoring.coreos.com_prometheusrules.yaml"),
            peertools.crd("sloth.slok.dev_prometheusservicelevels.yaml"),
        ],
    )


@pytest.fixture
def operator_credentials(
    controlplane: cplane.ControlPlane, namespace: str, peer_crds: None
) -> kube.Credentials:
    """A token of a ServiceAccount holding the shipped ClusterRole in ``namespace`` only."""
    role = next(d for d in yaml.safe_load_all(RBAC.read_text()) if d["kind"] == "ClusterRole")
    _kubectl(
        controlplane, "apply", "--server-side", "--field-manager=sloreco-tests", "-f", "-",
        stdin=yaml.safe_dump(role),
    )  # fmt: skip
    _kubectl(controlplane, "-n", namespace, "create", "serviceaccount", "sloreco")
    _kubectl(
        controlplane, "-n", namespace, "create", "rolebinding", "sloreco",
        f"--clusterrole={role['metadata']['name']}", f"--serviceaccount={namespace}:sloreco",
    )  # fmt: skip
    token = _kubectl(controlplane, "-n", namespace, "create", "token", "sloreco").strip()
    return kube.Credentials.bearer(controlplane.url, token=token, ca_file=str(controlplane.ca_file))


@pytest.fixture
def as_operator(
    operator_credentials: kube.Credentials, private_history: OperatorHistory
) -> Callable[[Step[Any]], Any]:
    def run(step: Step[T]) -> T:
        async def main() -> T:
            source = prometheus.SourceConfig(name="default", url=private_history.url, timeout=5)
            conf = settings.Settings(sources={"default": source}, metrics_port=0)
            client = prometheus.PrometheusClient(source, retry=prometheus.retries.RetryPolicy(1))
            async with kube.KubeClient(operator_credentials) as k8s:
                try:
                    return await step(context.Context(k8s, {"default": client}, conf))
                finally:
                    await client.aclose()

        return asyncio.run(main())

    return run


def _admin(cp: cplane.ControlPlane, step: Step[T]) -> T:
    async def main() -> T:
        async with kube.KubeClient(cp.credentials()) as k8s:
            return await step(
                context.Context(k8s, {}, settings.Settings(sources={}, metrics_port=0))
            )

    return asyncio.run(main())


def _condition(body: Obj, kind: str) -> tuple[str, str, str] | None:
    for c in (body.get("status") or {}).get("conditions") or []:
        if c["type"] == kind:
            return c["status"], c["reason"], c["message"]
    return None


def _pass(namespace: str, name: str, now: float) -> Step[tuple[reconcile.Outcome, Obj]]:
    async def step(ctx: context.Context) -> tuple[reconcile.Outcome, Obj]:
        outcome = await reconcile.run(namespace, name, ctx=ctx, now=now)
        return outcome, await ctx.kube.get(kube.path_for(api.SERVICELEVELS, namespace, name))

    return step


def _get(cp: cplane.ControlPlane, path: str) -> Obj | None:
    async def step(ctx: context.Context) -> Obj | None:
        try:
            return await ctx.kube.get(path)
        except Exception:
            return None

    return _admin(cp, step)


def _set_spec(cp: cplane.ControlPlane, namespace: str, name: str, patch: Obj) -> None:
    async def step(ctx: context.Context) -> None:
        await ctx.kube.merge_patch(
            kube.path_for(api.SERVICELEVELS, namespace, name), {"spec": patch}
        )

    _admin(cp, step)


def test_adopt_creates_keeps_updates_and_retires_its_objects(
    as_operator: Callable[[Step[Any]], Any],
    controlplane: cplane.ControlPlane,
    namespace: str,
    private_history: OperatorHistory,
) -> None:
    manifest = factories.service_level(
        "web", service="checkout", latency=True, refreshInterval="1h", recommendationTTL="2h",
        adopt={"tier": "balanced", "publish": ["PrometheusRule", "PrometheusServiceLevel"]},
    )  # fmt: skip
    _admin(
        controlplane,
        lambda ctx: ctx.kube.create(kube.path_for(api.SERVICELEVELS, namespace), manifest),
    )
    now = private_history.end + 60.0
    first, body = as_operator(_pass(namespace, "web", now))
    assert len(first.activated) == 2
    assert _condition(body, "Adopted")[:2] == ("True", "Published")
    adopted = body["status"]["adopted"]
    assert adopted["tier"] == "balanced"
    assert [p["kind"] for p in adopted["published"]] == ["PrometheusRule", "PrometheusServiceLevel"]
    kids = _admin(
        controlplane, lambda ctx: ctx.kube.list(kube.path_for(api.RECOMMENDATIONS, namespace))
    )
    balanced = {
        c["spec"]["sli"]: next(t for t in c["spec"]["tiers"] if t["name"] == "balanced")
        for c in kids
    }
    assert {o["sli"]: o["target"] for o in adopted["objectives"]} == {
        sli: t["target"] for sli, t in balanced.items()
    }
    rule = _get(controlplane, RULES.format(ns=namespace) + "/web")
    assert rule is not None
    [owner] = rule["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["name"], owner["uid"]) == (
        "ServiceLevel",
        "web",
        body["metadata"]["uid"],
    )
    assert rule["metadata"]["labels"]["sloreco.dev/tier"] == "balanced"
    objective = next(
        r
        for g in rule["spec"]["groups"]
        for r in g["rules"]
        if r.get("record") == "sloreco:objective:ratio"
        and r["labels"]["sloreco_sli"] == "availability"
    )
    assert objective["expr"] == f"vector({float(balanced['availability']['target']) / 100:g})"
    sloth = _get(controlplane, SLOTH.format(ns=namespace) + "/web")
    assert sloth is not None
    assert [s["objective"] for s in sloth["spec"]["slos"]] == [
        float(balanced[s]["target"]) for s in ("availability", "latency")
    ]

    # Nothing changed: no write at all (the objects keep their resourceVersion, status unpatched).
    again, _ = as_operator(_pass(namespace, "web", now + 60))
    assert (again.created, again.status_patched) == ((), False)
    assert (
        _get(controlplane, RULES.format(ns=namespace) + "/web")["metadata"]["resourceVersion"]
        == (rule["metadata"]["resourceVersion"])
    )

    # A refresh brings new recommendations: the published objects follow them.
    later, body = as_operator(_pass(namespace, "web", now + HOUR + 60))
    assert later.activated, "an hour later the lookback has moved: new recommendations"
    updated = _get(controlplane, RULES.format(ns=namespace) + "/web")
    assert updated is not None
    assert updated["metadata"]["resourceVersion"] != rule["metadata"]["resourceVersion"]
    active = {o["recommendation"] for o in body["status"]["adopted"]["objectives"]}
    assert set(later.activated) <= active
    recs = {
        r["annotations"]["sloreco_recommendation"]
        for g in updated["spec"]["groups"] for r in g["rules"] if r.get("alert")
    }  # fmt: skip
    assert recs == active

    # publish shrinks: the Sloth object goes; adopt removed: the rule goes, and the status says so.
    _set_spec(
        controlplane,
        namespace,
        "web",
        {"adopt": {"tier": "aggressive", "publish": ["PrometheusRule"]}},
    )
    _, body = as_operator(_pass(namespace, "web", now + HOUR + 120))
    assert _get(controlplane, SLOTH.format(ns=namespace) + "/web") is None
    assert body["status"]["adopted"]["tier"] == "aggressive"
    rule = _get(controlplane, RULES.format(ns=namespace) + "/web")
    assert rule["metadata"]["labels"]["sloreco.dev/tier"] == "aggressive"
    _set_spec(controlplane, namespace, "web", {"adopt": None})
    _, body = as_operator(_pass(namespace, "web", now + HOUR + 180))
    assert _get(controlplane, RULES.format(ns=namespace) + "/web") is None
    assert "adopted" not in body["status"]
    assert _condition(body, "Adopted") is None


def test_a_users_object_of_that_name_is_left_alone(
    as_operator: Callable[[Step[Any]], Any],
    controlplane: cplane.ControlPlane,
    namespace: str,
    private_history: OperatorHistory,
) -> None:
    theirs = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "web"},
        "spec": {"groups": [{"name": "mine", "rules": [{"record": "x:y:z", "expr": "vector(1)"}]}]},
    }
    _admin(controlplane, lambda ctx: ctx.kube.create(RULES.format(ns=namespace), theirs))
    manifest = factories.service_level(
        "web", service="checkout", adopt={"tier": "balanced", "publish": ["PrometheusRule"]}
    )
    _admin(
        controlplane,
        lambda ctx: ctx.kube.create(kube.path_for(api.SERVICELEVELS, namespace), manifest),
    )
    _, body = as_operator(_pass(namespace, "web", private_history.end + 60.0))
    status, reason, message = _condition(body, "Adopted")
    assert (status, reason) == ("False", "NameTaken")
    assert "PrometheusRule web exists and is not owned by this ServiceLevel" in message
    assert _condition(body, "Degraded")[:2] == ("True", "NameTaken")
    assert body["status"]["adopted"]["published"] == []
    rule = _get(controlplane, RULES.format(ns=namespace) + "/web")
    assert rule["spec"] == theirs["spec"]
    assert "ownerReferences" not in rule["metadata"]


def test_a_kind_whose_crd_is_not_installed_is_reported(
    as_operator: Callable[[Step[Any]], Any],
    controlplane: cplane.ControlPlane,
    namespace: str,
    private_history: OperatorHistory,
) -> None:
    manifest = factories.service_level(
        "web", service="checkout",
        adopt={"tier": "conservative", "publish": ["ServiceLevelObjective", "PrometheusRule"]},
    )  # fmt: skip
    _admin(
        controlplane,
        lambda ctx: ctx.kube.create(kube.path_for(api.SERVICELEVELS, namespace), manifest),
    )
    _, body = as_operator(_pass(namespace, "web", private_history.end + 60.0))
    status, reason, message = _condition(body, "Adopted")
    assert (status, reason) == ("False", "KindNotInstalled")
    assert "ServiceLevelObjective (pyrra.dev/v1alpha1) is not installed" in message
    assert [p["kind"] for p in body["status"]["adopted"]["published"]] == ["PrometheusRule"]
    assert children.canonical_json(body["status"]["adopted"]["objectives"]) != "[]"


@pytest.mark.parametrize(
    ("adopt", "expected"),
    [
        ({"tier": "gold", "publish": ["PrometheusRule"]}, "spec.adopt.tier: Unsupported value"),
        (
            {"tier": "balanced", "publish": ["PrometheusRule", "PrometheusRule"]},
            "spec.adopt.publish[1]: Duplicate value",
        ),
        ({"tier": "balanced", "publish": ["OpenSLO"]}, "spec.adopt.publish[0]: Unsupported value"),
        ({"tier": "balanced", "publish": []}, "spec.adopt.publish: Invalid value"),
    ],
)
def test_admission_refuses_a_bad_adopt(
    controlplane: cplane.ControlPlane, namespace: str, adopt: Obj, expected: str
) -> None:
    manifest = factories.service_level("web", service="checkout", adopt=adopt)

    async def step(ctx: context.Context) -> str:
        try:
            await ctx.kube.create(kube.path_for(api.SERVICELEVELS, namespace), manifest)
        except Exception as exc:
            return str(exc)
        return "accepted"

    message = _admin(controlplane, step)
    assert "422" in message
    assert expected in message
    with pytest.raises(errors.InputError, match=r"adopt"):
        specs.parse_service_level_spec(manifest["spec"])


def test_kubectl_explain_documents_adopt(controlplane: cplane.ControlPlane) -> None:
    out = _kubectl(controlplane, "explain", "servicelevel.spec.adopt")
    assert "Adopt one tier of the Active recommendations and publish it" in " ".join(out.split())
    assert "publish" in out
    assert "tier" in out
    out = _kubectl(controlplane, "explain", "servicelevel.spec.adopt.publish")
    assert "PrometheusServiceLevel (Sloth" in " ".join(out.split())
