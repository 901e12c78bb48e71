"""Admission against the real API server: the CRD schemas and CEL rules accept and reject.

The CRDs are the first line of defence (SPEC §2.1): a bad ServiceLevel must be refused at
``kubectl apply`` with a message naming the field, not discovered later by the operator. Only
the real kube-apiserver evaluates structural schemas, defaults, formats and CEL the way a cluster
does (including CEL's cost limits, which reject a CRD outright), so these tests run against it.
Each test pins one behaviour and the exact cause the API server reports.

Requests use ``fieldValidation=Strict``, as ``kubectl apply --validate=strict`` does; without it an
unknown field is silently pruned rather than rejected.
"""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from sloreco import api, errors
from sloreco.spec import model as spec
from sloreco.testing import controlplane as cplane
from tests import factories

pytestmark = pytest.mark.integration

SAMPLES = Path(__file__).resolve().parents[2] / "deploy" / "samples"
STRICT = {"fieldValidation": "Strict"}
#: The API server adds this cause whenever a type error stopped it before the CEL rules.
CEL_SKIPPED = (
    "<nil>",
    "Invalid value: null: some validation rules were not checked because the object was "
    "invalid; correct the existing errors to complete validation",
)

Obj = dict[str, Any]


def service_level(name: str = "checkout", **fields: Any) -> Obj:
    """The one builder (tests.factories) for the checkout service, with ``fields`` (None removes
    one)."""
    return factories.service_level(name, service="checkout", **fields)


def recommendation(name: str = "checkout-availability-0123456789") -> Obj:
    def tier(tier_name: str, target: str) -> Obj:
        return {
            "name": tier_name,
            "summary": f"{target}%",
            "target": target,
            "breachProbability": "0.01",
            "confidenceInterval": {"level": "90", "lower": "99.81", "upper": "99.93"},
            "errorBudget": {"badEventsPerWindow": 12000, "outageMinutesPerWindow": "52.41"},
            "capped": False,
        }

    return {
        "apiVersion": api.API_VERSION,
        "kind": "SloRecommendation",
        "metadata": {"name": name},
        "spec": {
            "serviceLevel": "checkout",
            "service": "checkout",
            "sli": "availability",
            "generatedAt": "2024-05-01T00:00:00Z",
            "expiresAt": "2099-05-03T00:00:00Z",
            "lookback": {"start": "2024-02-01T00:00:00Z", "end": "2024-05-01T00:00:00Z"},
            "window": "28d",
            "tiers": [
                tier("conservative", "99.81"),
                tier("balanced", "99.87"),
                tier("aggressive", "99.91"),
            ],
            "explanation": {"summary": "Steady.", "incidents": [{"share": "0.4"}]},
            "dataQuality": {"coverage": "99.5", "gaps": []},
            "backtest": {"balanced": {"evaluations": 8, "breaches": 0}},
            "method": {"name": "incident-predictive", "version": "2"},
        },
    }


def collection(namespace: str, plural: str) -> str:
    return f"/apis/{api.API_VERSION}/namespaces/{namespace}/{plural}"


def create(client: httpx.Client, namespace: str, body: Obj) -> httpx.Response:
    plural = api.SERVICELEVELS if body["kind"] == "ServiceLevel" else api.RECOMMENDATIONS
    return client.post(collection(namespace, plural), params=STRICT, json=body)


def created(client: httpx.Client, namespace: str, body: Obj) -> Obj:
    response = create(client, namespace, body)
    assert response.status_code == 201, response.text
    stored: Obj = response.json()
    return stored


def causes(response: httpx.Response) -> list[tuple[str, str]]:
    """``(field, message)`` of every cause of a 422, in the server's order."""
    assert response.status_code == 422, response.text
    status = response.json()
    return [(c.get("field", ""), c["message"]) for c in status["details"]["causes"]]


# --- accepted -----------------------------------------------------------------------------------


