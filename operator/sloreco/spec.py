"""Parse a ServiceLevel ``spec`` once, at the boundary, into frozen typed values.

The CRD schema and its CEL rules (``crds/servicelevels.yaml``) are the first line of defence: a
bad object never reaches etcd. This module is the second, for everything that does not pass
through an API server — the ``sloreco`` CLI, tests, an object written before a schema change —
and it turns the raw mapping into values the rest of the operator can trust without rechecking.
The two must agree; ``tests/unit/test_crd_drift.py`` keeps them so by comparing field names,
defaults, patterns and length limits (each constraint below carries what the drift test reads).

Every error is an ``errors.InputError`` whose message starts with the field path, the way the API
server reports it: ``spec.latency.percentile: must be between 50 and 99.999``.

Numbers the user writes as targets are decimal *strings* (Kubernetes API conventions: floats do
not round-trip); they become ``Decimal`` here, never ``float``.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Literal

import pydantic
import pydantic_core
from pydantic import alias_generators

from sloreco import durations, errors, history

# --- patterns shared with the CRD (compared verbatim by the drift test) ------------------------

#: A DNS-1123 label: Prometheus source names and namespaces.
DNS_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
#: A DNS-1123 subdomain: the name of a ServiceLevel another one depends on.
DNS_SUBDOMAIN_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
#: A percentage. Six decimals are finer than any SLO needs, and bounding them keeps the CEL range
#: checks (which compare doubles) in exact agreement with the ``Decimal`` checks here.
PERCENT_PATTERN = r"^[0-9]{1,3}(\.[0-9]{1,6})?$"
#: A latency in seconds, to the microsecond.
SECONDS_PATTERN = r"^[0-9]{1,6}(\.[0-9]{1,6})?$"
#: RFC 3339 with a mandatory offset: a maintenance window without a time zone is ambiguous.
DATETIME_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
    r"(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})$"
)
#: One label matcher, ``code=~"5.."``: a label name, an operator and a quoted value (double or
#: single quotes, backslash escapes).
_MATCHER = r'[a-zA-Z_][a-zA-Z0-9_]* *(=|!=|=~|!~) *("([^"\\]|\\.)*"' + r"|'([^'\\]|\\.)*')"
#: A PromQL instant-vector selector: an optional metric name and optional label matchers with
#: quoted values. Only a first filter (it keeps ``sum(...)``, ``or`` and ranges out at
#: admission); the operator checks selectors again before it builds a query.
SELECTOR_PATTERN = (
    r"^ *([a-zA-Z_:][a-zA-Z0-9_:]*)? *"
    r"(\{ *(" + _MATCHER + r"( *, *" + _MATCHER + r")* *,? *)?\})? *$"
)

#: Length limits, in the CRD as ``maxLength``. Besides rejecting nonsense they bound the cost of
#: the CEL rules, which the API server estimates from these limits.
NAME_MAX = 253
LABEL_MAX = 63
SELECTOR_MAX = 1024
DURATION_MAX = 20
REASON_MAX = 256
#: The longest strings ``PERCENT_PATTERN`` and ``SECONDS_PATTERN`` admit; the API server's CEL
#: cost estimate ignores patterns and needs them spelled out.
PERCENT_MAX = 10
SECONDS_MAX = 13
#: List limits, in the CRD as ``maxItems`` (also for CEL cost).
EXCLUSIONS_MAX = 100
DEPENDENCIES_MAX = 50

#: ``historyLimit`` bounds: at least one old recommendation to compare with; a hundred per SLI is
#: already thousands of objects across a platform team's ServiceLevels.
HISTORY_LIMIT_MIN = 1
HISTORY_LIMIT_MAX = 100

#: Percentiles outside this range make no latency objective: below the median is not a tail, and
#: at 100 the quantile of a histogram is its last finite bound whatever the data.
PERCENTILE_MIN = Decimal("50")
PERCENTILE_MAX = Decimal("99.999")


# --- constraints: callables used as ``BeforeValidator`` and read by the drift test --------------
# Patterns are applied with ``re.fullmatch``: with ``re.match`` a final newline would slip past
# ``$``, which the API server's Go regexps never allow.


@dataclasses.dataclass(frozen=True)
class Text:
    """A string with a length limit and optionally a pattern (CRD ``maxLength``/``pattern``)."""

    max_length: int
    pattern: str | None = None
    min_length: int = 1
    #: Said instead of the raw pattern when the value does not match it.
    expected: str = ""

    def __call__(self, value: object) -> str:
        if not isinstance(value, str):
            raise ValueError("must be a string")
        if len(value) < self.min_length:
            raise ValueError("must not be empty")
        if len(value) > self.max_length:
            raise ValueError(f"must be at most {self.max_length} characters")
        if self.pattern is not None and re.fullmatch(self.pattern, value) is None:
            raise ValueError(f"must be {self.expected or f'a string matching {self.pattern}'}")
        return value


@dataclasses.dataclass(frozen=True)
class Duration:
    """A Prometheus duration string (``durations.PATTERN``), kept as written, greater than zero."""

    max_length: int = DURATION_MAX

    @property
    def pattern(self) -> str:
        return durations.PATTERN

    def __call__(self, value: object) -> str:
        if not isinstance(value, str):
            raise ValueError('must be a duration string like "28d" or "1h30m"')
        if len(value) > self.max_length:
            raise ValueError(f"must be at most {self.max_length} characters")
        if re.fullmatch(self.pattern, value) is None:
            # Before durations.parse, whose re.match lets "5m\n" through ($ matches before a
            # final newline in Python, never in the API server's Go regexps).
            raise ValueError(f"invalid duration {value!r}: use Prometheus units like 5m, 1h, 28d")
        try:
            durations.parse(value)  # rejects zero
        except errors.InputError as exc:
            raise ValueError(exc.reason) from exc
        return value


@dataclasses.dataclass(frozen=True)
class DecimalText:
    """A decimal written as a string (``"99.9"``), within ``[low, high]`` or ``(low, high)``."""

    pattern: str
    max_length: int
    low: Decimal
    high: Decimal
    low_inclusive: bool
    high_inclusive: bool
    #: The range in words; also the CEL rule's message in the CRD.
    message: str

    def __call__(self, value: object) -> Decimal:
        if not isinstance(value, str):
            # The classic mistake is `target: 99.9`; a float would not round-trip exactly.
            raise ValueError('must be a decimal written as a string, like "99.9"')
        if len(value) > self.max_length or re.fullmatch(self.pattern, value) is None:
            raise ValueError(f'must be a decimal like "99.9" (matching {self.pattern})')
        number = Decimal(value)
        above = number >= self.low if self.low_inclusive else number > self.low
        below = number <= self.high if self.high_inclusive else number < self.high
        if not (above and below):
            raise ValueError(self.message)
        return number


@dataclasses.dataclass(frozen=True)
class Integer:
    """A JSON integer (not a bool, not a string) within ``[minimum, maximum]``."""

    minimum: int
    maximum: int

    def __call__(self, value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("must be an integer")
        if not self.minimum <= value <= self.maximum:
            raise ValueError(f"must be between {self.minimum} and {self.maximum}")
        return value


@dataclasses.dataclass(frozen=True)
class Timestamp:
    """An RFC 3339 timestamp with an offset (``DATETIME_PATTERN``), normalised to UTC."""

    pattern: str = DATETIME_PATTERN

    def __call__(self, value: object) -> datetime.datetime:
        if not isinstance(value, str) or re.fullmatch(self.pattern, value) is None:
            raise ValueError('must be an RFC 3339 time with an offset, like "2024-05-01T02:00:00Z"')
        try:
            parsed = datetime.datetime.fromisoformat(value)
        except ValueError as exc:  # matches the pattern but is no date, e.g. month 13
            raise ValueError(f"not a valid time: {exc}") from exc
        return parsed.astimezone(datetime.UTC)


ServiceName = Annotated[str, pydantic.BeforeValidator(Text(max_length=NAME_MAX))]
DnsLabel = Annotated[
    str,
    pydantic.BeforeValidator(
        Text(max_length=LABEL_MAX, pattern=DNS_LABEL_PATTERN, expected="a DNS label like my-name")
    ),
]
DnsSubdomain = Annotated[
    str,
    pydantic.BeforeValidator(
        Text(
            max_length=NAME_MAX,
            pattern=DNS_SUBDOMAIN_PATTERN,
            expected="an object name (DNS subdomain) like my-service",
        )
    ),
]
Selector = Annotated[
    str,
    pydantic.BeforeValidator(
        Text(
            max_length=SELECTOR_MAX,
            pattern=SELECTOR_PATTERN,
            expected='a PromQL selector like http_requests_total{service="checkout"}',
        )
    ),
]
Reason = Annotated[str, pydantic.BeforeValidator(Text(max_length=REASON_MAX))]
DurationText = Annotated[str, pydantic.BeforeValidator(Duration())]
Percentile = Annotated[
    Decimal,
    pydantic.BeforeValidator(
        DecimalText(
            pattern=PERCENT_PATTERN,
            max_length=PERCENT_MAX,
            low=PERCENTILE_MIN,
            high=PERCENTILE_MAX,
            low_inclusive=True,
            high_inclusive=True,
            message="must be between 50 and 99.999",
        )
    ),
]
#: A declared availability: 100 is allowed (a dependency that is never down costs nothing).
Availability = Annotated[
    Decimal,
    pydantic.BeforeValidator(
        DecimalText(
            pattern=PERCENT_PATTERN,
            max_length=PERCENT_MAX,
            low=Decimal(0),
            high=Decimal(100),
            low_inclusive=False,
            high_inclusive=True,
            message="must be greater than 0 and at most 100",
        )
    ),
]
#: An objective: 100 leaves no error budget, so it is no objective at all.
Objective = Annotated[
    Decimal,
    pydantic.BeforeValidator(
        DecimalText(
            pattern=PERCENT_PATTERN,
            max_length=PERCENT_MAX,
            low=Decimal(0),
            high=Decimal(100),
            low_inclusive=False,
            high_inclusive=False,
            message="must be greater than 0 and less than 100",
        )
    ),
]
Seconds = Annotated[
    Decimal,
    pydantic.BeforeValidator(
        DecimalText(
            pattern=SECONDS_PATTERN,
            max_length=SECONDS_MAX,
            low=Decimal(0),
            high=Decimal(1_000_000),
            low_inclusive=False,
            high_inclusive=False,
            message="must be greater than 0",
        )
    ),
]
HistoryLimit = Annotated[
    int, pydantic.BeforeValidator(Integer(minimum=HISTORY_LIMIT_MIN, maximum=HISTORY_LIMIT_MAX))
]
Time = Annotated[datetime.datetime, pydantic.BeforeValidator(Timestamp())]


class FieldError(ValueError):
    """A cross-field check failed; ``field`` is the camelCase name it is reported on."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class _Model(pydantic.BaseModel):
    # Aliases only: the boundary accepts exactly the camelCase the CRD declares.
    model_config = pydantic.ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=alias_generators.to_camel,
        validate_by_alias=True,
        validate_by_name=False,
    )


