"""The explanation: incidents, what limited each tier, data quality, and the summary in words.

Everything said here is computed from the data (SPEC §3.3): incidents are runs of hours whose
error ratio stood far above the service's normal, their weight is their share of the errors,
and "limited by incidents" means the tier would be higher without them — a counterfactual
recomputed with the same random draws, not a fixed weight presented as attribution.
"""

from __future__ import annotations

import dataclasses
import math
from decimal import Decimal
from typing import Protocol

import numpy as np

from sloreco import durations, history, results

FloatArray = history.FloatArray
BoolArray = history.BoolArray

#: An hour is part of an incident when its error ratio is at least ten times (one order of
#: magnitude) the normal ratio…
INCIDENT_FACTOR = 10.0
#: …and its excess over the normal count is beyond Poisson noise: 4 standard deviations, a
#: 3-in-100,000 chance per hour, so a steady service shows a false incident once in ~3.5 years
#: of hourly buckets (and at high traffic the tenfold factor binds first anyway).
INCIDENT_SIGMAS = 4.0
#: …and it holds at least this many bad events: a single failed request is never an incident.
INCIDENT_MIN_EVENTS = 3.0
#: Incidents listed in the explanation, the largest first (the rest still count in the share).
INCIDENTS_LISTED = 5
#: Gaps listed in ``dataQuality``, the longest (keeps the object far below etcd's size limit).
GAPS_LISTED = 20
#: The CRD's ``maxLength`` for ``explanation.summary`` (crds/slorecommendations.yaml).
SUMMARY_MAX_CHARS = 4096


def baseline_ratio(bad: FloatArray, total: FloatArray) -> float:
    """The service's normal bad-event ratio: the traffic-weighted median of daily ratios.

    A median, so incidents do not raise what counts as normal; of days rather than hours, so
    that at low traffic it is not zero just because most hours see no error at all.
    """
    keep = total > 0
    if not keep.any():
        return 0.0
    ratios, weights = bad[keep] / total[keep], total[keep]
    order = np.argsort(ratios, kind="stable")
    cumulative = np.cumsum(weights[order])
    middle = int(np.searchsorted(cumulative, cumulative[-1] / 2))
    return float(ratios[order][middle])


def incident_mask(bad: FloatArray, total: FloatArray, baseline: float) -> BoolArray:
    """Buckets whose bad events stand well above ``baseline`` (see the constants above)."""
    expected = baseline * total
    floor = np.maximum(
        np.maximum(INCIDENT_FACTOR * expected, expected + INCIDENT_SIGMAS * np.sqrt(expected)),
        INCIDENT_MIN_EVENTS,
    )
    flagged: BoolArray = (total > 0) & (bad >= floor)
    return flagged


def incidents(
    bad: FloatArray, total: FloatArray, mask: BoolArray, *, start: int, bucket_seconds: int
) -> tuple[tuple[results.Incident, ...], float]:
    """The largest incidents (runs of flagged buckets) and the share of all bad events in any."""
    all_bad = float(bad.sum())
    if all_bad <= 0:
        return (), 0.0
    found = []
    for first, end in history.runs(mask):
        events = float(bad[first:end].sum())
        ratios = bad[first:end] / np.maximum(total[first:end], 1e-300)
        found.append(
            results.Incident(
                start=start + first * bucket_seconds,
                end=start + end * bucket_seconds,
                bad_events=events,
                share=events / all_bad,
                peak_ratio=float(ratios.max()),
            )
        )
    found.sort(key=lambda i: (-i.bad_events, i.start))
    return tuple(found[:INCIDENTS_LISTED]), float(bad[mask].sum()) / all_bad


def observed(windows: FloatArray, *, source: str, higher_is_better: bool) -> results.Observed:
    """Best, median and worst of window values (availability fractions or latencies)."""
    best, worst = (
        (windows.max(), windows.min()) if higher_is_better else (windows.min(), windows.max())
    )
    return results.Observed(
        source="history" if source == "history" else "simulated",
        windows=len(windows),
        best=float(best),
        median=float(np.median(windows)),
        worst=float(worst),
    )