def test_minimal_service_level_gets_the_documented_defaults(
    kube_api: httpx.Client, namespace: str
) -> None:
    stored = created(
        kube_api,
        namespace,
        service_level(
            latency={"histogram": 'http_request_duration_seconds_bucket{service="checkout"}'},
            dependencies=[{"serviceLevel": "payments"}],
        ),
    )
    assert stored["spec"] == {
        "service": "checkout",
        "source": "default",
        "availability": {
            "totalQuery": 'http_requests_total{service="checkout"}',
            "errorQuery": 'http_requests_total{service="checkout",code=~"5.."}',
        },
        "latency": {
            "histogram": 'http_request_duration_seconds_bucket{service="checkout"}',
            "percentile": "99",
        },
        "window": "28d",
        "lookback": "90d",
        "refreshInterval": "24h",
        "recommendationTTL": "48h",
        "dependencies": [{"serviceLevel": "payments", "type": "hard"}],
        "historyLimit": 10,
    }


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("*.yaml")), ids=lambda p: p.stem)
def test_sample_is_accepted_with_the_parser_defaults(
    kube_api: httpx.Client, namespace: str, path: Path
) -> None:
    # The server's defaults (nested ones included) and sloreco.spec.model's give the same values.
    sample = yaml.safe_load(path.read_text())
    stored = created(kube_api, namespace, sample)
    assert spec.parse_service_level_spec(stored["spec"]) == spec.parse_service_level_spec(
        sample["spec"]
    )


@pytest.mark.parametrize(
    ("refresh", "ttl"),
    [("1d", "1441m"), ("1w", "7d1s"), ("1h30m", "5401s"), ("1y", "53w"), ("59m60s", "1h1s")],
)
def test_ttl_longer_than_refresh_in_any_units_is_accepted(
    kube_api: httpx.Client, namespace: str, refresh: str, ttl: str
) -> None:
    created(kube_api, namespace, service_level(refreshInterval=refresh, recommendationTTL=ttl))


# --- rejected, with the field named ------------------------------------------------------------


def test_malformed_duration_is_rejected(kube_api: httpx.Client, namespace: str) -> None:
    response = create(kube_api, namespace, service_level(window="4 weeks"))
    assert causes(response) == [
        (
            "spec.window",
            'Invalid value: "4 weeks": spec.window in body should match '
            "'^([0-9]+y)?([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?$'",
        )
    ]


def test_zero_duration_is_rejected(kube_api: httpx.Client, namespace: str) -> None:
    response = create(kube_api, namespace, service_level(lookback="0d"))
    assert ("spec.lookback", 'Invalid value: "0d": must be at least 1d') in causes(response)


#: Issue 10's hostile specs: each took the operator down for every tenant, or never got a status.
#: The API server itself must refuse every one, naming the field and the limit.
HOSTILE = [
    ({"lookback": "10000y"}, "spec.lookback", "must be at most 400d"),
    ({"lookback": "9999999999999999999d"}, "spec.lookback", "must be at most 400d"),
    ({"window": "100y"}, "spec.window", "must be at most 400d"),
    ({"window": "10000y"}, "spec.window", "must be at most 400d"),
    ({"recommendationTTL": "10000y"}, "spec.recommendationTTL", "must be at most 400d"),
    (
        {"recommendationTTL": "9999999999999999999d"},
        "spec.recommendationTTL",
        "must be at most 400d",
    ),
    ({"lookback": "30m"}, "spec.lookback", "must be at least 1d"),
    ({"lookback": "1h30m"}, "spec.lookback", "must be at least 1d"),
    ({"lookback": "1d12h"}, "spec.lookback", "must be whole days, like 28d or 90d"),
    (
        {"refreshInterval": "1s", "recommendationTTL": "2s"},
        "spec.refreshInterval",
        "must be at least 5m",
    ),
]


@pytest.mark.parametrize(
    ("fields", "field", "message"), HOSTILE, ids=lambda v: str(v) if isinstance(v, dict) else ""
)
def test_unbounded_durations_are_rejected_by_the_api_server(
    kube_api: httpx.Client, namespace: str, fields: Obj, field: str, message: str
) -> None:
    response = create(kube_api, namespace, service_level(**fields))
    value = fields[field.removeprefix("spec.")]
    assert (field, f'Invalid value: "{value}": {message}') in causes(response)
    # The parser says the same about the same field (one source of truth: spec/bounds.py).
    with pytest.raises(errors.InputError) as parsed:
        spec.parse_service_level_spec(service_level(**fields)["spec"])
    assert f"{field}: {message}" in str(parsed.value)


def test_a_fleet_that_is_not_a_dns_label_is_rejected(
    kube_api: httpx.Client, namespace: str
) -> None:
    response = create(kube_api, namespace, service_level(fleet="Databases_EU"))
    assert [field for field, _ in causes(response)] == ["spec.fleet"]
    with pytest.raises(errors.InputError, match=r"^spec\.fleet: must be a DNS label"):
        spec.parse_service_level_spec(service_level(fleet="Databases_EU")["spec"])