class AvailabilitySpec(_Model):
    """Counter selectors: all requests and the bad ones (``increase()`` is applied by sloreco)."""

    total_query: Selector
    error_query: Selector


class LatencySpec(_Model):
    """A histogram's ``_bucket`` selector and the percentile the objective is about."""

    histogram: Selector
    percentile: Percentile = Decimal("99")


class ExclusionSpec(_Model):
    """A maintenance window removed from the history, ``[start, end)``."""

    start: Time
    end: Time
    reason: Reason

    @pydantic.model_validator(mode="after")
    def _end_after_start(self) -> ExclusionSpec:
        if self.end <= self.start:
            raise FieldError("must be after start", field="end")
        return self

    def to_exclusion(self) -> history.Exclusion:
        """Epoch seconds, widened to whole seconds so the whole window is excluded."""
        return history.Exclusion(
            start=math.floor(self.start.timestamp()),
            end=math.ceil(self.end.timestamp()),
            reason=self.reason,
        )


class DependencySpec(_Model):
    """Either another ServiceLevel (observed) or an external service (declared availability)."""

    service_level: DnsSubdomain | None = None
    namespace: DnsLabel | None = None
    type: Literal["hard", "soft"] = "hard"
    external: ServiceName | None = None
    availability: Availability | None = None

    @pydantic.model_validator(mode="after")
    def _one_kind(self) -> DependencySpec:
        if (self.service_level is None) == (self.external is None):
            raise FieldError("exactly one of serviceLevel or external is required")
        if self.external is not None and self.availability is None:
            raise FieldError("required for an external dependency", field="availability")
        if self.service_level is not None and self.availability is not None:
            raise FieldError(
                "only for an external dependency (a ServiceLevel's availability is observed)",
                field="availability",
            )
        if self.external is not None and self.namespace is not None:
            raise FieldError("only for a serviceLevel dependency", field="namespace")
        return self


