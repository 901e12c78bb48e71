"""Pager cost: the exported burn-rate alerts replayed over the analysed history.

What an SRE asks when choosing a tier is "how often would this have woken us up?". Each tier's
objective is exported with the SRE Workbook's multi-window, multi-burn-rate alerts (:data:`PAGE`,
:data:`TICKET`; ``render.exports`` writes them as PromQL from these same constants); this module
evaluates the same conditions over the history the tiers were computed from, the way Prometheus's
rule engine would: every :data:`EVALUATION_SECONDS`, each window's error ratio is bad events over
total events in ``[t - window, t]``, and an alert fires from the first evaluation where its
condition holds until the first where it does not (no ``for``: the short window resets it).

The history is bucketed (hourly), and an alert's short windows (5 minutes) are finer than a
bucket; events are taken to arrive evenly within each bucket, so a window's counts are the
cumulative counts interpolated linearly between bucket edges. That is exactly what a counter that
grows linearly within each bucket gives Prometheus, which is how ``tests/integration`` checks the
replay against ``promtool test rules``: alert by alert, it must fire when Prometheus's fires.

The evaluation itself is ``core.burnrate``'s: it skips the buckets where no condition can hold
and evaluates the rest minute by minute, with the same result as evaluating every minute.

Missing and excluded buckets count as no traffic: a window without traffic has no ratio and
fires nothing, as Prometheus's ``rate()`` of absent series returns nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from decimal import Decimal

import numpy as np

from sloreco.core import burnrate, durations, history, results

#: Prometheus's default ``evaluation_interval`` (1m): how often a rule engine checks the alerts.
EVALUATION_SECONDS = 60
#: Pages and tickets are reported per 28 days (four weeks of on-call), whatever the SLO window.
PER_DAYS = 28


@dataclasses.dataclass(frozen=True)
class BurnWindow:
    """Both error ratios, over ``long`` and ``short`` seconds, above ``factor`` x the budget."""

    long: int
    short: int
    factor: Decimal


@dataclasses.dataclass(frozen=True)
class Severity:
    name: str
    windows: tuple[BurnWindow, ...]


#: SRE Workbook, "Alerting on SLOs", recommended parameters: 2% of a 30-day budget in 1h (14.4x)
#: or 5% in 6h (6x) pages; 10% in 1d (3x) or 10% in 3d (1x) opens a ticket; each short window is
#: 1/12 of its long one.
PAGE = Severity(
    "page", (BurnWindow(3600, 300, Decimal("14.4")), BurnWindow(21600, 1800, Decimal("6")))
)
TICKET = Severity(
    "ticket", (BurnWindow(86400, 7200, Decimal("3")), BurnWindow(259200, 21600, Decimal("1")))
)
SEVERITIES = (PAGE, TICKET)


@dataclasses.dataclass(frozen=True, eq=False)
class Events:
    """Good-or-bad events per bucket: ``total`` and ``bad``, zero where no data."""

    start: int
    bucket_seconds: int
    total: history.FloatArray
    bad: history.FloatArray
    present: history.BoolArray

    @property
    def end(self) -> int:
        return self.start + self.bucket_seconds * len(self.total)


def events(
    data: history.AvailabilityHistory | history.LatencyHistory, *, bound: float | None = None
) -> Events:
    """Availability: errors of all requests. Latency: requests slower than ``bound`` (a
    histogram bound, the tier's ``bucket_bound``) of all requests."""
    if isinstance(data, history.AvailabilityHistory):
        total, bad, present = history.clean_availability(data)
    else:
        if bound is None or bound not in data.bounds:
            raise ValueError(f"{bound!r} is not a bound of the histogram")
        counts, present = history.clean_latency(data)
        total = counts.sum(axis=1)
        good = counts[:, : data.bounds.index(bound) + 1].sum(axis=1)
        bad = np.maximum(total - good, 0.0)
    return Events(data.start, data.bucket_seconds, total, bad, present)


#: The severities' rules as the evaluator takes them (factors as floats, as compared).
RULES = {
    s.name: tuple(burnrate.Rule(w.long, w.short, float(w.factor)) for w in s.windows)
    for s in SEVERITIES
}


def prepare(data: Events, *, step: int = EVALUATION_SECONDS) -> burnrate.Grid:
    """``data`` prepared for replaying any number of objectives over it (shared by the tiers
    that read the same events: all availability tiers; latency tiers at one bound)."""
    lengths = {w for s in SEVERITIES for b in s.windows for w in (b.long, b.short)}
    return burnrate.prepare(data, lengths=lengths, step=step)


def conditions(
    data: Events | burnrate.Grid, budget: float, *, step: int = EVALUATION_SECONDS
) -> tuple[history.FloatArray, dict[str, history.BoolArray]]:
    """Evaluation times (every ``step`` from ``start + step`` to ``end``) and, per severity,
    whether its condition holds at each of them: the error ratio over both windows of some rule
    above the factor times ``budget`` (as ``bad > x * total``, the comparison without dividing).
    Window counts are the cumulative counts interpolated at the window's ends."""
    grid = data if isinstance(data, burnrate.Grid) else prepare(data, step=step)
    [held] = burnrate.holds(grid, RULES, [budget])
    times = grid.start + grid.step * np.arange(1, grid.count + 1, dtype=np.float64)
    found = {}
    for name, on in held.items():
        fires = np.zeros(grid.count, dtype=np.bool_)
        fires[on] = True
        found[name] = fires
    return times, found


@dataclasses.dataclass(frozen=True)
class Detection:
    """One past incident and the page it would have raised."""

    start: int
    end: int
    #: Seconds from the incident's start to the first page; ``None`` if nothing paged.
    time_to_detect: int | None
    #: Share of a whole window's error budget the incident had burned when the page fired.
    budget_burned: float | None


@dataclasses.dataclass(frozen=True)
class Cost:
    """A tier's pager cost over the history."""

    pages: int
    tickets: int
    days: float
    detections: tuple[Detection, ...]
    evaluation_seconds: int = EVALUATION_SECONDS

    def per_period(self, count: int) -> float:
        """``count`` per :data:`PER_DAYS` days of history."""
        return count * PER_DAYS / self.days if self.days > 0 else 0.0

    @property
    def paged(self) -> tuple[Detection, ...]:
        return tuple(d for d in self.detections if d.time_to_detect is not None)


def cost(
    data: Events,
    *,
    target: Decimal,
    window_seconds: int,
    incidents: Sequence[tuple[int, int]],
    step: int = EVALUATION_SECONDS,
    precomputed: burnrate.Grid | None = None,
) -> Cost:
    """Replay the alerts of the objective ``target`` (percent) over ``data`` (``precomputed``:
    its :func:`prepare`, when several objectives are replayed over the same events)."""
    [found] = costs(
        data,
        targets=[target],
        window_seconds=window_seconds,
        incidents=incidents,
        grid=precomputed or prepare(data, step=step),
    )
    return found


def costs(
    data: Events,
    *,
    targets: Sequence[Decimal],
    window_seconds: int,
    incidents: Sequence[tuple[int, int]],
    grid: burnrate.Grid,
) -> list[Cost]:
    """:func:`cost` of each of ``targets`` over the same events, screened together."""
    budgets = [float((Decimal(100) - target) / Decimal(100)) for target in targets]
    held = burnrate.holds(grid, RULES, budgets)
    seconds_present = float(np.count_nonzero(data.present)) * data.bucket_seconds
    per_window = (
        float(data.total.sum()) / seconds_present * window_seconds if seconds_present else 0.0
    )
    # A page can come after the incident's last bucket only while the short windows still hold
    # it; the longest page short window bounds that.
    grace = max(w.short for w in PAGE.windows)
    # Evaluation i is at first + step * i: the evaluations in [start, end + grace] are the
    # index range [ceil((start - first) / step), floor((end + grace - first) / step) + 1).
    first = grid.start + grid.step
    spans = [
        (
            min(max(-((first - start) // grid.step), 0), grid.count),
            min(max((end + grace - first) // grid.step + 1, 0), grid.count),
        )
        for start, end in incidents
    ]
    found = []
    for budget, on in zip(budgets, held, strict=True):
        page = on[PAGE.name]
        budget_events = budget * per_window
        detections = []
        for (start, end), (lo, hi) in zip(incidents, spans, strict=True):
            k = int(np.searchsorted(page, lo))
            if k == len(page) or page[k] >= hi:
                detections.append(Detection(start, end, None, None))
                continue
            at = float(first + grid.step * int(page[k]))
            burned = float(
                np.interp(at, grid.edges, grid.cum_bad)
                - np.interp(float(start), grid.edges, grid.cum_bad)
            )
            detections.append(
                Detection(
                    start,
                    end,
                    int(at) - start,
                    burned / budget_events if budget_events > 0 else None,
                )
            )
        found.append(
            Cost(
                pages=burnrate.run_count(page),
                tickets=burnrate.run_count(on[TICKET.name]),
                days=seconds_present / history.SECONDS_PER_DAY,
                detections=tuple(detections),
                evaluation_seconds=grid.step,
            )
        )
    return found


def with_alerting(
    result: results.SliResult, data: history.AvailabilityHistory | history.LatencyHistory
) -> results.SliResult:
    """``result`` with each tier's pager cost (``Tier.alerting``) over the history ``data``
    (the history the tiers were computed from, exclusions applied)."""
    incidents = [(i.start, i.end) for i in result.explanation.incidents]
    by_bound: dict[float | None, list[int]] = {}
    for index, tier in enumerate(result.tiers):
        by_bound.setdefault(tier.bucket_bound, []).append(index)
    found: dict[int, Cost] = {}
    for bound, indices in by_bound.items():
        events_ = events(data, bound=bound)
        replayed = costs(
            events_,
            targets=[result.tiers[i].target for i in indices],
            window_seconds=result.window_seconds,
            incidents=incidents,
            grid=prepare(events_),
        )
        found.update(zip(indices, replayed, strict=True))
    tiers = tuple(
        dataclasses.replace(tier, alerting=found[i]) for i, tier in enumerate(result.tiers)
    )
    costed = dataclasses.replace(result, tiers=tiers)
    words = sentence(costed)
    summary = f"{result.explanation.summary} {words}" if words else result.explanation.summary
    return dataclasses.replace(
        costed, explanation=dataclasses.replace(result.explanation, summary=summary)
    )


def sentence(result: results.SliResult) -> str:
    """The pager cost in words, per tier ("balanced: 1.3 pages per 28 days, ...")."""
    parts = []
    for tier in result.tiers:
        found = tier.alerting
        if found is None:
            continue
        text = (
            f"{tier.name} {found.per_period(found.pages):.1f} pages and "
            f"{found.per_period(found.tickets):.1f} tickets per {PER_DAYS} days"
        )
        if found.detections:
            text += f", paged {len(found.paged)} of {len(found.detections)} incidents"
            if found.paged:
                text += f" within {duration(median_detection(found))} (median)"
        parts.append(text)
    if not parts:
        return ""
    return (
        "Pager cost of the exported burn-rate alerts replayed over this history: "
        + "; ".join(parts)
        + "."
    )


def median_detection(found: Cost) -> int:
    """Median seconds to the first page over the incidents that paged (rounded down)."""
    return int(np.median([d.time_to_detect for d in found.paged]))


def duration(seconds: int) -> str:
    """``0s``, ``5m``, ``1h5m``: Prometheus units, as everywhere else."""
    return durations.format(seconds) if seconds > 0 else "0s"