def gaps(
    present: BoolArray, excluded: BoolArray, *, start: int, bucket_seconds: int
) -> tuple[tuple[results.Gap, ...], int]:
    """The longest gaps (in time order) and how many more there were."""
    runs = history.gaps(present, excluded)
    longest = sorted(runs, key=lambda r: (r[0] - r[1], r[0]))[:GAPS_LISTED]
    listed = tuple(
        results.Gap(start + a * bucket_seconds, start + b * bucket_seconds)
        for a, b in sorted(longest)
    )
    return listed, len(runs) - len(listed)


def days_text(days: float) -> str:
    return f"{days:.1f} days" if days != 1 else "1 day"


def window_text(window_seconds: int) -> str:
    return durations.format(window_seconds)


def pct(value: Decimal | float) -> str:
    """A percent for prose: Decimals as written, fractions with up to four places."""
    if isinstance(value, Decimal):
        return f"{results.number(value)}%"
    return f"{results.percent(value).rstrip('0').rstrip('.')}%"


def share_text(share: float) -> str:
    """A share of events for prose: one decimal is all a reader needs (``31.8%``)."""
    return f"{share * 100:.1f}%"


def chance(probability: float) -> str:
    """A probability in words-friendly percent (``0.9%``, ``< 0.01%``)."""
    if probability <= 0:
        return "under 0.01%"
    return f"{results.fixed(probability * 100, 2)}%"


def tier_sentence(
    tier: results.Tier, backtest: results.BacktestTier, *, window: str, sli: str, percentile: str
) -> str:
    """One tier in words: what it promises, how sure we are, and how it did out of sample."""
    interval = tier.confidence_interval
    level = results.number(Decimal(repr(interval.level * 100)).normalize())
    share = results.number(Decimal(repr(tier.confidence * 100)).normalize())
    if sli == "latency" and tier.bucket_bound is not None and tier.threshold is not None:
        head = (
            f"{tier.name.capitalize()}: p{percentile} stays under {tier.threshold}s in {share}% "
            f"of simulated {window} windows; as a checkable objective, {pct(tier.target)} of "
            f"requests within {results.bound(tier.bucket_bound)}s"
        )
    else:
        head = (
            f"{tier.name.capitalize()}: {pct(tier.target)}, met by {share}% of simulated "
            f"{window} windows"
        )
    if tier.capped:
        head += " (capped by the hard dependencies)"
    tested = (
        f"missed in {backtest.breaches} of {backtest.evaluations} past windows out of sample"
        if backtest.evaluations
        else "not backtested (too little history before a full window)"
    )
    return (
        f"{head}; {level}% interval {interval.lower}–{interval.upper}; "
        f"chance a future window misses it, allowing for what a history this long can "
        f"miss, {chance(tier.breach_probability)}; {tested}."
    )


class MethodLike(Protocol):
    """The parts of ``engine.MethodSettings`` the explanation reads (engine sits above us)."""

    @property
    def precision(self) -> Decimal: ...
    @property
    def reference(self) -> int: ...
    @property
    def low_traffic_share(self) -> float: ...
    @property
    def backtest_step_days(self) -> int: ...
    @property
    def min_history_days(self) -> float: ...
    @property
    def resamples(self) -> int: ...


