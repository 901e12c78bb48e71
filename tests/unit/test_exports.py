"""``render.exports`` and ``sloreco export``: every format, its numbers, determinism, bad input.

The peers' own validators (promtool, sloth, oslo, the apiserver with their CRDs) check the same
documents in ``tests/integration/test_exports_peers.py``; here the numbers and names are checked
against the recommendation they came from.
"""

from __future__ import annotations

import json
import pathlib
from decimal import Decimal
from typing import Any

import pytest
import yaml

from sloreco.cli import main as cli
from sloreco.controller import children
from sloreco.render import crd, exports
from sloreco.render.exports import base, document, prometheusrule
from tests import factories

TOTAL = 'http_requests_total{service="checkout"}'
ERRORS = 'http_requests_total{service="checkout",code=~"5.."}'
HISTOGRAM = 'http_request_duration_seconds_bucket{service="checkout"}'
SELECTORS = ("--total", TOTAL, "--errors", ERRORS, "--histogram", HISTOGRAM)


@pytest.fixture(scope="module")
def specs() -> dict[str, dict[str, Any]]:
    """One availability and one latency recommendation spec, as ``recommend`` prints them."""
    availability = factories.recommend_availability(
        factories.synthetic_availability(days=35, error_ratio=0.002),
        window_seconds=28 * 86400,
        seed=1,
    )
    latency = factories.recommend_latency(
        factories.synthetic_latency(days=35, requests_per_bucket=200),
        percentile=Decimal(99),
        window_seconds=28 * 86400,
        seed=1,
    )
    return {r.sli: crd.recommendation_spec(r) for r in (availability, latency)}


