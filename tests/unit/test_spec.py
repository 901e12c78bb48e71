"""The ServiceLevel spec parser: defaults, typed values, and errors that name the field.

Each rejection test pins the exact message the user sees, because that message is the product here
(it reaches the CLI and the ServiceLevel's conditions verbatim). The same cases run against the
real API server in ``tests/integration/test_admission.py``.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sloreco import errors
from sloreco.core import history
from sloreco.spec import model as spec

TOTAL = 'http_requests_total{service="checkout"}'
BAD = 'http_requests_total{service="checkout",code=~"5.."}'
HISTOGRAM = 'http_request_duration_seconds_bucket{service="checkout"}'


def minimal(**fields: Any) -> dict[str, Any]:
    """A valid spec with only the required fields (plus ``fields``)."""
    return {
        "service": "checkout",
        "availability": {"totalQuery": TOTAL, "errorQuery": BAD},
        **fields,
    }


def error(raw: dict[str, Any]) -> errors.InputError:
    with pytest.raises(errors.InputError) as info:
        spec.parse_service_level_spec(raw)
    return info.value


def test_defaults_match_the_documented_ones() -> None:
    parsed = spec.parse_service_level_spec(minimal(latency={"histogram": HISTOGRAM}))
    assert (
        parsed.source,
        parsed.window,
        parsed.lookback,
        parsed.refresh_interval,
        parsed.recommendation_ttl,
        parsed.history_limit,
        parsed.exclusions,
        parsed.dependencies,
        parsed.current_objective,
    ) == ("default", "28d", "90d", "24h", "48h", 10, (), (), None)
    assert parsed.latency is not None
    assert parsed.latency.percentile == Decimal("99")


def test_durations_are_available_in_seconds() -> None:
    parsed = spec.parse_service_level_spec(
        minimal(window="7d", lookback="12w", refreshInterval="1h30m", recommendationTTL="2d")
    )
    assert (
        parsed.window_seconds,
        parsed.lookback_seconds,
        parsed.refresh_seconds,
        parsed.ttl_seconds,
    ) == (7 * 86400, 84 * 86400, 5400, 2 * 86400)


def test_selectors_are_kept_verbatim() -> None:
    parsed = spec.parse_service_level_spec(minimal())
    assert parsed.availability == spec.AvailabilitySpec.model_validate(
        {"totalQuery": TOTAL, "errorQuery": BAD}
    )
    assert parsed.availability is not None
    assert (parsed.availability.total_query, parsed.availability.error_query) == (TOTAL, BAD)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, ("availability",)),
        ({"latency": {"histogram": HISTOGRAM}}, ("availability", "latency")),
    ],
)
def test_slis_lists_the_configured_ones_in_a_fixed_order(
    fields: dict[str, Any], expected: tuple[str, ...]
) -> None:
    assert spec.parse_service_level_spec(minimal(**fields)).slis == expected


def test_latency_only_spec_has_only_the_latency_sli() -> None:
    raw = {"service": "checkout", "latency": {"histogram": HISTOGRAM, "percentile": "99.5"}}
    parsed = spec.parse_service_level_spec(raw)
    assert parsed.slis == ("latency",)
    assert parsed.latency is not None
    assert parsed.latency.percentile == Decimal("99.5")


def test_exclusions_become_utc_and_history_exclusions() -> None:
    parsed = spec.parse_service_level_spec(
        minimal(
            exclusions=[
                {
                    "start": "2024-05-01T04:00:00+02:00",
                    "end": "2024-05-01T03:30:00.5Z",
                    "reason": "failover test",
                }
            ]
        )
    )
    (exclusion,) = parsed.exclusions
    assert exclusion.start == datetime.datetime(2024, 5, 1, 2, 0, tzinfo=datetime.UTC)
    # The half second is rounded outwards: the whole declared window is excluded.
    assert parsed.history_exclusions() == (
        history.Exclusion(start=1714528800, end=1714534201, reason="failover test"),
    )


def test_dependencies_of_both_kinds() -> None:
    parsed = spec.parse_service_level_spec(
        minimal(
            dependencies=[
                {"serviceLevel": "payments", "namespace": "shop"},
                {"serviceLevel": "search", "type": "soft"},
                {"external": "card-network", "availability": "99.95"},
            ]
        )
    )
    assert [
        (d.service_level, d.namespace, d.type, d.external, d.availability)
        for d in parsed.dependencies
    ] == [
        ("payments", "shop", "hard", None, None),
        ("search", None, "soft", None, None),
        (None, None, "hard", "card-network", Decimal("99.95")),
    ]


def test_current_objective_is_decimal() -> None:
    parsed = spec.parse_service_level_spec(
        minimal(
            currentObjective={
                "availability": "99.9",
                "latency": {"threshold": "0.3", "target": "99"},
            }
        )
    )
    assert parsed.current_objective is not None
    assert parsed.current_objective.availability == Decimal("99.9")
    assert parsed.current_objective.latency == spec.LatencyObjectiveSpec.model_validate(
        {"threshold": "0.3", "target": "99"}
    )


def test_parsed_values_are_frozen() -> None:
    parsed = spec.parse_service_level_spec(minimal())
    with pytest.raises(ValueError, match="frozen"):
        parsed.service = "other"  # type: ignore[misc]


# --- rejections: one behaviour each, the whole message pinned ------------------------------------


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        (
            {"availability": {"totalQuery": TOTAL, "errorQuery": BAD}},
            "spec.service",
            "spec.service: required",
        ),
        (
            minimal(window="4 weeks"),
            "spec.window",
            "spec.window: invalid duration '4 weeks': use Prometheus units like 5m, 1h, 28d",
        ),
        (
            minimal(lookback="0d"),
            "spec.lookback",
            "spec.lookback: must be at least 1d",
        ),
        (
            minimal(refreshInterval="0s", recommendationTTL="1h"),
            "spec.refreshInterval",
            "spec.refreshInterval: must be at least 5m",
        ),
        (
            minimal(recommendationTTL="12h"),
            "spec.recommendationTTL",
            "spec.recommendationTTL: must be longer than refreshInterval (24h), got 12h",
        ),
        (
            minimal(refreshInterval="1d", recommendationTTL="24h"),
            "spec.recommendationTTL",
            "spec.recommendationTTL: must be longer than refreshInterval (1d), got 24h",
        ),
        (
            {"service": "checkout"},
            "spec",
            "spec: at least one of availability or latency is required",
        ),
        (
            minimal(latency={"histogram": HISTOGRAM, "percentile": "100"}),
            "spec.latency.percentile",
            "spec.latency.percentile: must be between 50 and 99.999",
        ),
        (
            minimal(latency={"histogram": HISTOGRAM, "percentile": "49.9"}),
            "spec.latency.percentile",
            "spec.latency.percentile: must be between 50 and 99.999",
        ),
        (
            minimal(latency={"histogram": HISTOGRAM, "percentile": 99.9}),
            "spec.latency.percentile",
            'spec.latency.percentile: must be a decimal written as a string, like "99.9"',
        ),
        (
            minimal(currentObjective={"availability": 99.9}),
            "spec.currentObjective.availability",
            "spec.currentObjective.availability: "
            'must be a decimal written as a string, like "99.9"',
        ),
        (
            minimal(currentObjective={"availability": "100"}),
            "spec.currentObjective.availability",
            "spec.currentObjective.availability: must be greater than 0 and less than 100",
        ),
        (
            minimal(currentObjective={"availability": "99.9%"}),
            "spec.currentObjective.availability",
            "spec.currentObjective.availability: "
            r'must be a decimal like "99.9" (matching ^[0-9]{1,3}(\.[0-9]{1,6})?$)',
        ),
        (
            minimal(currentObjective={"latency": {"threshold": "0", "target": "99"}}),
            "spec.currentObjective.latency.threshold",
            "spec.currentObjective.latency.threshold: must be greater than 0",
        ),
        (
            minimal(dependencies=[{"external": "card-network"}]),
            "spec.dependencies[0].availability",
            "spec.dependencies[0].availability: required for an external dependency",
        ),
        (
            minimal(dependencies=[{"serviceLevel": "a", "external": "b", "availability": "99"}]),
            "spec.dependencies[0]",
            "spec.dependencies[0]: exactly one of serviceLevel or external is required",
        ),
        (
            minimal(dependencies=[{"serviceLevel": "payments", "availability": "99"}]),
            "spec.dependencies[0].availability",
            "spec.dependencies[0].availability: "
            "only for an external dependency (a ServiceLevel's availability is observed)",
        ),
        (
            minimal(dependencies=[{"external": "x", "availability": "99", "namespace": "a"}]),
            "spec.dependencies[0].namespace",
            "spec.dependencies[0].namespace: only for a serviceLevel dependency",
        ),
        (
            minimal(dependencies=[{"serviceLevel": "payments", "type": "optional"}]),
            "spec.dependencies[0].type",
            "spec.dependencies[0].type: must be 'hard' or 'soft'",
        ),
        (
            minimal(
                exclusions=[
                    {"start": "2024-05-02T00:00:00Z", "end": "2024-05-01T00:00:00Z", "reason": "x"}
                ]
            ),
            "spec.exclusions[0].end",
            "spec.exclusions[0].end: must be after start",
        ),
        (
            minimal(
                exclusions=[
                    {"start": "2024-05-01T00:00:00", "end": "2024-05-02T00:00:00Z", "reason": "x"}
                ]
            ),
            "spec.exclusions[0].start",
            "spec.exclusions[0].start: "
            'must be an RFC 3339 time with an offset, like "2024-05-01T02:00:00Z"',
        ),
        (
            minimal(availability={"totalQuery": "sum(rate(x[5m]))", "errorQuery": BAD}),
            "spec.availability.totalQuery",
            "spec.availability.totalQuery: must be a selector that starts with a metric name, "
            'like http_requests_total{service="x"}, not an expression (sloreco computes '
            "sum(increase(...)) itself)",
        ),
        # Issue 10: each of these took the operator down or never got a status.
        (minimal(lookback="10000y"), "spec.lookback", "spec.lookback: must be at most 400d"),
        (
            minimal(lookback="9999999999999999999d"),
            "spec.lookback",
            "spec.lookback: must be at most 400d",
        ),
        (minimal(window="100y"), "spec.window", "spec.window: must be at most 400d"),
        (
            minimal(window="100d"),
            "spec.window",
            "spec.window: must not be longer than lookback (90d), got 100d",
        ),
        (
            minimal(recommendationTTL="10000y"),
            "spec.recommendationTTL",
            "spec.recommendationTTL: must be at most 400d",
        ),
        (
            minimal(recommendationTTL="9999999999999999999d"),
            "spec.recommendationTTL",
            "spec.recommendationTTL: must be at most 400d",
        ),
        (minimal(lookback="30m"), "spec.lookback", "spec.lookback: must be at least 1d"),
        (
            minimal(lookback="1d12h"),
            "spec.lookback",
            "spec.lookback: must be whole days, like 28d or 90d",
        ),
        (
            minimal(refreshInterval="1s", recommendationTTL="2s"),
            "spec.refreshInterval",
            "spec.refreshInterval: must be at least 5m; "
            "spec.recommendationTTL: must be at least 5m",
        ),
        # Issue 7: the spec used to accept what the PromQL scanner rejected later.
        (
            minimal(availability={"totalQuery": 'sum{job="x"}', "errorQuery": BAD}),
            "spec.availability.totalQuery",
            "spec.availability.totalQuery: must be a selector that starts with a metric name, "
            'like http_requests_total{service="x"}, not an expression (sloreco computes '
            "sum(increase(...)) itself): not a PromQL selector: "
            "'sum' is a PromQL keyword, not a metric name at position 1",
        ),
        (
            minimal(availability={"totalQuery": '{__name__=~".+"}', "errorQuery": BAD}),
            "spec.availability.totalQuery",
            "spec.availability.totalQuery: must be a selector that starts with a metric name, "
            'like http_requests_total{service="x"}, not an expression (sloreco computes '
            "sum(increase(...)) itself)",
        ),
        (
            minimal(latency={"histogram": 'http_request_duration_seconds{service="x"}'}),
            "spec.latency.histogram",
            "spec.latency.histogram: must be a selector that starts with a metric name, like "
            'http_requests_total{service="x"}, not an expression (sloreco computes '
            "sum(increase(...)) itself): select the histogram's _bucket series (e.g. "
            "http_request_duration_seconds_bucket), not 'http_request_duration_seconds'",
        ),
        (
            minimal(source="Prometheus.Main"),
            "spec.source",
            "spec.source: must be a DNS label like my-name",
        ),
        (
            minimal(fleet="Databases_EU"),
            "spec.fleet",
            "spec.fleet: must be a DNS label like my-name",
        ),
        (
            minimal(historyLimit=0),
            "spec.historyLimit",
            "spec.historyLimit: must be between 1 and 100",
        ),
        (minimal(historyLimit="10"), "spec.historyLimit", "spec.historyLimit: must be an integer"),
        (minimal(windows="28d"), "spec.windows", "spec.windows: unknown field"),
        (
            minimal(dependencies=[{"serviceLevel": f"s{i}"} for i in range(51)]),
            "spec.dependencies",
            "spec.dependencies: must have at most 50 items",
        ),
        (
            minimal(latency={"histogram": HISTOGRAM, "quantile": "0.99"}),
            "spec.latency.quantile",
            "spec.latency.quantile: unknown field",
        ),
    ],
)
def test_rejected_with_the_field_path(raw: dict[str, Any], field: str, message: str) -> None:
    problem = error(raw)
    assert (problem.field, str(problem)) == (field, message)


def test_every_bad_field_is_reported_at_once() -> None:
    problem = error(minimal(window="0d", historyLimit=0, extra=True))
    assert str(problem) == (
        "spec.window: must be at least 1d; "
        "spec.historyLimit: must be between 1 and 100; "
        "spec.extra: unknown field"
    )


def test_spec_that_is_not_an_object() -> None:
    problem = error(["service"])  # type: ignore[arg-type]
    assert str(problem) == "spec: must be an object"


def test_snake_case_names_are_not_accepted() -> None:
    # The boundary speaks the CRD's camelCase only; Python names would pass here and fail at
    # admission, so they must fail here too.
    problem = error(
        {"service": "checkout", "availability": {"total_query": TOTAL, "errorQuery": BAD}}
    )
    assert str(problem) == (
        "spec.availability.totalQuery: required; spec.availability.total_query: unknown field"
    )


@given(
    whole=st.integers(min_value=50, max_value=99),
    fraction=st.integers(min_value=0, max_value=999),
)
def test_percentiles_in_range_are_accepted_exactly(whole: int, fraction: int) -> None:
    text = f"{whole}.{fraction:03d}"
    parsed = spec.parse_service_level_spec(
        {"service": "s", "latency": {"histogram": HISTOGRAM, "percentile": text}}
    )
    assert parsed.latency is not None
    assert parsed.latency.percentile == Decimal(text)


@given(st.floats(allow_nan=False) | st.integers() | st.booleans())
def test_targets_that_are_not_strings_are_rejected(value: object) -> None:
    problem = error(minimal(currentObjective={"availability": value}))
    assert problem.field == "spec.currentObjective.availability"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"window": "28d\n"}, "spec.window"),
        ({"source": "default\n"}, "spec.source"),
        ({"latency": {"histogram": "h_bucket\n"}}, "spec.latency.histogram"),
        ({"currentObjective": {"availability": "99.9\n"}}, "spec.currentObjective.availability"),
    ],
)
def test_trailing_newline_is_rejected_as_the_api_server_does(
    fields: dict[str, Any], field: str
) -> None:
    # Python's `$` matches before a final newline; the API server's Go regexps do not.
    assert error(minimal(**fields)).field == field