@dataclasses.dataclass(frozen=True, eq=False)
class Facts:
    """Everything the engine computed, from which the result and its explanation are built."""

    sli: results.Sli
    start: int
    end: int
    bucket_seconds: int
    window_seconds: int
    seed: int
    block_days: int
    tiers: tuple[results.Tier, ...]
    #: Out-of-sample counts: evaluations, breaches per tier, breaches of the current objective.
    evaluations: int
    breaches: tuple[int, ...]
    #: Window values (availability fractions or latencies) and whether they are real windows.
    windows: FloatArray
    from_history: bool
    present: BoolArray
    excluded: BoolArray
    traffic: float
    incidents: tuple[results.Incident, ...]
    incident_share: float
    #: Tier targets (percent) the data alone supports, and without the incidents.
    uncapped: tuple[Decimal, ...]
    without_incidents: tuple[Decimal, ...] | None = None
    dependencies: tuple[tuple[str, float], ...] = ()
    ceiling: float | None = None
    objective: results.ObjectiveReport | None = None
    notes: tuple[str, ...] = ()
    percentile: Decimal | None = None
    #: Latency: tiers whose threshold sits at the highest finite bound (the +Inf bucket).
    tail_limited: tuple[bool, ...] = ()

    @property
    def window_days(self) -> int:
        return self.window_seconds // history.SECONDS_PER_DAY

    @property
    def data_days(self) -> float:
        return float(np.count_nonzero(self.present)) * self.bucket_seconds / history.SECONDS_PER_DAY


def assemble(facts: Facts, method: MethodLike) -> results.SliResult:
    """The result: tiers as computed, plus data quality, backtest and explanation in words."""
    f = facts
    low_confidence = f.data_days < f.window_days
    unit = "bad event" if f.sli == "availability" else "slow request"
    step = 1.0 / f.traffic if f.traffic > 0 else math.inf
    reference = f.tiers[method.reference]
    allowance = max(1 - float(reference.target) / 100, float(method.precision) / 100)
    low_traffic = step > method.low_traffic_share * allowance
    notes = list(f.notes)
    if low_confidence:
        notes.append(
            f"Only {days_text(f.data_days)} of data, less than one {window_text(f.window_seconds)} "
            "window: simulated windows reuse the same days, so treat the tiers as low-confidence."
        )
    if low_traffic:
        notes.append(
            f"Low traffic: about {f.traffic:.0f} requests per {window_text(f.window_seconds)} "
            f"window, so one {unit} moves a window by {step * 100:.4g} points, more than "
            f"{method.low_traffic_share:g} of the {reference.name} error budget."
        )
    listed, unlisted = gaps(f.present, f.excluded, start=f.start, bucket_seconds=f.bucket_seconds)
    if unlisted:
        notes.append(f"{unlisted} more gaps are not listed (the {GAPS_LISTED} longest are).")
    if f.sli == "availability" and all(t.target == 100 for t in f.tiers):
        notes.append("No bad events in the history: a 100% target leaves no error budget at all.")
    quality = results.DataQuality(
        coverage=history.coverage(f.present, f.excluded),
        days_analysed=f.data_days,
        gaps=listed,
        excluded_buckets=int(np.count_nonzero(f.excluded)),
        low_confidence=low_confidence,
        low_traffic=low_traffic,
        notes=tuple(notes),
    )
    impacts = dependency_impacts(f.dependencies, f.tiers)
    limited = tuple(
        (tier.name, limits(f, i, method, low_confidence=low_confidence, low_traffic=low_traffic))
        for i, tier in enumerate(f.tiers)
    )
    backtest = results.Backtest(
        description=(
            f"Out of sample: at origins every {method.backtest_step_days} days back from the end "
            f"with at least {method.min_history_days:g} days of data before them, the tiers were "
            f"recomputed from the data before the origin only and checked against the "
            f"{window_text(f.window_seconds)} window that followed. Windows overlap, so the "
            "evaluations are not independent."
        ),
        tiers=tuple(
            results.BacktestTier(t.name, f.evaluations, b)
            for t, b in zip(f.tiers, f.breaches, strict=True)
        ),
    )
    seen = observed(
        f.windows,
        source="history" if f.from_history else "simulated",
        higher_is_better=f.sli == "availability",
    )
    explanation = results.Explanation(
        summary=summary(f, seen, backtest, impacts, quality),
        observed=seen,
        incidents=f.incidents,
        incident_share=f.incident_share,
        dependencies=impacts,
        limited_by=limited,
        current_objective=f.objective,
    )
    return results.SliResult(
        sli=f.sli,
        window_seconds=f.window_seconds,
        lookback_start=f.start,
        lookback_end=f.end,
        tiers=f.tiers,
        backtest=backtest,
        explanation=explanation,
        data_quality=quality,
        method=results.Method(resamples=method.resamples, block_days=f.block_days, seed=f.seed),
        percentile=f.percentile,
        ceiling=f.ceiling,
        objective_unachievable=f.objective is not None and not f.objective.achievable,
    )


