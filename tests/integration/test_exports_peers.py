"""Every export, checked by the peer's own validator (issue 11 §1), for every tier and SLI.

- ``prometheus-rule``: ``promtool check rules`` (Prometheus 3.16, ``bin/promtool3``) on the rule
  file and on the ``PrometheusRule``'s groups; the object is created with ``dryRun=All`` against
  the real kube-apiserver with the Prometheus Operator's CRD installed.
- ``sloth``: ``sloth validate`` accepts the object and the plain file; ``sloth generate`` turns
  each into rules that ``promtool check rules`` accepts; the object passes the apiserver with
  Sloth's CRD.
- ``openslo``: ``oslo validate``.
- ``pyrra``: not checked by a peer here — the Go module proxy refuses ``github.com/pyrra-dev/pyrra``
  (403), so neither its CRD nor its webhook can be built (README, "Peer tools").

Each check also has a negative control: the same validator refuses a broken copy, so a validator
that accepts anything (or a flag that is not in effect) cannot pass these tests.
"""

from __future__ import annotations

import copy
import pathlib
from decimal import Decimal
from typing import Any

import httpx
import pytest
import yaml

from sloreco.render import crd, exports
from sloreco.render.exports import base, document
from sloreco.spec import indicator
from sloreco.testing import controlplane as cplane
from tests import factories, peertools

pytestmark = pytest.mark.integration

SELECTORS = {
    "total": 'http_requests_total{service="checkout"}',
    "errors": 'http_requests_total{service="checkout",code=~"5.."}',
    "histogram": 'http_request_duration_seconds_bucket{service="checkout"}',
}
FIELDS = {role: f"--{role}" for role in SELECTORS}
STRICT_DRY_RUN = {"dryRun": "All", "fieldValidation": "Strict"}


@pytest.fixture(scope="module")
def slos_by_tier() -> dict[str, list[base.Slo]]:
    """Both SLIs of one recommendation, per tier, as the exports take them."""
    availability = factories.recommend_availability(
        factories.synthetic_availability(days=35, error_ratio=0.002),
        window_seconds=28 * 86400,
        seed=3,
    )
    latency = factories.recommend_latency(
        factories.synthetic_latency(days=35, requests_per_bucket=200),
        percentile=Decimal(99),
        window_seconds=28 * 86400,
        seed=3,
    )
    out: dict[str, list[base.Slo]] = {}
    for tier in base.TIERS:
        slos = []
        for result in (availability, latency):
            objective = document.objective(crd.recommendation_spec(result), tier=tier)
            slos.append(
                base.Slo(objective, indicator.indicator(objective, SELECTORS, fields=FIELDS))
            )
        out[tier] = slos
    return out


def _render(slos: list[base.Slo], fmt: str, *, plain: bool = False) -> list[Any]:
    target = base.Target(name="checkout", service="checkout", plain=plain)
    return exports.render(fmt, slos, target)


def _write(path: pathlib.Path, docs: list[Any]) -> pathlib.Path:
    path.write_text(exports.dump(docs), encoding="utf-8")
    return path


