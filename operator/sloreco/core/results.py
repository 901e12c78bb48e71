"""What a recommendation is: typed result values and the formatters of their numbers.

The SLI kinds return these frozen dataclasses; ``render.crd`` renders the document that
becomes ``SloRecommendation.spec`` (minus the operator's own fields). The rendering follows the
Kubernetes API conventions: decimal numbers are *strings* (no floats in APIs), counts are ints,
keys are camelCase in a fixed order, and the same result always renders to the same bytes — the
child's name is a hash of this content (SPEC §2.3).
"""

from __future__ import annotations

import dataclasses
import decimal
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from sloreco import api
from sloreco.core import prior as prior_

if TYPE_CHECKING:  # alerting builds on these results; only its type is needed here
    from sloreco.core import alerting as alerting_

Sli = Literal["availability", "latency"]

#: Method identity written into every recommendation; bump the version when numbers can change.
METHOD_NAME = "incident-predictive"
METHOD_VERSION = "36"

#: Decimal places of probabilities and shares: 1/10,000 resolves one simulated window in the
#: default 10,000 (a coarser string would hide the difference between tiers).
PROBABILITY_PLACES = 4
#: Decimal places of observed availability percents: a 28-day window at 99.99% differs from
#: 99.98% by about 4 minutes of full outage, so four places show what two would hide.
OBSERVED_PERCENT_PLACES = 4
#: Significant digits of latencies in seconds: finer than any histogram can resolve.
SECONDS_DIGITS = 4


@dataclasses.dataclass(frozen=True)
class LatencyObjective:
    """A latency objective: ``target`` percent of requests complete within ``threshold`` s."""

    threshold: Decimal
    target: Decimal


@dataclasses.dataclass(frozen=True)
class Interval:
    """A confidence interval of a tier's target (percent) at ``level`` (a fraction, 0.9)."""

    level: float
    lower: Decimal
    upper: Decimal


@dataclasses.dataclass(frozen=True)
class ErrorBudget:
    """Bad events allowed per window at current traffic, and the same as full-outage minutes."""

    bad_events_per_window: int
    outage_minutes_per_window: Decimal


@dataclasses.dataclass(frozen=True)
class Tier:
    """One recommended tier."""

    name: str
    #: Share of simulated windows that meet the tier (0.999 for conservative).
    confidence: float
    #: Percent, rounded down to the configured precision (and capped when ``capped``).
    target: Decimal
    breach_probability: float
    confidence_interval: Interval
    error_budget: ErrorBudget
    capped: bool = False
    #: Latency only: the interpolated threshold in seconds, and the histogram bound at or above
    #: it that a Prometheus SLO rule can check (``target`` is the share of requests under it).
    threshold: Decimal | None = None
    bucket_bound: float | None = None
    #: The pager cost of the tier's exported alerts over the history (``core.alerting``).
    alerting: alerting_.Cost | None = None


@dataclasses.dataclass(frozen=True)
class BacktestTier:
    name: str
    evaluations: int
    breaches: int


@dataclasses.dataclass(frozen=True)
class Backtest:
    """Out-of-sample counts: tiers computed before each origin, checked on the window after."""

    description: str
    tiers: tuple[BacktestTier, ...]


@dataclasses.dataclass(frozen=True)
class Observed:
    """Best, median and worst window: fractions for availability, seconds for latency."""

    source: Literal["history", "simulated"]
    windows: int
    best: float
    median: float
    worst: float


@dataclasses.dataclass(frozen=True)
class Incident:
    """A contiguous run of buckets whose error (or slow-request) ratio stood well above normal."""

    start: int
    end: int
    bad_events: float
    #: Share of all bad events in the history.
    share: float
    peak_ratio: float


@dataclasses.dataclass(frozen=True)
class DependencyImpact:
    name: str
    availability: float
    bottleneck: bool
    #: Per tier name, the share of the tier's error budget this dependency alone consumes
    #: (``(1 - dependency) / (1 - target)``); ``None`` where the target leaves no budget.
    budget_share: tuple[tuple[str, float | None], ...]


@dataclasses.dataclass(frozen=True)
class Limit:
    """One thing that limited a tier: ``history``, ``incidents``, ``background`` (its drift
    beyond the days seen), ``dependency``, ``traffic``, ``tail`` (the +Inf bucket) or
    ``baseline`` (the steady error rate itself); ``explain.limits`` decides which."""

    factor: str
    detail: str


@dataclasses.dataclass(frozen=True)
class ObjectiveReport:
    """How the team's current objective fares (what-if)."""

    availability: Decimal | None
    latency: LatencyObjective | None
    breach_probability: float
    evaluations: int
    breaches: int
    #: False when the objective is above the hard dependencies' ceiling or the history says it
    #: is missed far more often than tolerated (``core.objective``); ``cause`` says which.
    achievable: bool
    cause: str | None = None


@dataclasses.dataclass(frozen=True)
class Explanation:
    summary: str
    observed: Observed
    incidents: tuple[Incident, ...]
    #: Share of all bad events inside any incident (including those not listed).
    incident_share: float
    dependencies: tuple[DependencyImpact, ...]
    limited_by: tuple[tuple[str, tuple[Limit, ...]], ...]
    current_objective: ObjectiveReport | None


