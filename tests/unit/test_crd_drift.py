"""Keep the hand-written CRDs, the Python boundary parser and the samples in agreement.

The CRD YAML is the source of truth for the API (STYLE 14); ``spec.model`` repeats its checks
for the CLI and for objects that never passed an API server. Nothing forces the two to agree
except this test: every spec property is a model field (by its camelCase alias) and vice versa,
with the same required fields, defaults, patterns, length limits, enums and CEL messages; every
field is described (``kubectl explain`` is the API's manual); every sample parses.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import annotated_types
import pydantic
import pytest
import yaml
from pydantic import fields as pydantic_fields

from sloreco import api
from sloreco.core import durations
from sloreco.spec import bounds, fields, selector
from sloreco.spec import model as spec

REPO = Path(__file__).resolve().parents[2]
CRDS = REPO / "crds"
SAMPLES = REPO / "deploy" / "samples"
SERVICE_LEVELS = CRDS / "servicelevels.yaml"
RECOMMENDATIONS = CRDS / "slorecommendations.yaml"

Schema = dict[str, Any]


def load(path: Path) -> Schema:
    doc: Schema = yaml.safe_load(path.read_text())
    return doc


def version_schema(crd: Schema) -> Schema:
    (version,) = crd["spec"]["versions"]
    schema: Schema = version["schema"]["openAPIV3Schema"]
    return schema


def spec_schema() -> Schema:
    spec_prop: Schema = version_schema(load(SERVICE_LEVELS))["properties"]["spec"]
    return spec_prop


def unwrap(annotation: object) -> tuple[object, list[object]]:
    """The core type under ``Annotated``, ``X | None`` and ``tuple[X, ...]``, and the metadata."""
    metadata: list[object] = []
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation, *extra = typing.get_args(annotation)
            metadata.extend(extra)
        elif origin in (typing.Union, types.UnionType):
            (annotation,) = [a for a in typing.get_args(annotation) if a is not type(None)]
        elif origin is tuple:
            annotation = typing.get_args(annotation)[0]
        else:
            return annotation, metadata


class Pair(typing.NamedTuple):
    path: str
    prop: Schema
    field: pydantic_fields.FieldInfo
    core: object
    metadata: list[object]


def pairs(schema: Schema, model: type[pydantic.BaseModel], path: str) -> Iterator[Pair]:
    """Every (CRD property, model field) pair under ``schema`` (names in both; see below)."""
    fields = {field.alias: field for field in model.model_fields.values()}
    for alias, prop in schema["properties"].items():
        field = fields.get(alias)
        if field is None:
            continue  # reported by test_property_names_agree
        core, metadata = unwrap(field.annotation)
        pair = Pair(f"{path}.{alias}", prop, field, core, [*field.metadata, *metadata])
        yield pair
        if isinstance(core, type) and issubclass(core, pydantic.BaseModel):
            yield from pairs(prop["items"] if prop["type"] == "array" else prop, core, pair.path)


def constraint(pair: Pair) -> object:
    (validator,) = [m for m in pair.metadata if isinstance(m, pydantic.BeforeValidator)]
    return validator.func


ALL_PAIRS = list(pairs(spec_schema(), spec.ServiceLevelSpec, "spec"))
SCALARS = [p for p in ALL_PAIRS if p.prop.get("type") in ("string", "integer")]


def ids(items: list[Pair]) -> list[str]:
    return [p.path for p in items]


def test_every_model_is_checked() -> None:
    # Guards the walk itself: a nested model it failed to descend into would go unchecked.
    assert sorted(ids(ALL_PAIRS)) == sorted(
        [
            "spec.service",
            "spec.source",
            "spec.fleet",
            "spec.availability",
            "spec.availability.totalQuery",
            "spec.availability.errorQuery",
            "spec.latency",
            "spec.latency.histogram",
            "spec.latency.percentile",
            "spec.window",
            "spec.lookback",
            "spec.refreshInterval",
            "spec.recommendationTTL",
            "spec.exclusions",
            "spec.exclusions.start",
            "spec.exclusions.end",
            "spec.exclusions.reason",
            "spec.sharedWith",
            "spec.dependencies",
            "spec.dependencies.serviceLevel",
            "spec.dependencies.namespace",
            "spec.dependencies.type",
            "spec.dependencies.external",
            "spec.dependencies.availability",
            "spec.currentObjective",
            "spec.currentObjective.availability",
            "spec.currentObjective.latency",
            "spec.currentObjective.latency.threshold",
            "spec.currentObjective.latency.target",
            "spec.historyLimit",
            "spec.adopt",
            "spec.adopt.tier",
            "spec.adopt.publish",
        ]
    )


MODELS = [
    ("spec", spec_schema(), spec.ServiceLevelSpec),
    ("spec.availability", spec_schema()["properties"]["availability"], spec.AvailabilitySpec),
    ("spec.latency", spec_schema()["properties"]["latency"], spec.LatencySpec),
    ("spec.exclusions[]", spec_schema()["properties"]["exclusions"]["items"], spec.ExclusionSpec),
    (
        "spec.dependencies[]",
        spec_schema()["properties"]["dependencies"]["items"],
        spec.DependencySpec,
    ),
    (
        "spec.currentObjective",
        spec_schema()["properties"]["currentObjective"],
        spec.CurrentObjectiveSpec,
    ),
    (
        "spec.currentObjective.latency",
        spec_schema()["properties"]["currentObjective"]["properties"]["latency"],
        spec.LatencyObjectiveSpec,
    ),
]
MODELS.append(("spec.adopt", spec_schema()["properties"]["adopt"], spec.AdoptSpec))
MODEL_IDS = [path for path, _, _ in MODELS]
MODEL_PARAMS = [(schema, model) for _, schema, model in MODELS]


@pytest.mark.parametrize(("schema", "model"), MODEL_PARAMS, ids=MODEL_IDS)
def test_property_names_agree(schema: Schema, model: type[pydantic.BaseModel]) -> None:
    aliases = sorted(f.alias or n for n, f in model.model_fields.items())
    assert sorted(schema["properties"]) == aliases


@pytest.mark.parametrize(("schema", "model"), MODEL_PARAMS, ids=MODEL_IDS)
def test_required_fields_agree(schema: Schema, model: type[pydantic.BaseModel]) -> None:
    required = sorted(f.alias or n for n, f in model.model_fields.items() if f.is_required())
    assert sorted(schema.get("required", [])) == required


@pytest.mark.parametrize("pair", ALL_PAIRS, ids=ids(ALL_PAIRS))
def test_defaults_agree(pair: Pair) -> None:
    default = pair.field.get_default(call_default_factory=True)
    python = str(default) if isinstance(default, Decimal) else default
    if "default" in pair.prop:
        assert pair.prop["default"] == python
    else:
        # No default in the CRD: absent in Python too (None, or an empty list for arrays).
        assert python in (None, ()) or pair.field.is_required()


@pytest.mark.parametrize("pair", SCALARS, ids=ids(SCALARS))
def test_string_and_integer_constraints_agree(pair: Pair) -> None:
    if typing.get_origin(pair.core) is typing.Literal:
        assert pair.prop["enum"] == list(typing.get_args(pair.core))
        return
    check = constraint(pair)
    if isinstance(check, fields.Integer):
        crd = (pair.prop["type"], pair.prop["minimum"], pair.prop["maximum"])
        assert crd == ("integer", check.minimum, check.maximum)
        return
    assert pair.prop["type"] == "string"
    # A selector's pattern is a CEL rule in the CRD (a message instead of the regex dump; see
    # test_selector_rules_in_the_crd_are_the_parser_rules).
    expected = None if isinstance(check, selector.SelectorText) else getattr(check, "pattern", None)
    assert pair.prop.get("pattern") == expected
    if isinstance(check, fields.Timestamp):
        assert pair.prop["format"] == "date-time"
    else:
        assert pair.prop["maxLength"] == getattr(check, "max_length", None)


def test_duration_fields_use_the_parser_pattern() -> None:
    durations_in_crds = [
        p.prop.get("pattern")
        for p in ALL_PAIRS
        if p.path in {"spec.window", "spec.lookback", "spec.refreshInterval"}
        or p.path == "spec.recommendationTTL"
    ]
    recommendation_spec = version_schema(load(RECOMMENDATIONS))["properties"]["spec"]
    durations_in_crds.append(recommendation_spec["properties"]["window"]["pattern"])
    assert durations_in_crds == [durations.PATTERN] * 5


@pytest.mark.parametrize(
    "pair",
    [p for p in SCALARS if isinstance(p.core, type) and p.core is Decimal],
    ids=lambda p: p.path,
)
def test_decimal_range_rules_guard_with_the_pattern_and_share_the_message(pair: Pair) -> None:
    check = constraint(pair)
    assert isinstance(check, fields.DecimalText)
    (rule,) = pair.prop["x-kubernetes-validations"]
    # The guard skips the range check when the pattern already failed, so a bad value gets one
    # error, not a second "rule evaluation error" from double().
    guard = "!self.matches('" + check.pattern.replace("\\", "\\\\") + "')"
    assert (rule["rule"].startswith(guard), rule["message"]) == (True, check.message)


def test_list_limits_agree() -> None:
    lists = [p for p in ALL_PAIRS if p.prop.get("type") == "array"]
    limits = {
        p.path: [m.max_length for m in p.metadata if isinstance(m, annotated_types.MaxLen)]
        for p in lists
    }
    assert limits == {p.path: [p.prop["maxItems"]] for p in lists}


def walk_schema(schema: Schema, path: str) -> Iterator[tuple[str, Schema]]:
    for name, prop in schema.get("properties", {}).items():
        yield f"{path}.{name}", prop
        yield from walk_schema(prop, f"{path}.{name}")
    if "items" in schema:
        yield f"{path}[]", schema["items"]
        yield from walk_schema(schema["items"], f"{path}[]")


@pytest.mark.parametrize("path", [SERVICE_LEVELS, RECOMMENDATIONS], ids=lambda p: p.name)
def test_every_field_has_a_description(path: Path) -> None:
    schema = version_schema(load(path))
    undocumented = [
        name
        for name, prop in walk_schema(schema, "")
        # The API server forbids anything but `type` on metadata; kubectl explains it itself.
        if name != ".metadata" and not prop.get("description", "").strip()
    ]
    assert (bool(schema.get("description")), undocumented) == (True, [])


@pytest.mark.parametrize(
    ("path", "kind", "plural", "short_names", "subresources"),
    [
        # A ServiceLevel's spec is the user's, its status the operator's: separate writes. An
        # SloRecommendation is the operator's alone, created with its state in one request.
        (SERVICE_LEVELS, "ServiceLevel", api.SERVICELEVELS, ["svclevel"], {"status": {}}),
        (RECOMMENDATIONS, "SloRecommendation", api.RECOMMENDATIONS, ["sloreco", "slorec"], {}),
    ],
    ids=["servicelevels", "slorecommendations"],
)
def test_identity_matches_the_api_module(
    path: Path, kind: str, plural: str, short_names: list[str], subresources: dict[str, Any]
) -> None:
    crd = load(path)
    (version,) = crd["spec"]["versions"]
    names = crd["spec"]["names"]
    assert (
        crd["metadata"]["name"],
        crd["spec"]["group"],
        crd["spec"]["scope"],
        version["name"],
        version["served"],
        version["storage"],
        version.get("subresources", {}),
        names["kind"],
        names["plural"],
        names["shortNames"],
    ) == (
        f"{plural}.{api.GROUP}",
        api.GROUP,
        "Namespaced",
        api.VERSION,
        True,
        True,
        subresources,
        kind,
        plural,
        short_names,
    )
    # A category must never equal a short name: kubectl expands categories first, so
    # `kubectl get sloreco NAME` would fail with "you must specify only one resource".
    assert not set(names["categories"]) & set(short_names)


def test_recommendation_printer_columns_are_the_documented_ones() -> None:
    (version,) = load(RECOMMENDATIONS)["spec"]["versions"]
    columns = [(c["name"], c["jsonPath"]) for c in version["additionalPrinterColumns"]]
    assert columns == [
        ("Service", ".spec.service"),
        ("SLI", ".spec.sli"),
        ("Window", ".spec.window"),
        ("Conservative", ".spec.tiers[0].summary"),
        ("Balanced", ".spec.tiers[1].summary"),
        ("Aggressive", ".spec.tiers[2].summary"),
        ("State", ".status.state"),
        ("Breach", ".spec.tiers[1].breachProbability"),
        ("Days", ".spec.dataQuality.daysAnalysed"),
        ("Low-Confidence", ".spec.dataQuality.lowConfidence"),
        # the annotation the operator writes (api), its dots escaped for the JSONPath
        ("Prior", ".metadata.annotations." + api.ANNOTATION_PRIOR.replace(".", "\\.")),
        ("Expires", ".spec.expiresAt"),
        ("Age", ".metadata.creationTimestamp"),
    ]


def test_the_crd_kustomization_lists_every_crd() -> None:
    kustomization = load(CRDS / "Kustomization")
    assert kustomization["resources"] == sorted(p.name for p in CRDS.glob("*.yaml"))


SAMPLE_FILES = sorted(SAMPLES.glob("*.yaml"))


def test_samples_cover_the_demo_services() -> None:
    assert [p.stem for p in SAMPLE_FILES] == [
        "checkout",
        "inventory",
        "payments",
        "recommendations",
        "search",
    ]


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_sample_parses(path: Path) -> None:
    sample = load(path)
    assert (sample["apiVersion"], sample["kind"], sample["metadata"]) == (
        api.API_VERSION,
        "ServiceLevel",
        {"name": path.stem},  # no namespace: samples are applied into one
    )
    parsed = spec.parse_service_level_spec(sample["spec"])
    assert parsed.service == path.stem


def rules_of(prop: Schema) -> list[dict[str, str]]:
    """The CEL rules of a schema node, whitespace as the YAML folding left it normalised."""
    return [
        {key: " ".join(str(value).split()) for key, value in rule.items()}
        for rule in prop.get("x-kubernetes-validations", [])
    ]


def normalised(rules: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{key: " ".join(value.split()) for key, value in rule.items()} for rule in rules]


@pytest.mark.parametrize("field", sorted(bounds.LIMITS))
def test_duration_bounds_in_the_crd_are_the_parser_bounds(field: str) -> None:
    prop = spec_schema()["properties"][field]
    assert rules_of(prop) == normalised(bounds.cel_rules(field))


def test_duration_comparisons_in_the_crd_are_the_parser_comparisons() -> None:
    spec_rules = rules_of(spec_schema())
    for rule in normalised(bounds.spec_rules()):
        assert rule in spec_rules


@pytest.mark.parametrize(
    ("path", "rules"),
    [
        (("availability", "totalQuery"), selector.SELECTOR_RULES),
        (("availability", "errorQuery"), selector.SELECTOR_RULES),
        (("latency", "histogram"), selector.HISTOGRAM_RULES),
    ],
)
def test_selector_rules_in_the_crd_are_the_parser_rules(
    path: tuple[str, str], rules: list[dict[str, str]]
) -> None:
    prop = spec_schema()["properties"][path[0]]["properties"][path[1]]
    assert ("pattern" in prop, rules_of(prop)) == (False, normalised(rules))
    assert rules[0]["rule"] == f'self.matches(r"""{selector.SELECTOR_PATTERN}""")'


def test_percentile_takes_a_number_only_to_say_quote_it() -> None:
    """``percentile: 95`` is admitted as int-or-string so that a rule can say to quote it; the
    other rules let only strings with the parser's pattern and range through."""
    prop = spec_schema()["properties"]["latency"]["properties"]["percentile"]
    (pair,) = [p for p in ALL_PAIRS if p.path == "spec.latency.percentile"]
    check = constraint(pair)
    assert isinstance(check, fields.DecimalText)
    cel_pattern = check.pattern.replace("\\", "\\\\")
    assert (prop["x-kubernetes-int-or-string"], prop["maxLength"], "type" in prop) == (
        True,
        check.max_length,
        False,
    )
    assert rules_of(prop) == normalised(
        [
            {
                "rule": "type(self) == string",
                "message": 'must be a string: quote the number, like percentile: "95"',
            },
            {
                "rule": f"type(self) != string || self.matches('{cel_pattern}')",
                "message": 'must be a decimal like "99.9"',
            },
            {
                "rule": f"type(self) != string || !self.matches('{cel_pattern}') "
                "|| (double(self) >= 50.0 && double(self) <= 99.999)",
                "message": check.message,
            },
        ]
    )


def test_the_documented_maximum_is_the_bound() -> None:
    for field in ("window", "lookback"):
        assert "400d" in spec_schema()["properties"][field]["description"]
    assert bounds.MAX_SECONDS == 400 * 86400
