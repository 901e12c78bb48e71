"""Availability: window availability from day sums, tier targets, dependency ceiling, backtest.

The quantity an availability SLO is judged on is one number per compliance window,
``1 - sum(bad) / sum(total)`` over the window (SPEC §3.1). Everything here works on per-day
*counts*, never on per-day ratios, so a quiet day weighs as little as it carries traffic: a
window's availability is exactly what Prometheus would compute over that window.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from decimal import Decimal

import numpy as np

from sloreco.core import bootstrap, history, orderstats, stats

FloatArray = history.FloatArray

#: Column order of a pool of days: bad events, then all requests.
BAD, TOTAL = 0, 1


@dataclasses.dataclass(frozen=True, eq=False)
class Days:
    """Per-day sums on the day grid that ends with the history (``history.daily_sums``)."""

    bad: FloatArray
    total: FloatArray
    #: Days of data in each day (present buckets / buckets per day), for guards and origins.
    data_days: FloatArray

    @classmethod
    def of(cls, hist: history.AvailabilityHistory) -> Days:
        total, bad, present = history.clean_availability(hist)
        per_day = history.buckets_per_day(hist.bucket_seconds)
        return cls(
            bad=history.daily_sums(bad, bucket_seconds=hist.bucket_seconds),
            total=history.daily_sums(total, bucket_seconds=hist.bucket_seconds),
            data_days=history.daily_sums(
                present.astype(np.float64), bucket_seconds=hist.bucket_seconds
            )
            / per_day,
        )

    def pool(self, first: int = 0, end: int | None = None) -> FloatArray:
        """Days ``[first, end)`` that carried traffic, as ``(days, [bad, total])``.

        Days without traffic are dropped rather than kept as zeros: they say nothing about
        availability, and a simulated window should hold as many days of traffic as a real one.
        """
        bad, total = self.bad[first:end], self.total[first:end]
        keep = total > 0
        return np.stack([bad[keep], total[keep]], axis=1)

    def window(self, first: int, days: int) -> float:
        """The availability actually observed over days ``[first, first + days)``."""
        total = float(self.total[first : first + days].sum())
        return 1.0 - float(self.bad[first : first + days].sum()) / total if total > 0 else math.nan


def simulate(
    pool: FloatArray, uniforms: FloatArray, *, window_days: int, block_days: int
) -> FloatArray:
    """Availability of each simulated window (one per column of ``uniforms``)."""
    sums = bootstrap.window_sums(pool, uniforms, window_days=window_days, block_days=block_days)
    ratio: FloatArray = 1.0 - sums[:, BAD] / sums[:, TOTAL]
    return ratio


def rolling(days: Days, window_days: int) -> FloatArray:
    """Availability of every complete rolling window in the history (those with traffic)."""
    bad = np.concatenate([[0.0], np.cumsum(days.bad)])
    total = np.concatenate([[0.0], np.cumsum(days.total)])
    window_total = total[window_days:] - total[:-window_days]
    window_bad = bad[window_days:] - bad[:-window_days]
    keep = window_total > 0
    ratio: FloatArray = 1.0 - window_bad[keep] / window_total[keep]
    return ratio


def ceiling(availabilities: Sequence[float]) -> float:
    """Most the service can reach if its hard dependencies fail independently (SPEC §3.1)."""
    return math.prod(availabilities)


def replicates(
    pool: FloatArray,
    draws: bootstrap.Draws,
    *,
    inner: int,
    outer: int | None = None,
    reference: FloatArray | None = None,
    lowest: float = 0.05,
) -> orderstats.Replicates:
    """Window availability simulated from pseudo-histories of ``pool`` (nested bootstrap).

    ``lowest``: the share of each pseudo-history's windows the tiers read (the loosest tier's
    ``1 - confidence``), ordered up front.
    """
    sums = bootstrap.replicate_window_sums(pool, draws, inner=inner, outer=outer)
    return orderstats.Replicates.of(
        1.0 - sums[..., BAD] / sums[..., TOTAL], reference, lowest=lowest
    )


@dataclasses.dataclass(frozen=True)
class Targets:
    """Tier targets (percent, rounded down, capped where allowed) and which were capped."""

    values: tuple[Decimal, ...]
    capped: tuple[bool, ...]
    #: The data's own targets before any dependency cap, and before rounding (fractions).
    uncapped: tuple[Decimal, ...]
    raw: tuple[float, ...]


def targets(
    reps: orderstats.Replicates,
    *,
    confidences: tuple[float, ...],
    tolerance: float,
    precision: Decimal,
    cap: Decimal | None,
    cappable: tuple[bool, ...],
) -> Targets:
    """Per tier the target met by ``confidence`` of simulated windows, then the cap.

    Met by that share of windows simulated from the history, and still met at the
    ``tolerance`` lower point across resampled histories (``Replicates.lower_bound``): a target
    read off one history's simulations alone is breached several times more often than it
    promises once incidents are rarer than a window (see the calibration test).
    """
    raw = tuple(reps.lower_bound(c, tolerance) for c in confidences)
    return choose(raw, precision=precision, cap=cap, cappable=cappable)


def choose(
    raw: tuple[float, ...], *, precision: Decimal, cap: Decimal | None, cappable: tuple[bool, ...]
) -> Targets:
    """Targets from raw fractions: rounded down to ``precision``, then the dependency cap."""
    uncapped = tuple(stats.percent(v, precision) for v in raw)
    values, capped = [], []
    for value, may_cap in zip(uncapped, cappable, strict=True):
        over = cap is not None and may_cap and value > cap
        values.append(cap if over and cap is not None else value)
        capped.append(over)
    return Targets(tuple(values), tuple(capped), uncapped, raw)


def backtest(
    days: Days,
    draws: bootstrap.Draws,
    *,
    confidences: tuple[float, ...],
    tolerance: float,
    precision: Decimal,
    cap: Decimal | None,
    cappable: tuple[bool, ...],
    step_days: int,
    min_history_days: float,
    inner: int,
    outer: int,
    min_window_coverage: float,
    objective: Decimal | None,
) -> stats.BacktestCounts:
    """For each past origin, tiers from the days before it against the window that followed.

    The tiers are recomputed exactly as for the recommendation, with ``outer`` pseudo-histories
    instead of the full count (the CPU budget): the same draws, the same tolerance.
    """
    window_days = draws.window_days
    before = np.concatenate([[0.0], np.cumsum(days.data_days)])
    evaluations, objective_breaches = 0, 0
    breaches = [0] * len(confidences)
    for origin in bootstrap.origins(
        days=len(days.total),
        window_days=window_days,
        step_days=step_days,
        history_days=before,
        min_history=min_history_days,
    ):
        covered = before[origin + window_days] - before[origin]
        actual = days.window(origin, window_days)
        pool = days.pool(0, origin)
        if covered < min_window_coverage * window_days or math.isnan(actual):
            continue
        if len(pool) < draws.min_pool_days:
            continue  # too few days with traffic for the blocks the draws were laid out for
        then = targets(
            replicates(pool, draws, inner=inner, outer=outer, lowest=1.0 - min(confidences)),
            confidences=confidences,
            tolerance=tolerance,
            precision=precision,
            cap=cap,
            cappable=cappable,
        )
        evaluations += 1
        for i, target in enumerate(then.values):
            breaches[i] += actual < stats.fraction(target)
        if objective is not None:
            objective_breaches += actual < stats.fraction(objective)
    return stats.BacktestCounts(evaluations, tuple(breaches), objective_breaches)


def without_incidents(
    bad: FloatArray,
    total: FloatArray,
    mask: history.BoolArray,
    *,
    baseline: float | FloatArray,
    days: Days,
    draws: bootstrap.Draws,
    bucket_seconds: int,
    sims: FloatArray,
    chosen: Targets,
    confidences: tuple[float, ...],
    precision: Decimal,
) -> tuple[Decimal, ...] | None:
    """The counterfactual: tier targets had incident buckets run at the normal error ratio.

    The shift the incidents cause in the plain simulated quantiles (same draws on both sides,
    so the difference is the incidents' doing alone), applied to the tiers' own values.
    ``None`` when no bucket was part of an incident.
    """
    if not mask.any():
        return None
    calm = np.where(mask, np.minimum(baseline * total, bad), bad)
    calm_days = Days(
        history.daily_sums(calm, bucket_seconds=bucket_seconds), days.total, days.data_days
    )
    calm_sims = simulate(
        calm_days.pool(), draws.windows, window_days=draws.window_days, block_days=draws.block_days
    )
    shift = orderstats.lower_values(calm_sims, confidences) - orderstats.lower_values(
        sims, confidences
    )
    return tuple(
        stats.percent(min(1.0, raw + float(d)), precision)
        for raw, d in zip(chosen.raw, shift, strict=True)
    )