def test_window_longer_than_lookback_is_rejected(kube_api: httpx.Client, namespace: str) -> None:
    response = create(kube_api, namespace, service_level(window="100d"))
    assert causes(response) == [
        ("spec.window", "Invalid value: must not be longer than lookback (90d), got 100d")
    ]


@pytest.mark.parametrize(
    ("selector", "why"),
    [
        ('sum{job="x"}', "the metric name is a PromQL keyword"),
        ('SUM {job="x"}', "the metric name is a PromQL keyword"),
        ('{__name__=~".+"}', "must be a selector that starts with a metric name, like http_"),
        ('{service="x"}', "must be a selector that starts with a metric name"),
        (
            'sum(rate(http_requests_total{service="x"}[5m]))',
            'like http_requests_total{service="x"}, not an expression (sloreco computes '
            "sum(increase(...)) itself)",
        ),
    ],
)
def test_selectors_without_a_metric_name_are_rejected(
    kube_api: httpx.Client, namespace: str, selector: str, why: str
) -> None:
    availability = {"totalQuery": selector, "errorQuery": 'http_requests_total{code="500"}'}
    response = create(kube_api, namespace, service_level(availability=availability))
    ((field, message),) = [c for c in causes(response) if c != CEL_SKIPPED]
    assert (field, why in message) == ("spec.availability.totalQuery", True)
    expected = r"spec\.availability\.totalQuery: must be a selector"
    with pytest.raises(errors.InputError, match=expected):
        spec.parse_service_level_spec(service_level(availability=availability)["spec"])


def test_a_histogram_selector_must_name_the_bucket_series(
    kube_api: httpx.Client, namespace: str
) -> None:
    latency = {"histogram": 'http_request_duration_seconds{service="x"}'}
    response = create(kube_api, namespace, service_level(latency=latency))
    assert causes(response) == [
        (
            "spec.latency.histogram",
            'Invalid value: "http_request_duration_seconds{service=\\"x\\"}": must select a '
            'histogram\'s _bucket series, like http_request_duration_seconds_bucket{service="x"}',
        )
    ]


def test_a_very_long_name_is_accepted_and_its_children_are_listable(
    kube_api: httpx.Client, namespace: str
) -> None:
    """The children's label carries a hash of a long parent name (label values are <= 63)."""
    name = "a" * 60 + ".b" * 40
    created(kube_api, namespace, service_level(name))
    label = f"{api.LABEL_SERVICE_LEVEL}={api.service_level_label(name)}"
    listed = kube_api.get(
        f"/apis/{api.API_VERSION}/namespaces/{namespace}/{api.RECOMMENDATIONS}",
        params={"labelSelector": label},
    )
    assert (listed.status_code, listed.json()["items"]) == (200, [])


def test_target_written_as_a_number_is_rejected(kube_api: httpx.Client, namespace: str) -> None:
    response = create(kube_api, namespace, service_level(currentObjective={"availability": 99.9}))
    assert causes(response) == [
        (
            "spec.currentObjective.availability",
            'Invalid value: "number": spec.currentObjective.availability in body must be of '
            'type string: "number"',
        ),
        CEL_SKIPPED,
    ]


@pytest.mark.parametrize(
    ("refresh", "ttl"),
    [("24h", "12h"), ("24h", "1d"), ("1d", "1440m"), ("1h30m", "5400s"), ("1w", "6d23h")],
)
def test_ttl_not_longer_than_refresh_is_rejected(
    kube_api: httpx.Client, namespace: str, refresh: str, ttl: str
) -> None:
    response = create(
        kube_api, namespace, service_level(refreshInterval=refresh, recommendationTTL=ttl)
    )
    assert causes(response) == [
        (
            "spec.recommendationTTL",
            f"Invalid value: must be longer than refreshInterval ({refresh}), got {ttl}",
        )
    ]


def test_unknown_field_is_rejected_under_strict_validation(
    kube_api: httpx.Client, namespace: str
) -> None:
    response = create(kube_api, namespace, service_level(windows="28d"))
    assert (response.status_code, response.json()["message"]) == (
        400,
        'ServiceLevel in version "v1alpha1" cannot be handled as a ServiceLevel: '
        'strict decoding error: unknown field "spec.windows"',
    )


