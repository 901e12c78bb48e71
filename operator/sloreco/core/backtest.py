"""Backtest a forecast: for each past origin, tiers forecast from the hours before it, checked
against the window that followed.

Its own module because it is the forecast's judge, not part of it: it recomputes the whole
forecast — incident detection included — from the history cut at each origin
(``forecast.background_of``), draws every origin's incident losses in one call, and counts how
often each tier and the current objective would have been missed. Nothing after an origin is
read.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import numpy as np

from sloreco.core import bootstrap, forecast, history, incidentloss, method, predictive, stats
from sloreco.core.models import availability as model

FloatArray = history.FloatArray


@dataclasses.dataclass(frozen=True)
class Backtest:
    """Per-origin inputs shared by both SLIs."""

    confidences: tuple[float, ...]
    tolerance: float
    precision: Decimal
    cap: Decimal | None
    cappable: tuple[bool, ...]
    step_days: int
    min_history_days: float
    inner: int
    outer: int
    min_window_coverage: float


def run(
    series: forecast.Series,
    *,
    src: forecast.Source,
    seed: int,
    plan: Backtest,
    objective: tuple[float, FloatArray] | None = None,
) -> stats.BacktestCounts:
    """For each past origin, tiers forecast from the hours before it, against what followed.

    ``objective``: a target fraction and the bad events it is judged on (``series.bad`` for
    availability; the requests over the objective's threshold for latency).
    """
    bad, total, present = series.bad, series.total, series.present
    bucket_seconds, draws = src.bucket_seconds, src.draws
    window_days = draws.window_days
    per_day = history.buckets_per_day(bucket_seconds)
    days = -(-len(total) // per_day)
    pad = days * per_day - len(total)
    day_bad = history.daily_sums(bad, bucket_seconds=bucket_seconds)
    day_total = history.daily_sums(total, bucket_seconds=bucket_seconds)
    day_objective = history.daily_sums(
        bad if objective is None else objective[1], bucket_seconds=bucket_seconds
    )
    data_days = history.daily_sums(present.astype(np.float64), bucket_seconds=bucket_seconds)
    before = np.concatenate([[0.0], np.cumsum(data_days / per_day)])
    kept: list[tuple[int, forecast.Background]] = []
    for origin in bootstrap.origins(
        days=days,
        window_days=window_days,
        step_days=plan.step_days,
        history_days=before,
        min_history=plan.min_history_days,
    ):
        covered = before[origin + window_days] - before[origin]
        cut = origin * per_day - pad
        if covered < plan.min_window_coverage * window_days or cut <= 0:
            continue
        if float(day_total[origin : origin + window_days].sum()) <= 0:
            continue
        part = forecast.background_of(
            series.before(cut), src=src, inner=plan.inner, outer=plan.outer
        )
        if part.pool_days >= draws.min_pool_days:  # else too few days for the blocks drawn
            kept.append((origin, part))
    evaluations, objective_breaches = 0, 0
    breaches = [0] * len(plan.confidences)
    if not kept:
        return stats.BacktestCounts(0, tuple(breaches), 0)
    lost = incidentloss.losses(
        [part.posterior for _, part in kept],
        predictive.rng_for(seed, "backtest"),
        outer=plan.outer,
        inner=plan.inner,
        window_days=window_days,
    )
    lowest = 1.0 - min(plan.confidences)
    widening = predictive.rng_for(seed, "backtest", "background")
    for (origin, part), part_lost in zip(kept, lost, strict=True):
        background = part.widened(widening, draws)
        windows = predictive.Predictive.of(background, part_lost, lowest=lowest)
        chosen = model.choose(
            windows.values(plan.confidences, plan.tolerance),
            precision=plan.precision,
            cap=plan.cap,
            cappable=plan.cappable,
        )
        span = slice(origin, origin + window_days)
        window_total = float(day_total[span].sum())
        actual = 1.0 - float(day_bad[span].sum()) / window_total
        evaluations += 1
        for i, target in enumerate(chosen.values):
            breaches[i] += actual < stats.fraction(target)
        if objective is not None:
            share = 1.0 - float(day_objective[span].sum()) / window_total
            objective_breaches += share < objective[0]
    return stats.BacktestCounts(evaluations, tuple(breaches), objective_breaches)


def plan(s: method.MethodSettings, cap: Decimal | None, cappable: tuple[bool, ...]) -> Backtest:
    """The backtest's settings, from the method's."""
    return Backtest(
        confidences=s.confidences,
        tolerance=s.tolerance,
        precision=s.precision,
        cap=cap,
        cappable=cappable,
        step_days=s.backtest_step_days,
        min_history_days=s.min_history_days,
        inner=s.backtest_resamples,
        outer=s.backtest_outer_resamples,
        min_window_coverage=s.backtest_min_window_coverage,
    )