@pytest.fixture
def rec_file(tmp_path: pathlib.Path, specs: dict[str, dict[str, Any]]) -> str:
    path = tmp_path / "rec.json"
    doc = {"service": "checkout", "recommendations": list(specs.values())}
    path.write_text(json.dumps(doc), encoding="utf-8")
    return str(path)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(["export", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _export(capsys: pytest.CaptureFixture[str], rec: str, fmt: str, *extra: str) -> list[Any]:
    code, out, err = _run(
        capsys, "--recommendation", rec, "--tier", "balanced", "--format", fmt, *SELECTORS, *extra
    )
    assert (code, err) == (0, "")
    return list(yaml.safe_load_all(out))


def _tier(spec: dict[str, Any], name: str = "balanced") -> dict[str, Any]:
    return next(t for t in spec["tiers"] if t["name"] == name)


# --- each format -------------------------------------------------------------------------------


def test_prometheus_rule_has_workbook_burn_rates_at_the_tiers_budget(
    capsys: pytest.CaptureFixture[str], rec_file: str, specs: dict[str, dict[str, Any]]
) -> None:
    [rule] = _export(capsys, rec_file, "prometheus-rule", "--namespace", "shop")
    assert (rule["apiVersion"], rule["kind"]) == ("monitoring.coreos.com/v1", "PrometheusRule")
    assert rule["metadata"]["namespace"] == "shop"
    assert rule["metadata"]["labels"]["sloreco.dev/tier"] == "balanced"
    groups = {g["name"]: g["rules"] for g in rule["spec"]["groups"]}
    assert list(groups) == [
        "sloreco-checkout-availability-sli",
        "sloreco-checkout-availability-alerts",
        "sloreco-checkout-latency-sli",
        "sloreco-checkout-latency-alerts",
    ]
    records = [r["record"] for r in groups["sloreco-checkout-availability-sli"]]
    assert records == [f"sloreco:sli_error:ratio_rate{w}" for w in base.rate_windows()]
    assert base.rate_windows() == ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
    budget = (Decimal(100) - Decimal(_tier(specs["availability"])["target"])) / 100
    alerts = {
        r["labels"]["severity"]: r
        for r in groups["sloreco-checkout-availability-alerts"]
        if "alert" in r
    }
    assert set(alerts) == {"page", "ticket"}
    page = alerts["page"]["expr"]
    for long, short, factor in (("1h", "5m", "14.4"), ("6h", "30m", "6")):
        for window in (long, short):
            assert (
                f'sloreco:sli_error:ratio_rate{window}{{sloreco_slo="checkout-availability"}} '
                f"> ({factor} * {base.number(budget)})"
            ) in page
    ticket = alerts["ticket"]["expr"]
    assert "ratio_rate1d" in ticket
    assert "(3 * " in ticket
    assert "ratio_rate3d" in ticket
    assert "(1 * " in ticket
    assert "ratio_rate1h" not in ticket
    objective = groups["sloreco-checkout-availability-alerts"][0]
    assert objective["expr"] == f"vector({base.number(1 - budget)})"


def test_latency_rules_measure_the_tiers_bucket_bound(
    capsys: pytest.CaptureFixture[str], rec_file: str, specs: dict[str, dict[str, Any]]
) -> None:
    [rule] = _export(capsys, rec_file, "prometheus-rule", "--sli", "latency")
    bound = _tier(specs["latency"])["bucketBound"]
    [five] = [r for r in rule["spec"]["groups"][0]["rules"] if r["record"].endswith("rate5m")]
    inf = 'http_request_duration_seconds_bucket{service="checkout",le="+Inf"}'
    good = f'http_request_duration_seconds_bucket{{service="checkout",le="{bound}"}}'
    assert five["expr"] == (
        f"(sum(rate({inf}[5m])) - sum(rate({good}[5m]))) / sum(rate({inf}[5m]))"
    )


def test_pyrra_one_object_per_sli(
    capsys: pytest.CaptureFixture[str], rec_file: str, specs: dict[str, dict[str, Any]]
) -> None:
    ratio, latency = _export(capsys, rec_file, "pyrra")
    assert ratio["kind"] == "ServiceLevelObjective"
    assert ratio["apiVersion"] == "pyrra.dev/v1alpha1"
    assert ratio["metadata"]["name"] == "checkout-availability"
    assert ratio["spec"]["target"] == base.number(Decimal(_tier(specs["availability"])["target"]))
    assert ratio["spec"]["window"] == "28d"
    assert ratio["spec"]["indicator"] == {
        "ratio": {"errors": {"metric": ERRORS}, "total": {"metric": TOTAL}}
    }
    bound = _tier(specs["latency"])["bucketBound"]
    assert latency["spec"]["indicator"]["latency"] == {
        "success": {
            "metric": f'http_request_duration_seconds_bucket{{service="checkout",le="{bound}"}}'
        },
        "total": {"metric": 'http_request_duration_seconds_count{service="checkout"}'},
    }


def test_sloth_kubernetes_and_plain_say_the_same(
    capsys: pytest.CaptureFixture[str], rec_file: str, specs: dict[str, dict[str, Any]]
) -> None:
    [obj] = _export(capsys, rec_file, "sloth")
    [plain] = _export(capsys, rec_file, "sloth", "--plain")
    assert obj["kind"] == "PrometheusServiceLevel"
    assert obj["apiVersion"] == "sloth.slok.dev/v1"
    assert plain["version"] == "prometheus/v1"
    assert plain["service"] == obj["spec"]["service"]
    [k8s_slo, _] = obj["spec"]["slos"]
    [plain_slo, _] = plain["slos"]
    assert (
        k8s_slo["objective"]
        == plain_slo["objective"]
        == float(Decimal(_tier(specs["availability"])["target"]))
    )
    assert k8s_slo["sli"]["events"]["errorQuery"] == plain_slo["sli"]["events"]["error_query"]
    assert "{{.window}}" in plain_slo["sli"]["events"]["total_query"]
    assert plain_slo["alerting"]["page_alert"] == {"labels": {"severity": "page"}}


def test_openslo_target_is_a_ratio(
    capsys: pytest.CaptureFixture[str], rec_file: str, specs: dict[str, dict[str, Any]]
) -> None:
    slo, latency = _export(capsys, rec_file, "openslo")
    assert (slo["apiVersion"], slo["kind"]) == ("openslo/v1", "SLO")
    [objective] = slo["spec"]["objectives"]
    assert objective == {
        "displayName": "balanced",
        "target": float(Decimal(_tier(specs["availability"])["target"]) / 100),
    }
    assert slo["spec"]["timeWindow"] == [{"duration": "28d", "isRolling": True}]
    ratio = slo["spec"]["indicator"]["spec"]["ratioMetric"]
    assert ratio["bad"]["metricSource"]["spec"]["query"] == ERRORS
    assert "good" in latency["spec"]["indicator"]["spec"]["ratioMetric"]


def test_same_input_same_bytes_and_rules_file_is_the_objects_spec(
    capsys: pytest.CaptureFixture[str], rec_file: str
) -> None:
    for fmt in exports.FORMATS:
        first = _run(
            capsys,
            "--recommendation",
            rec_file,
            "--tier",
            "aggressive",
            "--format",
            fmt,
            *SELECTORS,
        )
        second = _run(
            capsys,
            "--recommendation",
            rec_file,
            "--tier",
            "aggressive",
            "--format",
            fmt,
            *SELECTORS,
        )
        assert first == second
        assert first[0] == 0
    [rule] = _export(capsys, rec_file, "prometheus-rule")
    [plain] = _export(capsys, rec_file, "prometheus-rule", "--plain")
    assert plain == rule["spec"]


def test_a_slorecommendation_object_names_itself(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path, specs: dict[str, dict[str, Any]]
) -> None:
    spec = children.child_spec(
        parent_name="checkout-sl",
        service="checkout",
        recommendation=specs["availability"],
        generated_at=1717200000,
        ttl_seconds=172800,
    )
    parent = {
        "apiVersion": "sloreco.dev/v1alpha1",
        "kind": "ServiceLevel",
        "metadata": {"name": "checkout-sl", "namespace": "shop", "uid": "u1"},
    }
    obj = children.manifest(parent, spec=spec, generation=1, name="checkout-sl-availability-abc")
    path = tmp_path / "rec.yaml"
    path.write_text(yaml.safe_dump(obj), encoding="utf-8")
    [slo] = _export(capsys, str(path), "pyrra")
    assert slo["metadata"]["name"] == "checkout-sl-availability"
    annotations = slo["metadata"]["annotations"]
    assert annotations["sloreco.dev/recommendation"] == "checkout-sl-availability-abc"
    assert "checkout availability" in slo["spec"]["description"]


# --- bad input: exit 2 and one line ------------------------------------------------------------


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"bucket": "1h", "availability": []}, "recommendations"),
        ({"recommendations": []}, "recommendations"),
        ({"kind": "ServiceLevel", "apiVersion": "sloreco.dev/v1alpha1"}, "kind"),
        ({"recommendations": [{"sli": "freshness"}]}, "sli"),
        ({"recommendations": [{"sli": "availability", "window": "28d", "tiers": []}]}, "--tier"),
        (
            {
                "recommendations": [
                    {
                        "sli": "availability",
                        "window": "28d",
                        "tiers": [{"name": "balanced", "target": "100"}],
                    }
                ]
            },
            "availability.tiers[balanced].target",
        ),
        ([1, 2], None),
    ],
)
def test_not_a_recommendation(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path, doc: object, field: str | None
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    code, out, err = _run(
        capsys,
        "--recommendation",
        str(path),
        "--tier",
        "balanced",
        "--format",
        "pyrra",
        "--name",
        "x",
        *SELECTORS,
    )
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert err.startswith("sloreco: ")
    if field is not None:
        assert err.startswith(f"sloreco: {field}: ")


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (("--tier", "gold", "--format", "pyrra"), "invalid choice: 'gold'"),
        (("--tier", "balanced", "--format", "nagios"), "invalid choice: 'nagios'"),
        (("--tier", "balanced", "--format", "pyrra", "--plain"), "sloreco: --plain: pyrra has no"),
        (("--tier", "balanced", "--format", "pyrra", "--name", "Not_A_Name"), "sloreco: --name: "),
    ],
)
def test_bad_flags(
    capsys: pytest.CaptureFixture[str], rec_file: str, extra: tuple[str, ...], expected: str
) -> None:
    code: object
    try:
        code = cli.main(["export", "--recommendation", rec_file, *extra, *SELECTORS])
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    captured = capsys.readouterr()
    assert (code, captured.out) == (2, "")
    assert captured.err.count("\n") == 1
    assert expected in captured.err


