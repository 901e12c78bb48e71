"""Parse a ServiceLevel ``spec`` once, at the boundary, into frozen typed values.

The CRD schema and its CEL rules (``crds/servicelevels.yaml``) are the first line of defence: a
bad object never reaches etcd. This module is the second, for everything that does not pass
through an API server — the ``sloreco`` CLI, tests, an object written before a schema change —
and it turns the raw mapping into values the rest of the operator can trust without rechecking.
The two must agree; ``tests/unit/test_crd_drift.py`` keeps them so by comparing field names,
defaults, patterns and length limits (each constraint in ``fields`` carries what the drift
test reads).

Every error is an ``errors.InputError`` whose message starts with the field path, the way the API
server reports it: ``spec.latency.percentile: must be between 50 and 99.999``.

Numbers the user writes as targets are decimal *strings* (Kubernetes API conventions: floats do
not round-trip); they become ``Decimal`` here, never ``float``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Annotated, Literal

import pydantic
from pydantic import alias_generators

from sloreco import errors
from sloreco.core import durations, history, inputs, method, results
from sloreco.core.slis import base
from sloreco.spec import fields, selector, specerrors
from sloreco.spec.specerrors import FieldError


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

    total_query: selector.Selector
    error_query: selector.Selector


class LatencySpec(_Model):
    """A histogram's ``_bucket`` selector and the percentile the objective is about."""

    histogram: selector.HistogramSelector
    percentile: fields.Percentile = Decimal("99")


class ExclusionSpec(_Model):
    """A maintenance window removed from the history, ``[start, end)``."""

    start: fields.Time
    end: fields.Time
    reason: fields.Reason

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

    service_level: fields.DnsSubdomain | None = None
    namespace: fields.DnsLabel | None = None
    type: Literal["hard", "soft"] = "hard"
    external: fields.ServiceName | None = None
    availability: fields.Availability | None = None

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

    threshold: fields.Seconds
    target: fields.Objective


class CurrentObjectiveSpec(_Model):
    """The objective the team runs today; the operator reports how it fares."""

    availability: fields.Objective | None = None
    latency: LatencyObjectiveSpec | None = None


#: What ``spec.adopt.publish`` may name: the kinds the operator can keep in step (OpenSLO is a
#: file format, not an API object, so it is only exported by the CLI).
PUBLISH_KINDS = ("PrometheusRule", "ServiceLevelObjective", "PrometheusServiceLevel")
PUBLISH_MAX = len(PUBLISH_KINDS)


class AdoptSpec(_Model):
    """The tier the team adopts and where the operator publishes it (issue 11, "Adopt")."""

    tier: Literal["conservative", "balanced", "aggressive"]
    publish: Annotated[
        tuple[Literal["PrometheusRule", "ServiceLevelObjective", "PrometheusServiceLevel"], ...],
        pydantic.Field(min_length=1, max_length=PUBLISH_MAX),
    ]

    @pydantic.model_validator(mode="after")
    def _unique(self) -> AdoptSpec:
        if len(set(self.publish)) != len(self.publish):
            raise FieldError("must not name a kind twice", field="publish")
        return self


class ServiceLevelSpec(_Model):
    """A parsed ``ServiceLevel.spec`` (SPEC §2.1)."""

    service: fields.ServiceName
    source: fields.DnsLabel = "default"
    #: The fleet whose incidents this ServiceLevel's prior is learned from, within its source
    #: (``controller.fleet``); none: the source's whole fleet.
    fleet: fields.DnsLabel | None = None
    availability: AvailabilitySpec | None = None
    latency: LatencySpec | None = None
    window: fields.Window = "28d"
    lookback: fields.Lookback = "90d"
    refresh_interval: fields.RefreshInterval = "24h"
    recommendation_ttl: Annotated[
        fields.RecommendationTTL, pydantic.Field(alias="recommendationTTL")
    ] = "48h"
    exclusions: Annotated[
        tuple[ExclusionSpec, ...], pydantic.Field(max_length=fields.EXCLUSIONS_MAX)
    ] = ()
    dependencies: Annotated[
        tuple[DependencySpec, ...], pydantic.Field(max_length=fields.DEPENDENCIES_MAX)
    ] = ()
    current_objective: CurrentObjectiveSpec | None = None
    history_limit: fields.HistoryLimit = 10
    #: Namespaces that may depend on this ServiceLevel (consent, as the Gateway API's
    #: ReferenceGrant); its own namespace needs none.
    shared_with: Annotated[
        tuple[fields.DnsLabel, ...], pydantic.Field(max_length=fields.SHARED_WITH_MAX)
    ] = ()
    #: The adopted tier and the objects the operator keeps in step with it; without it the
    #: operator writes nothing but recommendations.
    adopt: AdoptSpec | None = None

    @pydantic.model_validator(mode="after")
    def _cross_field(self) -> ServiceLevelSpec:
        if self.availability is None and self.latency is None:
            raise FieldError("at least one of availability or latency is required")
        if self.window_seconds > self.lookback_seconds:
            raise FieldError(
                f"must not be longer than lookback ({self.lookback}), got {self.window}",
                field="window",
            )
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
        """The configured SLIs (names as in ``core.slis.KINDS``), availability before latency."""
        return tuple(self.selectors())

    def selectors(self) -> dict[str, dict[str, str]]:
        """Per configured SLI, its selectors by the names its kind reads (``SliKind.read``)."""
        found: dict[str, dict[str, str]] = {}
        if self.availability is not None:
            found["availability"] = {
                "total": self.availability.total_query,
                "errors": self.availability.error_query,
            }
        if self.latency is not None:
            found["latency"] = {"histogram": self.latency.histogram}
        return found

    def request(
        self,
        *,
        seed: int,
        settings: method.MethodSettings,
        dependencies: Sequence[inputs.Dependency],
    ) -> base.Request:
        """What every SLI kind is asked for by this spec (each kind reads its own fields)."""
        objective = self.current_objective
        latency_objective = None
        if objective is not None and objective.latency is not None:
            latency_objective = results.LatencyObjective(
                threshold=objective.latency.threshold, target=objective.latency.target
            )
        return base.Request(
            window_seconds=self.window_seconds,
            seed=seed,
            settings=settings,
            dependencies=tuple(dependencies),
            objective_availability=objective.availability if objective else None,
            objective_latency=latency_objective,
            percentile=self.latency.percentile if self.latency else base.Request.percentile,
        )

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
        problems = [specerrors.problem(error) for error in exc.errors()]
    field, message = problems[0]
    rest = "".join(f"; {path}: {text}" for path, text in problems[1:])
    raise errors.InputError(message + rest, field=field)
