"""The Grafana dashboard (``deploy/grafana/sloreco.json``) reads only series that exist.

Every ``sloreco_*`` metric a panel queries is one the operator exports (``runtime.metrics``), and
every ``sloreco:*`` series is one the exported rules record; the PromQL itself is parsed by
Prometheus in ``tests/integration/test_grafana_promql.py``.
"""

from __future__ import annotations

import json
import pathlib
import re
from typing import Any

import prometheus_client
import yaml

from sloreco.render.exports import base, prometheusrule
from sloreco.runtime import metrics

ROOT = pathlib.Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "sloreco.json"


def dashboard() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return doc


def expressions() -> list[str]:
    return [t["expr"] for p in dashboard()["panels"] for t in p.get("targets", [])]


def test_every_operator_metric_queried_is_exported() -> None:
    exported = set()
    for collector in (
        metrics.RECONCILES,
        metrics.RECONCILE_SECONDS,
        metrics.QUERY_SECONDS,
        metrics.SOURCE_ERRORS,
        metrics.TARGET,
    ):
        for family in collector.describe():
            exported.update({family.name, f"{family.name}_total", f"{family.name}_bucket"})
    queried = {m for e in expressions() for m in re.findall(r"\bsloreco_[a-z_]+\b", e)}
    queried -= {"sloreco_slo", "sloreco_tier", "sloreco_service", "sloreco_sli"}  # labels
    assert queried
    assert queried <= exported, queried - exported
    assert isinstance(metrics.TARGET, prometheus_client.Gauge)


def test_every_recorded_series_queried_is_recorded_by_the_exports() -> None:
    recorded = {prometheusrule.RATIO.format(window=w) for w in base.rate_windows()}
    recorded |= {prometheusrule.OBJECTIVE, prometheusrule.BUDGET}
    queried = {m for e in expressions() for m in re.findall(r"\bsloreco:[a-z_:0-9]+", e)}
    assert queried
    assert queried <= recorded, queried - recorded
    assert any(prometheusrule.ALERT in e for e in expressions())


def test_panels_use_the_datasource_variable_and_fit_the_grid() -> None:
    doc = dashboard()
    assert doc["uid"] == "sloreco-overview"
    cells: set[tuple[int, int]] = set()
    for panel in doc["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        mine = {
            (x, y)
            for x in range(pos["x"], pos["x"] + pos["w"])
            for y in range(pos["y"], pos["y"] + pos["h"])
        }
        assert not cells & mine, f"{panel['title']} overlaps another panel"
        cells |= mine
        if panel["type"] != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            assert panel["description"]
    names = [v["name"] for v in doc["templating"]["list"]]
    assert names == ["datasource", "namespace", "service_level"]


def test_the_kustomization_labels_it_for_the_grafana_sidecar() -> None:
    kustomization = yaml.safe_load((DASHBOARD.parent / "kustomization.yaml").read_text())
    assert kustomization["generatorOptions"]["labels"] == {"grafana_dashboard": "1"}
    [generator] = kustomization["configMapGenerator"]
    assert generator["files"] == [DASHBOARD.name]