class LatencyObjectiveSpec(_Model):
    """``target`` percent of requests complete within ``threshold`` seconds."""

    threshold: Seconds
    target: Objective


class CurrentObjectiveSpec(_Model):
    """The objective the team runs today; the operator reports how it fares."""

    availability: Objective | None = None
    latency: LatencyObjectiveSpec | None = None


class ServiceLevelSpec(_Model):
    """A parsed ``ServiceLevel.spec`` (SPEC §2.1)."""

    service: ServiceName
    source: DnsLabel = "default"
    availability: AvailabilitySpec | None = None
    latency: LatencySpec | None = None
    window: DurationText = "28d"
    lookback: DurationText = "90d"
    refresh_interval: DurationText = "24h"
    recommendation_ttl: Annotated[DurationText, pydantic.Field(alias="recommendationTTL")] = "48h"
    exclusions: Annotated[tuple[ExclusionSpec, ...], pydantic.Field(max_length=EXCLUSIONS_MAX)] = ()
    dependencies: Annotated[
        tuple[DependencySpec, ...], pydantic.Field(max_length=DEPENDENCIES_MAX)
    ] = ()
    current_objective: CurrentObjectiveSpec | None = None
    history_limit: HistoryLimit = 10

    @pydantic.model_validator(mode="after")
    def _cross_field(self) -> ServiceLevelSpec:
        if self.availability is None and self.latency is None:
            raise FieldError("at least one of availability or latency is required")
        if self.ttl_seconds <= self.refresh_seconds:
            raise FieldError(
                f"must be longer than refreshInterval ({self.refresh_interval}), "
                f"got {self.recommendation_ttl}",
                field="recommendationTTL",
            )
        return self

    @property
    def window_seconds(self) -> int:
        return durations.parse(self.window, field="spec.window")

    @property
    def lookback_seconds(self) -> int:
        return durations.parse(self.lookback, field="spec.lookback")

    @property
    def refresh_seconds(self) -> int:
        return durations.parse(self.refresh_interval, field="spec.refreshInterval")

    @property
    def ttl_seconds(self) -> int:
        return durations.parse(self.recommendation_ttl, field="spec.recommendationTTL")

    @property
    def slis(self) -> tuple[str, ...]:
        """The configured SLIs (names as in ``api.SLIS``), always availability before latency."""
        configured: list[str] = []
        if self.availability is not None:
            configured.append("availability")
        if self.latency is not None:
            configured.append("latency")
        return tuple(configured)

    def history_exclusions(self) -> tuple[history.Exclusion, ...]:
        """The exclusions as ``history.Exclusion`` values, in the order written."""
        return tuple(exclusion.to_exclusion() for exclusion in self.exclusions)


