"""What a recommendation is: typed result values, and their one JSON rendering.

The engine returns these frozen dataclasses; ``SliResult.to_spec`` renders the document that
becomes ``SloRecommendation.spec`` (minus the operator's own fields). The rendering follows the
Kubernetes API conventions: decimal numbers are *strings* (no floats in APIs), counts are ints,
keys are camelCase in a fixed order, and the same result always renders to the same bytes — the
child's name is a hash of this content (SPEC §2.3).
"""

from __future__ import annotations

import dataclasses
import decimal
from decimal import Decimal
from typing import Literal

from sloreco import api
from sloreco.core import durations

Sli = Literal["availability", "latency"]

#: Method identity written into every recommendation; bump the version when numbers can change.
METHOD_NAME = "window-block-bootstrap"
METHOD_VERSION = "1"

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
    """One thing that limited a tier: ``history``, ``incidents``, ``dependency``, ``traffic``,
    ``tail`` (the +Inf bucket) or ``baseline`` (the steady error rate itself)."""

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
    #: False when the objective is above the hard dependencies' ceiling.
    achievable: bool


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
class SliResult:
    """One SLI's recommendation: typed values, and ``to_spec`` for the API object."""

    sli: Sli
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
    #: The current availability objective is above the ceiling (an ``ObjectiveUnachievable``).
    objective_unachievable: bool = False

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
    def observed(self) -> Observed:
        return self.explanation.observed

    @property
    def coverage(self) -> float:
        return self.data_quality.coverage

    @property
    def days_analysed(self) -> float:
        return self.data_quality.days_analysed

    def to_spec(self) -> dict[str, object]:
        """The JSON-ready document for ``SloRecommendation.spec`` (see the module docstring)."""
        doc: dict[str, object] = {
            "sli": self.sli,
            "window": durations.format(self.window_seconds),
            "lookback": {"start": rfc3339(self.lookback_start), "end": rfc3339(self.lookback_end)},
        }
        if self.percentile is not None:
            doc["percentile"] = number(self.percentile)
        doc["tiers"] = [_tier(t) for t in self.tiers]
        doc["backtest"] = {
            "kind": "out-of-sample",
            "description": self.backtest.description,
            "tiers": [
                {"name": t.name, "evaluations": t.evaluations, "breaches": t.breaches}
                for t in self.backtest.tiers
            ],
        }
        doc["explanation"] = _explanation(self.explanation, self.sli)
        quality = self.data_quality
        doc["dataQuality"] = {
            "coverage": fixed(quality.coverage, PROBABILITY_PLACES),
            "daysAnalysed": fixed(quality.days_analysed, 2),
            "gaps": [{"start": rfc3339(g.start), "end": rfc3339(g.end)} for g in quality.gaps],
            "excludedBuckets": quality.excluded_buckets,
            "lowConfidence": quality.low_confidence,
            "lowTraffic": quality.low_traffic,
            "notes": list(quality.notes),
        }
        doc["method"] = {
            "name": METHOD_NAME,
            "version": METHOD_VERSION,
            "resamples": self.method.resamples,
            "blockDays": self.method.block_days,
            # A string: 64-bit seeds do not survive JSON numbers in every client.
            "seed": str(self.method.seed),
        }
        return doc


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


def _tier(tier: Tier) -> dict[str, object]:
    out: dict[str, object] = {"name": tier.name, "target": number(tier.target)}
    if tier.threshold is not None and tier.bucket_bound is not None:
        out["threshold"] = number(tier.threshold)
        out["bucketBound"] = bound(tier.bucket_bound)
    interval = tier.confidence_interval
    out["breachProbability"] = fixed(tier.breach_probability, PROBABILITY_PLACES)
    out["confidenceInterval"] = {
        "level": number(Decimal(repr(interval.level * 100)).normalize()),
        "lower": number(interval.lower),
        "upper": number(interval.upper),
    }
    out["errorBudget"] = {
        "badEventsPerWindow": tier.error_budget.bad_events_per_window,
        "outageMinutesPerWindow": number(tier.error_budget.outage_minutes_per_window),
    }
    out["capped"] = tier.capped
    return out


def _observed(observed: Observed, sli: Sli) -> dict[str, object]:
    def show(value: float) -> str:
        return percent(value) if sli == "availability" else number(seconds(value))

    return {
        "source": observed.source,
        "unit": "percent" if sli == "availability" else "seconds",
        "windows": observed.windows,
        "best": show(observed.best),
        "median": show(observed.median),
        "worst": show(observed.worst),
    }


def _explanation(explanation: Explanation, sli: Sli) -> dict[str, object]:
    out: dict[str, object] = {
        "summary": explanation.summary,
        "observed": _observed(explanation.observed, sli),
        "incidents": [
            {
                "start": rfc3339(i.start),
                "end": rfc3339(i.end),
                "badEvents": round(i.bad_events),
                "share": fixed(i.share, PROBABILITY_PLACES),
                "peakRatio": fixed(i.peak_ratio, PROBABILITY_PLACES),
            }
            for i in explanation.incidents
        ],
        "incidentShare": fixed(explanation.incident_share, PROBABILITY_PLACES),
        "dependencies": [
            {
                "name": d.name,
                "availability": percent(d.availability),
                "bottleneck": d.bottleneck,
                "budgetShare": {
                    tier: None if share is None else fixed(share, PROBABILITY_PLACES)
                    for tier, share in d.budget_share
                },
            }
            for d in explanation.dependencies
        ],
        "limitedBy": {
            tier: [{"factor": limit.factor, "detail": limit.detail} for limit in limits]
            for tier, limits in explanation.limited_by
        },
    }
    objective = explanation.current_objective
    if objective is not None:
        report: dict[str, object] = {}
        if objective.availability is not None:
            report["availability"] = number(objective.availability)
        if objective.latency is not None:
            report["latency"] = {
                "threshold": number(objective.latency.threshold),
                "target": number(objective.latency.target),
            }
        report["breachProbability"] = fixed(objective.breach_probability, PROBABILITY_PLACES)
        report["backtest"] = {"evaluations": objective.evaluations, "breaches": objective.breaches}
        report["achievable"] = objective.achievable
        out["currentObjective"] = report
    return out