@dataclasses.dataclass(frozen=True)
class Gap:
    """Missing data ``[start, end)`` in epoch seconds."""

    start: int
    end: int


@dataclasses.dataclass(frozen=True)
class DataQuality:
    coverage: float
    days_analysed: float
    gaps: tuple[Gap, ...]
    excluded_buckets: int
    low_confidence: bool
    low_traffic: bool
    notes: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Method:
    resamples: int
    block_days: int
    seed: int


@dataclasses.dataclass(frozen=True)
class Traits:
    """How an SLI kind's numbers read (``core.slis.base.SliKind``); shared by its results."""

    #: The SLI's name in the API (``SloRecommendation.spec.sli``, labels, ``--output`` keys).
    name: Sli
    #: Unit of the observed window SLI (``observed.unit`` in the recommendation).
    unit: Literal["percent", "seconds"]
    #: True when a higher window SLI is better (availability); the tiers' order follows it.
    higher_is_better: bool
    #: The bad events, counted ("errors", "slow requests") and one of them ("bad event").
    bad_events: str
    bad_event: str
    #: The error budget's unit in the text report's narrow column ("errors", "slow").
    budget_unit: str
    #: What varies day to day when there are no incidents ("error rate").
    variability: str
    #: Hard dependencies cap this kind's tiers (SPEC §3.1): true for availability only.
    capped_by_dependencies: bool


@dataclasses.dataclass(frozen=True)
class SliResult:
    """One SLI's recommendation as typed values (``render.crd`` writes the API object)."""

    kind: Traits
    window_seconds: int
    lookback_start: int
    lookback_end: int
    tiers: tuple[Tier, ...]
    backtest: Backtest
    explanation: Explanation
    data_quality: DataQuality
    method: Method
    #: Latency only: the percentile P of "P% of requests within T".
    percentile: Decimal | None = None
    #: Product of the hard dependencies' availabilities (fraction), if any were given.
    ceiling: float | None = None
    #: The current objective is unachievable (``core.objective``; an ``ObjectiveUnachievable``).
    objective_unachievable: bool = False
    #: The history's incidents as the engine found them, per scope (``prior.scope_of``): the
    #: operator pools them into its source's fleet prior of each scope (``controller.fleet``)
    #: without finding them again. Availability: one scope; latency: every finite bound.
    incidents: tuple[tuple[str, prior_.ServiceStats], ...] = ()
    #: The scope of the prior its tiers were computed with.
    scope: str = prior_.ANY

    def tier(self, name: str) -> Tier:
        """The tier called ``name``; ``KeyError`` if there is none."""
        for tier in self.tiers:
            if tier.name == name:
                return tier
        raise KeyError(name)

    @property
    def targets(self) -> dict[str, Decimal]:
        """Tier name → target percent, in tier order."""
        return {t.name: t.target for t in self.tiers}

    @property
    def sli(self) -> Sli:
        """The SLI's name (``availability``, ``latency``)."""
        return self.kind.name

    @property
    def observed(self) -> Observed:
        return self.explanation.observed

    @property
    def coverage(self) -> float:
        return self.data_quality.coverage

    @property
    def days_analysed(self) -> float:
        return self.data_quality.days_analysed

    def noted(self, note: str | None) -> SliResult:
        """The same result with one more data-quality note (None: itself), for what only its
        caller knows (``controller.fleet.Fleet.unlearned``)."""
        if note is None:
            return self
        quality = dataclasses.replace(self.data_quality, notes=(*self.data_quality.notes, note))
        return dataclasses.replace(self, data_quality=quality)


def rfc3339(epoch: int) -> str:
    """Epoch seconds as RFC 3339 UTC with a ``Z`` (the form Kubernetes writes)."""
    return api.rfc3339(epoch)


def number(value: Decimal) -> str:
    """A Decimal in positional notation (never ``1E+2``)."""
    return format(value, "f")


def fixed(value: float, places: int, rounding: str = decimal.ROUND_HALF_EVEN) -> str:
    """A float with exactly ``places`` decimals; never ``-0.00``."""
    quantum = Decimal(1).scaleb(-places)
    out = Decimal(repr(float(value))).quantize(quantum, rounding=rounding)
    return number(abs(out) if out == 0 else out)


def percent(fraction: float, places: int = OBSERVED_PERCENT_PLACES) -> str:
    """A fraction as a percent string with ``places`` decimals (an observation: rounded)."""
    return fixed(fraction * 100, places)


def seconds(value: float, rounding: str = decimal.ROUND_HALF_EVEN) -> Decimal:
    """Seconds at ``SECONDS_DIGITS`` significant digits."""
    exact = Decimal(repr(float(value)))
    if exact == 0:
        return Decimal("0")
    quantum = Decimal(1).scaleb(exact.adjusted() - SECONDS_DIGITS + 1)
    return exact.quantize(quantum, rounding=rounding)


def bound(value: float) -> str:
    """A histogram bound as Prometheus 3 writes ``le`` (``0.5``, ``1.0``, ``10.0``)."""
    return repr(float(value))