@pytest.mark.parametrize("percentile", ["100", "49.999", "99.9991"])
def test_percentile_out_of_range_is_rejected(
    kube_api: httpx.Client, namespace: str, percentile: str
) -> None:
    response = create(
        kube_api,
        namespace,
        service_level(latency={"histogram": "h_bucket", "percentile": percentile}),
    )
    assert causes(response) == [
        (
            "spec.latency.percentile",
            f'Invalid value: "{percentile}": must be between 50 and 99.999',
        )
    ]


def test_percentile_written_as_a_number_is_told_to_quote_it(
    kube_api: httpx.Client, namespace: str
) -> None:
    response = create(
        kube_api, namespace, service_level(latency={"histogram": "h_bucket", "percentile": 95})
    )
    assert causes(response) == [
        (
            "spec.latency.percentile",
            'Invalid value: 95: must be a string: quote the number, like percentile: "95"',
        )
    ]


def test_malformed_percentile_gets_only_the_pattern_error(
    kube_api: httpx.Client, namespace: str
) -> None:
    response = create(
        kube_api, namespace, service_level(latency={"histogram": "h_bucket", "percentile": "p99"})
    )
    assert causes(response) == [
        (
            "spec.latency.percentile",
            'Invalid value: "p99": must be a decimal like "99.9"',
        )
    ]


def test_neither_availability_nor_latency_is_rejected(
    kube_api: httpx.Client, namespace: str
) -> None:
    response = create(kube_api, namespace, service_level(availability=None))
    assert causes(response) == [
        ("spec", "Invalid value: at least one of availability or latency is required")
    ]


def test_external_dependency_without_availability_is_rejected(
    kube_api: httpx.Client, namespace: str
) -> None:
    response = create(kube_api, namespace, service_level(dependencies=[{"external": "stripe"}]))
    assert causes(response) == [
        ("spec.dependencies[0].availability", "Required value: required for an external dependency")
    ]


def test_dependency_naming_both_kinds_is_rejected(kube_api: httpx.Client, namespace: str) -> None:
    response = create(
        kube_api,
        namespace,
        service_level(
            dependencies=[{"serviceLevel": "payments", "external": "stripe", "availability": "99"}]
        ),
    )
    assert causes(response) == [
        (
            "spec.dependencies[0]",
            "Invalid value: exactly one of serviceLevel or external is required",
        ),
        (
            "spec.dependencies[0].availability",
            "Forbidden: only for an external dependency (a ServiceLevel's availability is "
            "observed)",
        ),
    ]


def test_exclusion_ending_before_it_starts_is_rejected(
    kube_api: httpx.Client, namespace: str
) -> None:
    # 03:00+02:00 is 01:00Z, an hour before the start: the rule compares instants, not text.
    exclusion = {
        "start": "2024-05-01T02:00:00Z",
        "end": "2024-05-01T03:00:00+02:00",
        "reason": "failover test",
    }
    response = create(kube_api, namespace, service_level(exclusions=[exclusion]))
    assert causes(response) == [("spec.exclusions[0].end", "Invalid value: must be after start")]


def test_selector_that_is_an_expression_is_rejected(kube_api: httpx.Client, namespace: str) -> None:
    response = create(
        kube_api,
        namespace,
        service_level(availability={"totalQuery": "sum(rate(x[5m]))", "errorQuery": "x"}),
    )
    assert causes(response) == [
        (
            "spec.availability.totalQuery",
            'Invalid value: "sum(rate(x[5m]))": must be a selector that starts with a metric '
            'name, like http_requests_total{service="x"}, not an expression (sloreco computes '
            "sum(increase(...)) itself)",
        )
    ]


# --- the status the operator writes ------------------------------------------------------------