def _promtool_ok(path: pathlib.Path) -> int:
    """``promtool check rules``; returns how many rules it found."""
    done = peertools.run("promtool3", "check", "rules", path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout
    return int(done.stdout.split("SUCCESS: ")[1].split()[0])


# --- PrometheusRule ----------------------------------------------------------------------------


@pytest.mark.parametrize("tier", base.TIERS)
def test_promtool_accepts_every_prometheus_rule(
    tier: str, slos_by_tier: dict[str, list[base.Slo]], tmp_path: pathlib.Path
) -> None:
    slos = slos_by_tier[tier]
    rules = _promtool_ok(
        _write(tmp_path / "plain.yaml", _render(slos, "prometheus-rule", plain=True))
    )
    # Per SLI: one recording rule per window, the objective, the budget, page and ticket.
    assert rules == len(slos) * (len(base.rate_windows()) + 4)
    [obj] = _render(slos, "prometheus-rule")
    assert _promtool_ok(_write(tmp_path / "groups.yaml", [obj["spec"]])) == rules


def test_promtool_refuses_a_broken_rule(
    slos_by_tier: dict[str, list[base.Slo]], tmp_path: pathlib.Path
) -> None:
    [plain] = _render(slos_by_tier["balanced"], "prometheus-rule", plain=True)
    broken = copy.deepcopy(plain)
    broken["groups"][1]["rules"][2]["expr"] += " >"
    done = peertools.run("promtool3", "check", "rules", _write(tmp_path / "bad.yaml", [broken]))
    assert done.returncode != 0
    assert "parse error" in done.stdout + done.stderr


# --- Sloth ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("tier", base.TIERS)
@pytest.mark.parametrize("plain", [False, True], ids=["object", "plain"])
def test_sloth_validates_and_generates_rules_promtool_accepts(
    tier: str, plain: bool, slos_by_tier: dict[str, list[base.Slo]], tmp_path: pathlib.Path
) -> None:
    spec = _write(tmp_path / "slo.yaml", _render(slos_by_tier[tier], "sloth", plain=plain))
    done = peertools.run("sloth", "validate", "--no-color", "-i", spec)
    assert done.returncode == 0, done.stderr
    assert "Validation succeeded" in done.stderr
    generated = tmp_path / "generated.yaml"
    done = peertools.run(
        "sloth", "generate", "--no-color", "-i", spec, "--default-slo-period=28d", "-o", generated
    )
    assert done.returncode == 0, done.stderr
    [rules] = [d for d in yaml.safe_load_all(generated.read_text()) if d]
    groups = rules if plain else rules["spec"]
    assert _promtool_ok(_write(tmp_path / "groups.yaml", [groups])) > 0
    alerts = [r for g in groups["groups"] for r in g["rules"] if "alert" in r]
    assert {a["labels"]["severity"] for a in alerts} == {"page", "ticket"}


def test_sloth_refuses_a_broken_spec(
    slos_by_tier: dict[str, list[base.Slo]], tmp_path: pathlib.Path
) -> None:
    [doc] = _render(slos_by_tier["balanced"], "sloth", plain=True)
    broken = copy.deepcopy(doc)
    broken["slos"][0]["sli"]["events"]["error_query"] = "sum(rate(x[5m]))"  # no {{.window}}
    done = peertools.run(
        "sloth", "validate", "--no-color", "-i", _write(tmp_path / "b.yaml", [broken])
    )
    assert done.returncode != 0
    assert "window" in done.stderr


# --- OpenSLO -------------------------------------------------------------------------------------


@pytest.mark.parametrize("tier", base.TIERS)
def test_oslo_validates_every_openslo_export(
    tier: str, slos_by_tier: dict[str, list[base.Slo]], tmp_path: pathlib.Path
) -> None:
    docs = _render(slos_by_tier[tier], "openslo")
    assert len(docs) == 2
    done = peertools.run("oslo", "validate", "-f", _write(tmp_path / "slo.yaml", docs))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Valid!" in done.stdout


def test_oslo_refuses_a_percent_target(
    slos_by_tier: dict[str, list[base.Slo]], tmp_path: pathlib.Path
) -> None:
    [doc, _] = _render(slos_by_tier["balanced"], "openslo")
    broken = copy.deepcopy(doc)
    broken["spec"]["objectives"][0]["target"] = 99.5  # OpenSLO wants a ratio
    done = peertools.run("oslo", "validate", "-f", _write(tmp_path / "b.yaml", [broken]))
    assert done.returncode != 0
    assert "Target" in done.stdout + done.stderr


# --- the real apiserver with the peers' CRDs ---------------------------------------------------

#: Each CRD-backed format: its CRD file in bin/crds and the resource path of its objects.
CRD_FORMATS = {
    "prometheus-rule": (
        "monitoring.coreos.com_prometheusrules.yaml",
        "/apis/monitoring.coreos.com/v1/namespaces/{ns}/prometheusrules",
    ),
    "sloth": (
        "sloth.slok.dev_prometheusservicelevels.yaml",
        "/apis/sloth.slok.dev/v1/namespaces/{ns}/prometheusservicelevels",
    ),
}


@pytest.fixture(scope="module")
def peer_crds(controlplane: cplane.ControlPlane) -> None:
    """The Prometheus Operator's and Sloth's CRDs, as their modules publish them."""
    cplane.apply_crds(controlplane, [peertools.crd(name) for name, _ in CRD_FORMATS.values()])


@pytest.mark.usefixtures("peer_crds")
@pytest.mark.parametrize("fmt", list(CRD_FORMATS))
@pytest.mark.parametrize("tier", base.TIERS)
def test_apiserver_accepts_every_export(
    fmt: str,
    tier: str,
    slos_by_tier: dict[str, list[base.Slo]],
    kube_api: httpx.Client,
    namespace: str,
) -> None:
    path = CRD_FORMATS[fmt][1].format(ns=namespace)
    for doc in _render(slos_by_tier[tier], fmt):
        response = kube_api.post(path, json=doc, params=STRICT_DRY_RUN)
        assert response.status_code == 201, response.text
        assert not response.headers.get("Warning"), response.headers.get("Warning")
        assert response.json()["spec"] == doc["spec"]  # nothing pruned or defaulted away


@pytest.mark.usefixtures("peer_crds")
@pytest.mark.parametrize("fmt", list(CRD_FORMATS))
def test_apiserver_refuses_an_unknown_field(
    fmt: str, slos_by_tier: dict[str, list[base.Slo]], kube_api: httpx.Client, namespace: str
) -> None:
    [doc] = _render(slos_by_tier["balanced"], fmt)
    broken = copy.deepcopy(doc)
    broken["spec"]["objectiveTypo"] = "99.9"
    response = kube_api.post(
        CRD_FORMATS[fmt][1].format(ns=namespace), json=broken, params=STRICT_DRY_RUN
    )
    assert response.status_code in {400, 422}, response.text
    assert "objectiveTypo" in response.text
