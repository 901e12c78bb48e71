"""Field constraints for a ServiceLevel ``spec``, shared with the CRD schema.

They live apart from the models in ``spec`` because they are the part the CRD must agree with:
``tests/unit/test_crd_drift.py`` reads the patterns, length limits and constraint objects here
and compares them with ``crds/servicelevels.yaml``, and ``clivalues`` reuses the patterns and the
percentile range so the CLI accepts exactly what admission accepts. Each constraint is a small
callable used as a pydantic ``BeforeValidator``; its ``ValueError`` wording is what the user
reads after the field path (``spec`` adds the path). The selector fields, which PromQL's grammar
checks too, are :mod:`.selector`'s.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from decimal import Decimal
from typing import Annotated

import pydantic

from sloreco import errors
from sloreco.core import durations
from sloreco.spec import bounds

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
SHARED_WITH_MAX = 50

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
    """A Prometheus duration string (``durations.PATTERN``), kept as written, within the bounds of
    its field (:data:`.bounds.LIMITS`, also the CRD's CEL rules)."""

    field: str
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
        if not value:
            raise ValueError("must not be empty")
        try:
            seconds = durations.parse(value)
        except errors.InputError:
            seconds = 0  # it matched the pattern, so it is zero: the minimum says what to write
        problem = bounds.LIMITS[self.field].problem(seconds)
        if problem is not None:
            raise ValueError(problem)
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
Reason = Annotated[str, pydantic.BeforeValidator(Text(max_length=REASON_MAX))]
Window = Annotated[str, pydantic.BeforeValidator(Duration("window"))]
Lookback = Annotated[str, pydantic.BeforeValidator(Duration("lookback"))]
RefreshInterval = Annotated[str, pydantic.BeforeValidator(Duration("refreshInterval"))]
RecommendationTTL = Annotated[str, pydantic.BeforeValidator(Duration("recommendationTTL"))]
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
