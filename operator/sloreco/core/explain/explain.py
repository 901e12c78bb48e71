"""The explanation: what limited each tier, data quality, and the result assembled around them.

Everything said here is computed from the data (SPEC §3.3): "limited by incidents" means the
tier would be higher without them — a counterfactual recomputed with the same random draws, not
a fixed weight presented as attribution. Which hours are incidents is ``incidents``'s decision;
how each finding is put in words is ``wording``'s; what was computed arrives as
``evidence.Facts``. This module decides what to say and builds the ``results.SliResult``.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Protocol

import numpy as np

from sloreco.core import history, orderstats, results
from sloreco.core.explain import evidence, wording
from sloreco.core.explain.incidents import baseline_ratio, incident_mask, incidents
from sloreco.core.explain.limits import limits
from sloreco.core.explain.wording import clip

#: Incident detection and ``clip`` moved to ``incidents`` and ``wording``; they are re-exported
#: so that callers of ``explain`` (and its tests) keep working unchanged.
__all__ = [
    "GAPS_LISTED",
    "MethodLike",
    "assemble",
    "baseline_ratio",
    "clip",
    "dependency_impacts",
    "gaps",
    "incident_mask",
    "incidents",
    "limits",
    "observed",
]

FloatArray = history.FloatArray
BoolArray = history.BoolArray

#: Gaps listed in ``dataQuality``, the longest (keeps the object far below etcd's size limit).
GAPS_LISTED = 20


def observed(windows: FloatArray, *, source: str, higher_is_better: bool) -> results.Observed:
    """Best, median and worst of window values (availability fractions or latencies)."""
    best, worst = (
        (windows.max(), windows.min()) if higher_is_better else (windows.min(), windows.max())
    )
    return results.Observed(
        source="history" if source == "history" else "simulated",
        windows=len(windows),
        best=float(best),
        median=orderstats.median(windows),
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


class MethodLike(Protocol):
    """The parts of ``method.MethodSettings`` the explanation reads."""

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


def assemble(facts: evidence.Facts, method: MethodLike) -> results.SliResult:
    """The result: tiers as computed, plus data quality, backtest and explanation in words."""
    f = facts
    low_confidence = f.data_days < f.window_days
    unit = f.kind.bad_event
    step = 1.0 / f.traffic if f.traffic > 0 else math.inf
    reference = f.tiers[method.reference]
    allowance = max(1 - float(reference.target) / 100, float(method.precision) / 100)
    low_traffic = step > method.low_traffic_share * allowance
    notes = list(f.notes)
    if low_confidence:
        notes.append(
            f"Only {wording.days_text(f.data_days)} of data, less than one "
            f"{wording.window_text(f.window_seconds)} window: simulated windows reuse the same "
            "days, so treat the tiers as low-confidence."
        )
    if low_traffic:
        notes.append(
            f"Low traffic: about {f.traffic:.0f} requests per "
            f"{wording.window_text(f.window_seconds)} window, so one {unit} moves a window by "
            f"{step * 100:.4g} points, more than {method.low_traffic_share:g} of the "
            f"{reference.name} error budget."
        )
    listed, unlisted = gaps(f.present, f.excluded, start=f.start, bucket_seconds=f.bucket_seconds)
    if unlisted:
        notes.append(f"{unlisted} more gaps are not listed (the {GAPS_LISTED} longest are).")
    if f.kind.higher_is_better and all(t.target == 100 for t in f.tiers):
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
        (
            tier.name,
            limits(f, i, method.precision, low_confidence=low_confidence, low_traffic=low_traffic),
        )
        for i, tier in enumerate(f.tiers)
    )
    backtest = results.Backtest(
        description=(
            f"Out of sample: at origins every {method.backtest_step_days} days back from the end "
            f"with at least {method.min_history_days:g} days of data before them, the tiers were "
            f"recomputed from the data before the origin only and checked against the "
            f"{wording.window_text(f.window_seconds)} window that followed. "
            + (
                "Windows overlap, so the evaluations are not independent."
                if method.backtest_step_days * history.SECONDS_PER_DAY < f.window_seconds
                else "The windows do not overlap."
            )
        ),
        tiers=tuple(
            results.BacktestTier(t.name, f.evaluations, b)
            for t, b in zip(f.tiers, f.breaches, strict=True)
        ),
    )
    seen = observed(
        f.windows,
        source="history" if f.from_history else "simulated",
        higher_is_better=f.kind.higher_is_better,
    )
    explanation = results.Explanation(
        summary=wording.summary(f, seen, backtest, impacts, quality),
        observed=seen,
        incidents=f.incidents,
        incident_share=f.incident_share,
        dependencies=impacts,
        limited_by=limited,
        current_objective=f.objective,
    )
    return results.SliResult(
        kind=f.kind,
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