def parse_service_level_spec(raw: Mapping[str, object]) -> ServiceLevelSpec:
    """Parse ``ServiceLevel.spec``; raise ``InputError`` naming every bad field.

    The first bad field is the error's ``field``; the message lists all of them, so a user fixes
    a manifest in one round.
    """
    if not isinstance(raw, Mapping):
        raise errors.InputError("must be an object", field="spec")
    try:
        return ServiceLevelSpec.model_validate(dict(raw))
    except pydantic.ValidationError as exc:
        problems = [_problem(error) for error in exc.errors()]
    field, message = problems[0]
    rest = "".join(f"; {path}: {text}" for path, text in problems[1:])
    raise errors.InputError(message + rest, field=field)


# --- error translation -----------------------------------------------------------------------

_MESSAGES = {
    "missing": "required",
    "extra_forbidden": "unknown field",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dict_type": "must be an object",
    "tuple_type": "must be a list",
    "list_type": "must be a list",
    "literal_error": "",  # pydantic's own wording names the allowed values
}


def _problem(error: pydantic_core.ErrorDetails) -> tuple[str, str]:
    """``(field path, message)`` for one pydantic error, in the API server's path style."""
    loc: tuple[int | str, ...] = tuple(error["loc"])
    message = _MESSAGES.get(error["type"]) or str(error["msg"])
    cause: object = (error.get("ctx") or {}).get("error")
    if isinstance(cause, FieldError):
        message = str(cause)
        if cause.field is not None:
            loc = (*loc, cause.field)
    elif isinstance(cause, ValueError):
        message = str(cause)  # our constraints' wording, without pydantic's "Value error, "
    elif error["type"] == "too_long":
        message = f"must have at most {(error.get('ctx') or {}).get('max_length')} items"
    elif error["type"] == "literal_error":
        message = str(error["msg"]).replace("Input should be", "must be")
    path = "spec" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)
    return path, message