def test_operator_status_is_stored_without_pruning(kube_api: httpx.Client, namespace: str) -> None:
    stored = created(kube_api, namespace, service_level())
    status = {
        "observedGeneration": 1,
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "reason": "RecommendationsCurrent",
                "message": "Every SLI has a current one.",
                "lastTransitionTime": "2024-05-01T00:00:05Z",
                "observedGeneration": 1,
            }
        ],
        "recommendations": [
            {
                "sli": "availability",
                "name": "checkout-availability-0123456789",
                "generatedAt": "2024-05-01T00:00:00Z",
                "expiresAt": "2024-05-03T00:00:00Z",
                "tiers": [
                    {"name": "conservative", "target": "99.81"},
                    {"name": "balanced", "target": "99.87"},
                    {"name": "aggressive", "target": "99.91"},
                ],
                "superseded": [
                    {
                        "name": "checkout-availability-9876543210",
                        "generatedAt": "2024-04-30T00:00:00Z",
                        "state": "Superseded",
                    }
                ],
            }
        ],
        "observed": [
            {
                "sli": "availability",
                "coverage": "99.5",
                "daysAnalysed": "90",
                "worst": "99.71",
                "median": "99.9",
                "best": "99.97",
                "lowConfidence": False,
            }
        ],
        "ceiling": "99.95",
    }
    url = f"{collection(namespace, api.SERVICELEVELS)}/{stored['metadata']['name']}/status"
    response = kube_api.patch(
        url,
        params=STRICT,
        json={"status": status},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == status


# --- SloRecommendation --------------------------------------------------------------------------


def test_recommendation_spec_is_stored_as_written(kube_api: httpx.Client, namespace: str) -> None:
    # The operator compares content (and names children by its hash): nothing may be pruned,
    # defaulted or reformatted, including the free-form parts and their nulls.
    body = recommendation()
    body["spec"]["explanation"]["dependencies"] = [{"name": "db", "budgetShare": {"x": None}}]
    stored = created(kube_api, namespace, body)
    assert stored["spec"] == body["spec"]


def test_recommendation_spec_cannot_be_changed(kube_api: httpx.Client, namespace: str) -> None:
    stored = created(kube_api, namespace, recommendation())
    changed = copy.deepcopy(stored)
    changed["spec"]["tiers"][1]["target"] = "99.9"
    url = f"{collection(namespace, api.RECOMMENDATIONS)}/{stored['metadata']['name']}"
    response = kube_api.put(url, params=STRICT, json=changed)
    assert causes(response) == [
        (
            "spec",
            "Invalid value: spec is immutable; the operator creates a new SloRecommendation "
            "instead",
        )
    ]


def test_a_recommendation_is_created_with_its_state(kube_api: httpx.Client, namespace: str) -> None:
    # One request for a first recommendation (children.first_state): no status subresource
    # drops the status on create.
    body = recommendation()
    body["status"] = {"state": "Active", "stateChangedAt": "2024-05-01T00:00:00Z"}
    assert created(kube_api, namespace, body)["status"] == body["status"]


def test_recommendation_state_can_change(kube_api: httpx.Client, namespace: str) -> None:
    stored = created(kube_api, namespace, recommendation())
    url = f"{collection(namespace, api.RECOMMENDATIONS)}/{stored['metadata']['name']}"
    status = {
        "state": "Superseded",
        "stateChangedAt": "2024-05-01T01:00:00Z",
        "supersededBy": "checkout-availability-abcdef0123",
    }
    response = kube_api.patch(
        url,
        params=STRICT,
        json={"status": status},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == status


def test_recommendation_tiers_out_of_order_are_rejected(
    kube_api: httpx.Client, namespace: str
) -> None:
    body = recommendation()
    tiers = body["spec"]["tiers"]
    tiers[0], tiers[2] = tiers[2], tiers[0]
    response = create(kube_api, namespace, body)
    assert causes(response) == [
        (
            "spec.tiers",
            "Invalid value: tiers must be conservative, balanced, aggressive, in that order",
        )
    ]


def test_kubectl_get_sloreco_prints_the_tiers(
    kube_api: httpx.Client,
    namespace: str,
    controlplane: cplane.ControlPlane,
    tmp_path: Path,
) -> None:
    stored = created(kube_api, namespace, recommendation())
    name = stored["metadata"]["name"]
    kube_api.patch(
        f"{collection(namespace, api.RECOMMENDATIONS)}/{name}",
        json={"status": {"state": "Active"}},
        headers={"Content-Type": "application/merge-patch+json"},
    ).raise_for_status()
    # By name as well: `sloreco` must resolve to the kind, not to a category of several kinds.
    argv = controlplane.kubectl_args(
        f"--cache-dir={tmp_path}", "get", "sloreco", name, "--namespace", namespace
    )
    output = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    header, row = (line.split() for line in output.splitlines())
    assert (header, row[:-1]) == (
        [
            "NAME",
            "SERVICE",
            "SLI",
            "WINDOW",
            "CONSERVATIVE",
            "BALANCED",
            "AGGRESSIVE",
            "STATE",
            "AGE",
        ],
        [
            name,
            "checkout",
            "availability",
            stored["spec"]["window"],
            "99.81%",
            "99.87%",
            "99.91%",
            "Active",
        ],
    )
