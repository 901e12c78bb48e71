"""The public entry points: one recommendation per SLI, from a history, a window and a seed.

``recommend_availability`` and ``recommend_latency`` are the whole statistical method of SPEC §3
as two pure functions: no clock, no I/O, and the same inputs and seed always give the same
result. They validate their inputs (``errors.InputError`` naming the field), refuse too little
history (``errors.InsufficientDataError`` with the days found), and return a
``results.SliResult`` whose ``to_spec()`` is the recommendation document.

The method, in one paragraph: aggregate the buckets to days; simulate compliance windows by a
circular block bootstrap of days (``bootstrap``); resample the history itself too (a nested
bootstrap) and simulate windows from each pseudo-history. A tier's target is what the tier's
share of simulated windows meets, taken at the cautious (``tolerance``) end across the
pseudo-histories; its interval is the spread of that value across them; its breach probability
is a double-bootstrap estimate that corrects the plain one for finite history; the backtest
recomputes all of it from the data before past origins and checks the window that followed.

``MethodSettings`` (``method``) and ``Dependency``, ``window_days`` and ``unique`` (``inputs``)
live in their own modules and are re-exported here, so ``engine`` stays the one import callers
need.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import numpy as np

from sloreco.core import history as histories
from sloreco.core import inputs, results
from sloreco.core.explain import evidence, explain, incidents, wording
from sloreco.core.inputs import Dependency, unique, window_days
from sloreco.core.method import MethodSettings
from sloreco.core.slis import availability, latency

__all__ = [
    "Dependency",
    "FloatArray",
    "MethodSettings",
    "recommend_availability",
    "recommend_latency",
    "unique",
    "window_days",
]

FloatArray = histories.FloatArray

#: Every call's default method (SPEC §3 as specified); frozen, so one instance serves all calls.
_DEFAULT_SETTINGS = MethodSettings()


def recommend_availability(
    history: histories.AvailabilityHistory,
    *,
    window_seconds: int,
    seed: int,
    settings: MethodSettings = _DEFAULT_SETTINGS,
    dependencies: Sequence[Dependency] = (),
    current_objective: Decimal | None = None,
) -> results.SliResult:
    """Availability tiers for ``history`` and a compliance window (SPEC §3.1)."""
    s = settings
    days_in_window = window_days(window_seconds)
    objective = inputs.percent(current_objective, "currentObjective.availability")
    deps = unique(dependencies)
    total, bad, present = histories.clean_availability(history)
    days = availability.Days.of(history)
    pool = days.pool()
    draws = inputs.prepare(days.data_days, pool, seed=seed, window_days=days_in_window, s=s)
    sims = availability.simulate(
        pool, draws.windows, window_days=days_in_window, block_days=s.block_days
    )
    reps = availability.replicates(
        pool, draws, inner=s.ci_inner_resamples, reference=sims, lowest=1.0 - min(s.confidences)
    )
    ceiling = availability.ceiling([d.availability for d in deps]) if deps else None
    cap = availability.percent(ceiling, s.precision) if ceiling is not None else None
    cappable = tuple(name not in s.uncapped_tiers for name in s.names)
    chosen = availability.targets(
        reps,
        confidences=s.confidences,
        tolerance=s.tolerance,
        precision=s.precision,
        cap=cap,
        cappable=cappable,
    )
    traffic = availability.traffic_per_window(days.total, days.data_days, days_in_window)
    tiers = tuple(
        results.Tier(
            name=name,
            confidence=confidence,
            target=target,
            breach_probability=availability.breach_probability(reps, target),
            confidence_interval=availability.interval(
                reps, confidence, s.ci_level, s.precision, cap=cap if cappable[i] else None
            ),
            error_budget=availability.budget(target, traffic, window_seconds),
            capped=chosen.capped[i],
        )
        for i, (name, confidence, target) in enumerate(
            zip(s.names, s.confidences, chosen.values, strict=True)
        )
    )
    counts = availability.backtest(
        days,
        draws,
        confidences=s.confidences,
        tolerance=s.tolerance,
        precision=s.precision,
        cap=cap,
        cappable=cappable,
        step_days=s.backtest_step_days,
        min_history_days=s.min_history_days,
        inner=s.ci_inner_resamples,
        outer=s.backtest_outer_resamples,
        min_window_coverage=s.backtest_min_window_coverage,
        objective=objective,
    )
    baseline = incidents.baseline_ratio(days.bad, days.total)
    mask = incidents.incident_mask(bad, total, baseline)
    without = availability.without_incidents(
        bad,
        total,
        mask,
        baseline=baseline,
        days=days,
        draws=draws,
        bucket_seconds=history.bucket_seconds,
        sims=sims,
        chosen=chosen,
        confidences=s.confidences,
        precision=s.precision,
    )
    rolling = availability.rolling(days, days_in_window)
    full = float(days.data_days.sum()) >= days_in_window and len(rolling) > 0
    listed, share = incidents.incidents(
        bad, total, mask, start=history.start, bucket_seconds=history.bucket_seconds
    )
    report = None
    if objective is not None:
        report = results.ObjectiveReport(
            availability=objective,
            latency=None,
            breach_probability=availability.breach_probability(reps, objective),
            evaluations=counts.evaluations,
            breaches=counts.objective_breaches,
            achievable=ceiling is None or availability.fraction(objective) <= ceiling,
        )
    facts = evidence.Facts(
        sli="availability",
        start=history.start,
        end=history.end,
        bucket_seconds=history.bucket_seconds,
        window_seconds=window_seconds,
        seed=seed,
        block_days=draws.block_days,
        tiers=tiers,
        evaluations=counts.evaluations,
        breaches=counts.breaches,
        windows=rolling if full else sims,
        from_history=full,
        present=present,
        excluded=np.asarray(history.excluded, dtype=np.bool_),
        traffic=traffic,
        incidents=listed,
        incident_share=share,
        uncapped=chosen.uncapped,
        without_incidents=without,
        dependencies=tuple((d.name, d.availability) for d in deps),
        ceiling=ceiling,
        objective=report,
    )
    return explain.assemble(facts, s)


def recommend_latency(
    history: histories.LatencyHistory,
    *,
    percentile: Decimal,
    window_seconds: int,
    seed: int,
    settings: MethodSettings = _DEFAULT_SETTINGS,
    current_objective: results.LatencyObjective | None = None,
) -> results.SliResult:
    """Latency tiers: "P% of requests within T" for a compliance window (SPEC §3.2)."""
    s = settings
    days_in_window = window_days(window_seconds)
    p = inputs.percent(percentile, "latency.percentile", allow_100=False)
    assert p is not None
    p = p.normalize() if p == p.to_integral_value() else p  # "99", not "99.0" nor "9.9E+1"
    q = float(p / 100)
    objective = inputs.latency_objective(current_objective)
    inputs.check_bounds(history.bounds)
    counts_by_bucket, present = histories.clean_latency(history)
    days = latency.Days.of(history, counts_by_bucket, present)
    bounds, pool = days.bounds, days.pool()
    draws = inputs.prepare(days.data_days, pool, seed=seed, window_days=days_in_window, s=s)
    sims = latency.simulate(
        pool, draws.windows, window_days=days_in_window, block_days=s.block_days
    )
    chosen, reps = latency.targets(
        sims,
        pool,
        bounds,
        draws,
        q=q,
        confidences=s.confidences,
        tolerance=s.tolerance,
        precision=s.precision,
        inner=s.ci_inner_resamples,
        also=() if objective is None else (float(objective.threshold),),
        reference=True,
    )
    traffic = availability.traffic_per_window(days.total, days.data_days, days_in_window)
    tiers = tuple(
        results.Tier(
            name=name,
            confidence=confidence,
            target=chosen.values[i],
            breach_probability=availability.breach_probability(
                reps[chosen.bounds[i]], chosen.values[i]
            ),
            confidence_interval=availability.interval(
                reps[chosen.bounds[i]], confidence, s.ci_level, s.precision, cap=None
            ),
            error_budget=availability.budget(chosen.values[i], traffic, window_seconds),
            threshold=chosen.thresholds[i],
            bucket_bound=chosen.bounds[i],
        )
        for i, (name, confidence) in enumerate(s.tiers)
    )
    counts = latency.backtest(
        days,
        draws,
        q=q,
        confidences=s.confidences,
        tolerance=s.tolerance,
        precision=s.precision,
        step_days=s.backtest_step_days,
        min_history_days=s.min_history_days,
        resamples=s.backtest_resamples,
        inner=s.ci_inner_resamples,
        outer=s.backtest_outer_resamples,
        min_window_coverage=s.backtest_min_window_coverage,
        objective=objective,
    )
    slow, per_bucket_total = latency.slow_requests(
        counts_by_bucket, bounds, bound=chosen.bounds[s.reference]
    )
    day_slow = histories.daily_sums(slow, bucket_seconds=history.bucket_seconds)
    mask = incidents.incident_mask(
        slow, per_bucket_total, incidents.baseline_ratio(day_slow, days.total)
    )
    simulated, in_inf = latency.quantile(sims, bounds, q)
    rolling = latency.rolling(days, days_in_window)
    full = float(days.data_days.sum()) >= days_in_window and rolling.shape[1] > 0
    report = None
    if objective is not None:
        report = results.ObjectiveReport(
            availability=None,
            latency=objective,
            breach_probability=availability.breach_probability(
                reps[float(objective.threshold)], objective.target
            ),
            evaluations=counts.evaluations,
            breaches=counts.objective_breaches,
            achievable=True,
        )
    listed, share = incidents.incidents(
        slow, per_bucket_total, mask, start=history.start, bucket_seconds=history.bucket_seconds
    )
    facts = evidence.Facts(
        sli="latency",
        start=history.start,
        end=history.end,
        bucket_seconds=history.bucket_seconds,
        window_seconds=window_seconds,
        seed=seed,
        block_days=draws.block_days,
        tiers=tiers,
        evaluations=counts.evaluations,
        breaches=counts.breaches,
        windows=latency.quantile(rolling, bounds, q)[0] if full else simulated,
        from_history=full,
        present=present,
        excluded=np.asarray(history.excluded, dtype=np.bool_),
        traffic=traffic,
        incidents=listed,
        incident_share=share,
        uncapped=chosen.values,
        objective=report,
        notes=wording.tail_notes(in_inf, percentile=p, highest=float(bounds[-2])),
        percentile=p,
        tail_limited=tuple(float(t) >= float(bounds[-2]) for t in chosen.thresholds),
    )
    return explain.assemble(facts, s)
