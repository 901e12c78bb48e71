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

Missing and excluded buckets count as no traffic: a window without traffic has no ratio and
fires nothing, as Prometheus's ``rate()`` of absent series returns nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from decimal import Decimal

import numpy as np

from sloreco.core import durations, history, results

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


@dataclasses.dataclass(frozen=True)
class Firing:
    """One alert, firing from ``start`` until ``end`` (epoch seconds, evaluation times)."""

    start: int
    end: int


@dataclasses.dataclass(frozen=True, eq=False)
class Sums:
    """Events in every alert window, at every evaluation: computed once per history, shared by
    the tiers that read the same events (all availability tiers; latency tiers at one bound)."""

    times: history.FloatArray
    #: Per window length: (bad events, total events, whether the window has any traffic).
    windows: dict[int, tuple[history.FloatArray, history.FloatArray, history.BoolArray]]


def sums(data: Events, *, step: int = EVALUATION_SECONDS) -> Sums:
    """Window sums of ``data`` at every evaluation from ``start + step`` to ``end``."""
    lengths = {w for s in SEVERITIES for b in s.windows for w in (b.long, b.short)}
    if any(w % step for w in lengths):
        raise ValueError(f"every alert window must be a whole number of {step}s steps")
    # Cumulative counts on the evaluation grid (index j is start + j*step), interpolated once;
    # a window of w seconds is then the difference of two entries w/step apart.
    grid = data.start + step * np.arange((data.end - data.start) // step + 1, dtype=np.float64)
    edges = data.start + data.bucket_seconds * np.arange(len(data.total) + 1, dtype=np.float64)
    cum_total = np.interp(grid, edges, np.concatenate([[0.0], np.cumsum(data.total)]))
    cum_bad = np.interp(grid, edges, np.concatenate([[0.0], np.cumsum(data.bad)]))
    found = {}
    for window in lengths:
        total = _window(cum_total, window // step)
        # Below a millionth of an event the window is empty, whatever rounding left in it.
        found[window] = (_window(cum_bad, window // step), total, total > 1e-6)
    return Sums(grid[1:], found)


def _window(cumulative: history.FloatArray, lag: int) -> history.FloatArray:
    """For evaluation ``i`` (grid index ``i + 1``), the count over the ``lag`` steps before it
    (fewer at the start): differences of slices written in place (the replay's hot path)."""
    count = len(cumulative) - 1
    head = min(lag - 1, count)
    out = np.empty(count)
    np.subtract(cumulative[1 : head + 1], cumulative[0], out=out[:head])
    np.subtract(cumulative[head + 1 :], cumulative[: count - head], out=out[head:])
    return out


def conditions(
    data: Events | Sums, budget: float, *, step: int = EVALUATION_SECONDS
) -> tuple[history.FloatArray, dict[str, history.BoolArray]]:
    """Evaluation times and, per severity, whether its condition holds at each of them: the
    error ratio over both windows above the factor times ``budget`` (as ``bad > x * total``,
    which is the ratio's comparison without dividing)."""
    found_sums = data if isinstance(data, Sums) else sums(data, step=step)
    found: dict[str, history.BoolArray] = {}
    for severity in SEVERITIES:
        fires = np.zeros(len(found_sums.times), dtype=np.bool_)
        for w in severity.windows:
            threshold = float(w.factor) * budget
            holds = np.ones(len(found_sums.times), dtype=np.bool_)
            for length in (w.long, w.short):
                bad, total, has = found_sums.windows[length]
                holds &= has & (bad > threshold * total)
            fires |= holds
        found[severity.name] = fires
    return found_sums.times, found


def firings(times: history.FloatArray, fires: history.BoolArray) -> list[Firing]:
    """The alerts: maximal runs of evaluations where the condition held."""
    last = int(times[-1]) if len(times) else 0
    return [
        Firing(int(times[a]), int(times[b]) if b < len(times) else last)
        for a, b in history.runs(fires)
    ]


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
    precomputed: Sums | None = None,
) -> Cost:
    """Replay the alerts of the objective ``target`` (percent) over ``data`` (``precomputed``:
    its ``sums``, when several objectives are replayed over the same events)."""
    budget = float((Decimal(100) - target) / Decimal(100))
    times, fires = conditions(precomputed or sums(data, step=step), budget)
    page = fires[PAGE.name]
    seconds_present = float(np.count_nonzero(data.present)) * data.bucket_seconds
    per_window = (
        float(data.total.sum()) / seconds_present * window_seconds if seconds_present else 0.0
    )
    budget_events = budget * per_window
    edges = data.start + data.bucket_seconds * np.arange(len(data.total) + 1, dtype=np.float64)
    cum_bad = np.concatenate([[0.0], np.cumsum(data.bad)])
    # A page can come after the incident's last bucket only while the short windows still hold
    # it; the longest page short window bounds that.
    grace = max(w.short for w in PAGE.windows)
    detections = []
    for start, end in incidents:
        hits = np.flatnonzero(page & (times >= start) & (times <= end + grace))
        if not len(hits):
            detections.append(Detection(start, end, None, None))
            continue
        at = float(times[hits[0]])
        burned = float(np.interp(at, edges, cum_bad) - np.interp(float(start), edges, cum_bad))
        detections.append(
            Detection(
                start,
                end,
                int(at) - start,
                burned / budget_events if budget_events > 0 else None,
            )
        )
    return Cost(
        pages=len(firings(times, page)),
        tickets=len(firings(times, fires[TICKET.name])),
        days=seconds_present / history.SECONDS_PER_DAY,
        detections=tuple(detections),
        evaluation_seconds=step,
    )


def with_alerting(
    result: results.SliResult, data: history.AvailabilityHistory | history.LatencyHistory
) -> results.SliResult:
    """``result`` with each tier's pager cost (``Tier.alerting``) over the history ``data``
    (the history the tiers were computed from, exclusions applied)."""
    incidents = [(i.start, i.end) for i in result.explanation.incidents]
    by_bound: dict[float | None, tuple[Events, Sums]] = {}
    for tier in result.tiers:
        if tier.bucket_bound not in by_bound:
            found = events(data, bound=tier.bucket_bound)
            by_bound[tier.bucket_bound] = (found, sums(found))
    tiers = tuple(
        dataclasses.replace(
            tier,
            alerting=cost(
                by_bound[tier.bucket_bound][0],
                target=tier.target,
                window_seconds=result.window_seconds,
                incidents=incidents,
                precomputed=by_bound[tier.bucket_bound][1],
            ),
        )
        for tier in result.tiers
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