def test_missing_or_wrong_selectors_are_named(
    capsys: pytest.CaptureFixture[str], rec_file: str
) -> None:
    code, _, err = _run(
        capsys,
        "--recommendation",
        rec_file,
        "--tier",
        "balanced",
        "--format",
        "sloth",
        "--total",
        TOTAL,
        "--errors",
        ERRORS,
    )
    assert code == 2
    assert err.startswith("sloreco: --histogram: the latency export needs")
    code, _, err = _run(
        capsys,
        "--recommendation",
        rec_file,
        "--tier",
        "balanced",
        "--format",
        "sloth",
        "--sli",
        "latency",
        "--histogram",
        HISTOGRAM.replace("}", ',le="0.5"}'),
    )
    assert code == 2
    assert err.startswith("sloreco: --histogram: must not match on le")
    code, _, err = _run(
        capsys,
        "--recommendation",
        rec_file,
        "--tier",
        "balanced",
        "--format",
        "sloth",
        "--sli",
        "availability",
        "--total",
        "sum(x)",
        "--errors",
        ERRORS,
    )
    assert code == 2
    assert err.startswith("sloreco: --total: ")
    code, _, err = _run(
        capsys,
        "--recommendation",
        "/nonexistent.json",
        "--tier",
        "balanced",
        "--format",
        "sloth",
    )
    assert code == 2
    assert err.startswith("sloreco: --recommendation: cannot read")


# --- the protocol ------------------------------------------------------------------------------


def test_every_format_is_registered_under_its_name() -> None:
    assert list(exports.FORMATS) == ["prometheus-rule", "pyrra", "sloth", "openslo"]
    for name, fmt in exports.FORMATS.items():
        assert fmt.name == name


def test_objective_budget_is_exact() -> None:
    spec = {
        "sli": "availability",
        "window": "7d",
        "tiers": [{"name": "balanced", "target": "99.95"}],
    }
    objective = document.objective(spec, tier="balanced")
    assert objective.budget == Decimal("0.0005")
    assert objective.ratio == Decimal("0.9995")
    expr = prometheusrule.alert_expr(base.PAGE, "x", base.number(objective.budget))
    assert "(14.4 * 0.0005)" in expr
    assert "(6 * 0.0005)" in expr