def dependency_impacts(
    dependencies: tuple[tuple[str, float], ...], tiers: tuple[results.Tier, ...]
) -> tuple[results.DependencyImpact, ...]:
    """Per hard dependency, the share of each tier's budget it alone consumes."""
    if not dependencies:
        return ()
    worst = min(dependencies, key=lambda d: (d[1], d[0]))[0]
    return tuple(
        results.DependencyImpact(
            name=name,
            availability=value,
            bottleneck=name == worst,
            budget_share=tuple(
                (t.name, None if t.target >= 100 else (1 - value) / (1 - float(t.target) / 100))
                for t in tiers
            ),
        )
        for name, value in dependencies
    )


def limits(
    f: Facts, i: int, method: MethodLike, *, low_confidence: bool, low_traffic: bool
) -> tuple[results.Limit, ...]:
    """What held tier ``i`` where it is, each with its evidence."""
    tier = f.tiers[i]
    found = []
    if tier.capped and f.dependencies:
        name, value = min(f.dependencies, key=lambda d: (d[1], d[0]))
        found.append(
            results.Limit(
                "dependency",
                f"capped at {pct(tier.target)}, what the hard dependencies allow together "
                f"(the data alone supports {pct(f.uncapped[i])}); bottleneck {name} at "
                f"{pct(value)}",
            )
        )
    if low_confidence:
        found.append(
            results.Limit(
                "history",
                f"{days_text(f.data_days)} of data, less than one "
                f"{window_text(f.window_seconds)} window",
            )
        )
    else:
        interval = tier.confidence_interval
        budget = Decimal(100) - tier.target
        if budget > 0 and interval.upper - interval.lower > budget / 2:
            found.append(
                results.Limit(
                    "history",
                    f"the interval {interval.lower}–{interval.upper} spans more than half of the "
                    f"{results.number(budget)}-point error budget; more history would narrow it",
                )
            )
    if f.without_incidents is not None and f.incidents:
        better = f.without_incidents[i]
        budget = Decimal(100) - f.uncapped[i]
        if better - f.uncapped[i] >= max(method.precision, budget / 4):
            found.append(
                results.Limit(
                    "incidents",
                    f"without the incidents (holding {share_text(f.incident_share)} of bad "
                    f"events) the data would support about {pct(better)}",
                )
            )
    elif f.sli == "latency" and f.incidents and f.incident_share >= 0.5:
        found.append(
            results.Limit(
                "incidents", f"incidents hold {share_text(f.incident_share)} of the slow requests"
            )
        )
    if f.tail_limited and f.tail_limited[i]:
        found.append(
            results.Limit(
                "tail",
                "the threshold sits at the highest finite bucket bound (+Inf bucket reached)",
            )
        )
    if low_traffic:
        found.append(
            results.Limit(
                "traffic",
                f"about {f.traffic:.0f} requests per window: single events move it visibly",
            )
        )
    if not found:
        what = "error rate" if f.sli == "availability" else "latency distribution"
        found.append(
            results.Limit("baseline", f"the service's steady {what} itself, outside any incident")
        )
    return tuple(found)


