"""What every export format is built from, and the one protocol a format implements.

A recommendation says *which* objective a tier is; the tools that run SLOs (the Prometheus
Operator, Pyrra, Sloth, OpenSLO consumers) need it written their way. Every format reads the same
three inputs — the adopted :class:`Objective` (parsed once from the recommendation document by
``document.objective``), the :class:`Indicator` (the user's own selectors by role) and the
:class:`Target` (names and where the object goes) — and returns plain documents (``dict``). A new
format is one module with a ``FORMAT`` that satisfies :class:`Format`, registered in
``render.exports.FORMATS``; nothing else changes.

The alerts are the multi-window, multi-burn-rate alerts of the Google SRE Workbook ("Alerting on
SLOs", table 5-8): :data:`PAGE` and :data:`TICKET`. A burn rate is how many times faster than
"exactly the budget over the window" errors arrive; an alert needs both its long window (is it
significant?) and its short window (is it still happening?) over the threshold.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Protocol

from sloreco import api
from sloreco.core import alerting, durations

#: The recommendation tiers a user can adopt (``SloRecommendation.spec.tiers[].name``).
TIERS = ("conservative", "balanced", "aggressive")


@dataclasses.dataclass(frozen=True)
class BurnWindow:
    """One alert condition: the error ratio over ``long`` and over ``short`` both above
    ``factor`` times the error budget ratio."""

    long: str
    short: str
    factor: Decimal


@dataclasses.dataclass(frozen=True)
class Severity:
    """An alert and the windows any of which fires it."""

    name: str
    windows: tuple[BurnWindow, ...]


def _severity(found: alerting.Severity) -> Severity:
    return Severity(
        found.name,
        tuple(
            BurnWindow(durations.format(w.long), durations.format(w.short), w.factor)
            for w in found.windows
        ),
    )


#: The SRE Workbook's alerts, defined once in ``core.alerting`` (which replays them to report
#: each tier's pager cost): what is exported is what was replayed.
PAGE = _severity(alerting.PAGE)
TICKET = _severity(alerting.TICKET)
SEVERITIES = (PAGE, TICKET)


def rate_windows() -> tuple[str, ...]:
    """Every window an alert reads, shortest first (one recording rule each)."""
    seconds = {"m": 60, "h": 3600, "d": 86400}
    found = {w for s in SEVERITIES for b in s.windows for w in (b.long, b.short)}
    return tuple(sorted(found, key=lambda w: int(w[:-1]) * seconds[w[-1]]))


@dataclasses.dataclass(frozen=True)
class Objective:
    """The adopted tier of one recommendation, as the exports need it."""

    sli: str
    tier: str
    #: Percent of good events over ``window`` (availability: successful requests; latency:
    #: requests within ``bucket_bound`` seconds).
    target: Decimal
    window: str
    #: Latency only: the histogram ``le`` the target is measured at, as Prometheus writes it.
    bucket_bound: str | None = None
    percentile: str | None = None
    #: Where it came from (``metadata.name`` of a SloRecommendation; absent for CLI JSON).
    recommendation: str | None = None
    data_end: str | None = None
    method: str | None = None

    @property
    def budget(self) -> Decimal:
        """The error budget as a ratio of events (``1 - target/100``), exact."""
        return (Decimal(100) - self.target) / Decimal(100)

    @property
    def ratio(self) -> Decimal:
        """The target as a ratio of events (``target/100``), exact."""
        return self.target / Decimal(100)

    def describe(self) -> str:
        """``99.5% of requests succeed`` / ``99.2% of requests within 0.5s``, over the window."""
        what = (
            "of requests succeed"
            if self.bucket_bound is None
            else f"of requests complete within {self.bucket_bound}s"
        )
        return f"{self.target}% {what} over {self.window}"


@dataclasses.dataclass(frozen=True)
class Indicator:
    """The user's selectors by role, canonical PromQL (``spec.indicator`` builds them).

    Availability has ``bad`` (errors) and ``total``; latency has ``good`` (the ``le`` bucket of
    the tier's bound), ``total`` (the ``+Inf`` bucket: exactly the requests sloreco analysed) and
    ``count`` (the histogram's ``_count``, which Pyrra expects as the total).
    """

    total: str
    bad: str | None = None
    good: str | None = None
    count: str | None = None


@dataclasses.dataclass(frozen=True)
class Target:
    """Where the exported objects go and what they are called."""

    #: Base object name; per-SLI objects append ``-<sli>``.
    name: str
    service: str
    namespace: str | None = None
    #: Plain files for the tool's CLI instead of Kubernetes objects (``--plain``).
    plain: bool = False


@dataclasses.dataclass(frozen=True)
class Slo:
    """One SLI to export: its objective and its indicator."""

    objective: Objective
    indicator: Indicator


class Format(Protocol):
    """One export format."""

    @property
    def name(self) -> str:
        """The ``--format`` value (``prometheus-rule``)."""
        ...

    @property
    def plain(self) -> bool:
        """Whether the format has a plain (non-Kubernetes) file form."""
        ...

    def render(self, slos: Sequence[Slo], target: Target) -> list[api.Obj]:
        """The documents, in a fixed order; pure and deterministic."""
        ...


# --- shared pieces of the formats --------------------------------------------------------------


def slo_name(target: Target, objective: Objective) -> str:
    """``<name>-<sli>``: the per-SLI object and rule-label name."""
    return f"{target.name}-{objective.sli}"


def provenance(objective: Objective) -> dict[str, str]:
    """Annotations that say which recommendation and tier an exported object came from."""
    found = {
        "sloreco.dev/tier": objective.tier,
        "sloreco.dev/objective": objective.describe(),
        "sloreco.dev/recommendation": objective.recommendation,
        "sloreco.dev/data-end": objective.data_end,
        "sloreco.dev/method": objective.method,
    }
    return {key: value for key, value in found.items() if value is not None}


def labels(objectives: Sequence[Objective]) -> dict[str, str]:
    """Labels of an exported object: who made it, and the tier and SLI when there is one."""
    out = {"app.kubernetes.io/managed-by": "sloreco"}
    tiers = {o.tier for o in objectives}
    if len(tiers) == 1:
        out["sloreco.dev/tier"] = next(iter(tiers))
    if len(objectives) == 1:
        out[api.LABEL_SLI] = objectives[0].sli
    return out


def metadata(
    target: Target, name: str, objectives: Sequence[Objective], *, annotations: Mapping[str, str]
) -> api.Obj:
    """``metadata`` of an exported object: name, namespace if given, labels, annotations."""
    meta: api.Obj = {"name": name}
    if target.namespace is not None:
        meta["namespace"] = target.namespace
    meta["labels"] = labels(objectives)
    if annotations:
        meta["annotations"] = dict(annotations)
    return meta


def number(value: Decimal) -> str:
    """A Decimal in positional notation without trailing zeros (``0.0144``, ``14.4``, ``1``)."""
    return format(value.normalize(), "f")


def rate(selector: str, window: str) -> str:
    """``sum(rate(<selector>[<window>]))``: the events per second over a window, all series."""
    return f"sum(rate({selector}[{window}]))"
