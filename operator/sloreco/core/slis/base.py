"""What every SLI kind provides, so that nothing outside ``core.slis`` dispatches on a kind's name.

An SLI kind (availability, latency; next perhaps freshness or throughput) is one module in this
package exposing a ``KIND`` that satisfies :class:`SliKind`: its ``results.Traits`` (how its numbers
read: unit, direction, nouns for the explanation), how it reads its history from any
:class:`HistorySource`, and how it turns that history into a ``results.SliResult`` for a
:class:`Request`. The operator and the CLI both go through this one pipeline, so a new kind is a
new module registered in ``core.slis.KINDS`` — not a new ``if`` in ten modules.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from decimal import Decimal
from typing import Protocol

from sloreco.core import history, results
from sloreco.core.inputs import Dependency
from sloreco.core.method import MethodSettings
from sloreco.core.prior import Prior, for_scope

#: Every call's default method (SPEC §3 as specified); frozen, so one instance serves all calls.
DEFAULT_SETTINGS = MethodSettings()


@dataclasses.dataclass(frozen=True)
class Request:
    """What a recommendation is asked for; fields a kind does not use are ignored by it."""

    window_seconds: int
    seed: int
    settings: MethodSettings = DEFAULT_SETTINGS
    dependencies: tuple[Dependency, ...] = ()
    #: ``currentObjective.availability`` (percent), for the availability kind.
    objective_availability: Decimal | None = None
    #: ``currentObjective.latency``, for the latency kind.
    objective_latency: results.LatencyObjective | None = None
    #: The latency objective's percentile P of "P% of requests within T".
    percentile: Decimal = Decimal(99)
    #: What is believed about incidents before the history is read (``core.prior``): a fleet's
    #: priors, one per scope, or one the user gives (``sloreco recommend --prior``); none: the
    #: documented default.
    priors: tuple[Prior, ...] = ()
    #: Also report what the history gives its fleet (``SliResult.incidents``): the operator's
    #: fleet prior pools them (``controller.fleet``). The tiers do not need them, and a latency
    #: SLI's, read at every bound of its histogram (``models.latency.incidents_at_every_bound``),
    #: cost about a third of its recommendation (``bench.run``), which the CLI need not pay.
    observe: bool = False

    def prior_for(self, scope: str) -> Prior:
        """The prior of a kind's incidents (``prior.scope_of``), by ``prior.for_scope``'s rule:
        one rule for the operator and the CLI."""
        return for_scope(self.priors, scope)


class HistorySource(Protocol):
    """Where bucketed history comes from (Prometheus, a JSON file, ...); see ``sloreco.sources``."""

    async def read_availability(
        self, *, total: str, errors: str, start: int, end: int, bucket_seconds: int
    ) -> history.AvailabilityHistory: ...

    async def read_latency(
        self, *, histogram: str, start: int, end: int, bucket_seconds: int
    ) -> history.LatencyHistory: ...

    async def aclose(self) -> None:
        """Release connections; the operator closes every source at shutdown."""
        ...


class SliKind(Protocol):
    """One SLI kind: its traits, how it reads its history, how it recommends."""

    @property
    def traits(self) -> results.Traits: ...

    async def read(
        self,
        source: HistorySource,
        selectors: Mapping[str, str],
        *,
        start: int,
        end: int,
        bucket_seconds: int,
    ) -> history.AvailabilityHistory | history.LatencyHistory:
        """Read this kind's history for ``selectors`` (the spec's, by this kind's field names)."""
        ...

    def recommend(
        self, data: history.AvailabilityHistory | history.LatencyHistory, request: Request
    ) -> results.SliResult:
        """The tiers for ``data`` (a history of this kind) and ``request``; pure and seeded."""
        ...