def summary(
    f: Facts,
    seen: results.Observed,
    backtest: results.Backtest,
    impacts: tuple[results.DependencyImpact, ...],
    quality: results.DataQuality,
) -> str:
    """The explanation in words: what was seen, what each tier promises, and why."""
    window = window_text(f.window_seconds)
    percentile = results.number(f.percentile) if f.percentile is not None else ""
    if f.sli == "availability":
        values = [pct(v) for v in (seen.worst, seen.median, seen.best)]
        what = "availability"
    else:
        values = [
            f"{results.number(results.seconds(v))}s" for v in (seen.worst, seen.median, seen.best)
        ]
        what = f"p{percentile} latency"
    where = (
        f"the {seen.windows} rolling {window} windows in the history"
        if seen.source == "history"
        else f"{seen.windows} simulated {window} windows (the history is shorter than one window)"
    )
    parts = [
        f"Based on {days_text(quality.days_analysed)} of data "
        f"({pct(quality.coverage)} coverage), {what} over {where} ranged from {values[0]} (worst) "
        f"to {values[2]} (best), median {values[1]}."
    ]
    parts.extend(
        tier_sentence(t, b, window=window, sli=f.sli, percentile=percentile)
        for t, b in zip(f.tiers, backtest.tiers, strict=True)
    )
    noun = "errors" if f.sli == "availability" else "slow requests"
    if f.incidents:
        top = f.incidents[0]
        parts.append(
            f"The largest incident ({results.rfc3339(top.start)} to {results.rfc3339(top.end)}) "
            f"held {share_text(top.share)} of all {noun}; all incidents together held "
            f"{share_text(f.incident_share)}."
        )
    else:
        parts.append(f"No incident stood out: the {noun} were spread out over time.")
    if impacts and f.ceiling is not None:
        bottleneck = next(d for d in impacts if d.bottleneck)
        capped = [t.name for t in f.tiers if t.capped]
        parts.append(
            f"Hard dependencies allow at most {pct(f.ceiling)} together (bottleneck "
            f"{bottleneck.name} at {pct(bottleneck.availability)})"
            + (
                f"; {' and '.join(capped)} {'is' if len(capped) == 1 else 'are'} capped there."
                if capped
                else "."
            )
        )
    if f.objective is not None:
        parts.append(objective_sentence(f.objective, window))
    parts.extend(quality.notes)
    return clip(" ".join(parts), SUMMARY_MAX_CHARS)


def clip(text: str, limit: int) -> str:
    """``text`` cut after its last whole sentence that fits in ``limit`` characters."""
    if len(text) <= limit:
        return text
    cut = text.rfind(". ", 0, limit - 1)
    return text[: cut + 1] if cut > 0 else text[: limit - 1] + "…"


def objective_sentence(objective: results.ObjectiveReport, window: str) -> str:
    if objective.availability is not None:
        name = pct(objective.availability)
    else:
        assert objective.latency is not None
        name = (
            f"{pct(objective.latency.target)} within {results.number(objective.latency.threshold)}s"
        )
    tested = (
        f"was missed in {objective.breaches} of {objective.evaluations} past windows"
        if objective.evaluations
        else "could not be backtested yet"
    )
    text = (
        f"The current objective {name} would be missed in {chance(objective.breach_probability)} "
        f"of simulated {window} windows and {tested}."
    )
    if not objective.achievable:
        text += " It is above what the hard dependencies allow together."
    return text


def tail_notes(in_inf: BoolArray, *, percentile: Decimal, highest: float) -> tuple[str, ...]:
    """A note when the percentile reached the ``+Inf`` bucket in some simulated windows."""
    if not in_inf.any():
        return ()
    return (
        f"In {chance(float(in_inf.mean()))} of simulated windows p{results.number(percentile)} "
        "fell above the "
        f"highest finite bucket bound ({results.bound(highest)}s); it is reported as that bound, "
        "and the histogram needs a larger bucket to show how slow those windows were.",
    )
