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
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from decimal import Decimal

import numpy as np

from sloreco import availability, bootstrap, errors, explain, latency, results
from sloreco import history as histories  # ``history`` is the parameter's name (public API)

FloatArray = histories.FloatArray


@dataclasses.dataclass(frozen=True)
class MethodSettings:
    """Every knob of the method, with the reason for its default (SPEC §3)."""

    #: Windows simulated from the history itself: the reference of the breach estimate and of
    #: the latency thresholds; the 99.9% tier rests on its 10 worst, probabilities on 1/10,000.
    resamples: int = 10_000
    #: Tier names and the share of simulated windows each must meet (SPEC §3.1 defaults).
    tiers: tuple[tuple[str, float], ...] = (
        ("conservative", 0.999),
        ("balanced", 0.99),
        ("aggressive", 0.95),
    )
    #: Tiers the dependency ceiling does not cap: aggressive "shows potential" (SPEC §3.1).
    uncapped_tiers: tuple[str, ...] = ("aggressive",)
    #: Targets are rounded down to this many percentage points (SPEC §3.1 default, 0.01).
    precision: Decimal = Decimal("0.01")
    #: Less data than this gives no recommendation at all (SPEC §3.1 guard, 7 days).
    min_history_days: float = 7.0
    #: Block length in days. Incidents and their aftermath rarely span more than a few days,
    #: and n^(1/3) — the rate-optimal block length for block-bootstrap variance (Hall,
    #: Horowitz & Jing 1995) — is 4.5 for the default 90-day lookback; capped by the history.
    block_days: int = 5
    #: Where across pseudo-histories a target is taken: their lower 10% point. On a known
    #: process (tests/unit/test_calibration.py) the median — about the plain estimate — was
    #: breached 2.5x as often as promised at 99.9%; at the 10% point the promise holds.
    tolerance: float = 0.10
    #: Level of each tier's confidence interval: 90%, equal-tailed.
    ci_level: float = 0.90
    #: Pseudo-histories (outer) and windows simulated from each (inner). 1,000 inner windows
    #: put the 99.9% tier on a pseudo-history's second-worst window; 64 outer put the 10% point
    #: between the 6th and 7th and each 5% tail of the interval on ~3 replicates — measured as
    #: stable to a few hundredths of a point on 90-day histories, and 64 rather than 100 keeps a
    #: latency recommendation with its backtest inside the 20 ms CPU budget (SPEC §6).
    ci_outer_resamples: int = 64
    ci_inner_resamples: int = 1000
    #: Days between backtest origins: weekly (8 origins for 90 days and a 28-day window).
    backtest_step_days: int = 7
    #: Pseudo-histories per backtest origin: a quarter of the recommendation's (the 10% point
    #: is then the second-lowest), which keeps eight origins inside the CPU budget.
    backtest_outer_resamples: int = 16
    #: Latency: windows simulated per backtest origin for the thresholds (the 99.9% threshold
    #: then rests on the second-worst of 1,000, as in the nested simulation).
    backtest_resamples: int = 1000
    #: A backtest window counts only when at least half of it holds data.
    backtest_min_window_coverage: float = 0.5
    #: Low traffic: one bad event moves a window by more than this share of the reference
    #: tier's error budget (SPEC §3.1: "a tenth of the balanced error budget").
    low_traffic_share: float = 0.1
    #: The tier the low-traffic guard and the latency incidents refer to (SPEC §3.1).
    reference_tier: str = "balanced"

    def __post_init__(self) -> None:
        def need(ok: bool, name: str, message: str) -> None:
            if not ok:
                raise errors.InputError(message, field=f"settings.{name}")

        need(self.resamples >= 1000, "resamples", "must be at least 1000")
        need(len(self.tiers) > 0, "tiers", "needs at least one tier")
        need(all(0.5 <= c < 1 for _, c in self.tiers), "tiers", "confidences must be in [0.5, 1)")
        need(len({n for n, _ in self.tiers}) == len(self.tiers), "tiers", "names must be unique")
        need(self.precision > 0, "precision", "must be positive")
        need(self.min_history_days >= 1, "minHistoryDays", "must be at least 1 day")
        need(self.block_days >= 1, "blockDays", "must be at least 1 day")
        need(0 < self.tolerance <= 0.5, "tolerance", "must be in (0, 0.5]")
        need(0 < self.ci_level < 1, "ciLevel", "must be in (0, 1)")
        need(self.ci_outer_resamples >= 10, "ciOuterResamples", "must be at least 10")
        for name, value in (
            ("ciInnerResamples", self.ci_inner_resamples),
            ("backtestResamples", self.backtest_resamples),
        ):
            need(100 <= value <= self.resamples, name, "must be between 100 and resamples")
        need(self.backtest_step_days >= 1, "backtestStepDays", "must be at least 1 day")
        need(
            1 <= self.backtest_outer_resamples <= self.ci_outer_resamples,
            "backtestOuterResamples",
            "must be between 1 and ciOuterResamples",
        )

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.tiers)

    @property
    def confidences(self) -> tuple[float, ...]:
        return tuple(confidence for _, confidence in self.tiers)

    @property
    def reference(self) -> int:
        """Index of the reference tier (the middle one if no tier has that name)."""
        names = self.names
        return names.index(self.reference_tier) if self.reference_tier in names else len(names) // 2


@dataclasses.dataclass(frozen=True)
class Dependency:
    """A hard dependency: a unique name and its availability as a fraction in ``(0, 1]``."""

    name: str
    availability: float

    def __post_init__(self) -> None:
        if not (0 < self.availability <= 1) or not math.isfinite(self.availability):
            raise errors.InputError(
                f"availability of {self.name!r} must be a fraction in (0, 1], "
                f"got {self.availability}",
                field="dependencies",
            )


def recommend_availability(
    history: histories.AvailabilityHistory,
    *,
    window_seconds: int,
    seed: int,
    settings: MethodSettings = MethodSettings(),
    dependencies: Sequence[Dependency] = (),
    current_objective: Decimal | None = None,
) -> results.SliResult:
    """Availability tiers for ``history`` and a compliance window (SPEC §3.1)."""
    s = settings
    days_in_window = window_days(window_seconds)
    objective = _percent_input(current_objective, "currentObjective.availability")
    deps = unique(dependencies)
    total, bad, present = histories.clean_availability(history)
    days = availability.Days.of(history)
    pool = days.pool()
    draws = _prepare(days.data_days, pool, seed=seed, window_days=days_in_window, s=s)
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
    baseline = explain.baseline_ratio(days.bad, days.total)
    mask = explain.incident_mask(bad, total, baseline)
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
    listed, share = explain.incidents(
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
    facts = explain.Facts(
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
    settings: MethodSettings = MethodSettings(),
    current_objective: results.LatencyObjective | None = None,
) -> results.SliResult:
    """Latency tiers: "P% of requests within T" for a compliance window (SPEC §3.2)."""
    s = settings
    days_in_window = window_days(window_seconds)
    p = _percent_input(percentile, "latency.percentile", allow_100=False)
    assert p is not None
    p = p.normalize() if p == p.to_integral_value() else p  # "99", not "99.0" nor "9.9E+1"
    q = float(p / 100)
    objective = _latency_objective(current_objective)
    _check_bounds(history.bounds)
    counts_by_bucket, present = histories.clean_latency(history)
    days = latency.Days.of(history, counts_by_bucket, present)
    bounds, pool = days.bounds, days.pool()
    draws = _prepare(days.data_days, pool, seed=seed, window_days=days_in_window, s=s)
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
    mask = explain.incident_mask(
        slow, per_bucket_total, explain.baseline_ratio(day_slow, days.total)
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
    listed, share = explain.incidents(
        slow, per_bucket_total, mask, start=history.start, bucket_seconds=history.bucket_seconds
    )
    facts = explain.Facts(
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
        notes=explain.tail_notes(in_inf, percentile=p, highest=float(bounds[-2])),
        percentile=p,
        tail_limited=tuple(float(t) >= float(bounds[-2]) for t in chosen.thresholds),
    )
    return explain.assemble(facts, s)


# --- Validation and the steps both SLIs share. -------------------------------------------------


def window_days(window_seconds: int) -> int:
    """The window in whole days; the method simulates windows from whole days."""
    if window_seconds < histories.SECONDS_PER_DAY or window_seconds % histories.SECONDS_PER_DAY:
        raise errors.InputError(
            f"the window must be a whole number of days (at least 1d), got {window_seconds}s",
            field="window",
        )
    return window_seconds // histories.SECONDS_PER_DAY


def unique(dependencies: Sequence[Dependency]) -> tuple[Dependency, ...]:
    """One entry per name, never counting a shared dependency twice (SPEC §3.1).

    A name given twice with different availabilities keeps the lower one: the ceiling must not
    be optimistic about a dependency we have two opinions of. Sorted by name for determinism.
    """
    by_name: dict[str, Dependency] = {}
    for dependency in dependencies:
        known = by_name.get(dependency.name)
        if known is None or dependency.availability < known.availability:
            by_name[dependency.name] = dependency
    return tuple(by_name[name] for name in sorted(by_name))


def _percent_input(value: Decimal | None, field: str, *, allow_100: bool = True) -> Decimal | None:
    if value is None:
        return None
    value = Decimal(value)
    if not value.is_finite() or value <= 0 or value > 100 or (value == 100 and not allow_100):
        raise errors.InputError(f"must be a percent in (0, 100], got {value}", field=field)
    return value


def _latency_objective(
    objective: results.LatencyObjective | None,
) -> results.LatencyObjective | None:
    if objective is None:
        return None
    threshold = Decimal(objective.threshold)
    if not threshold.is_finite() or threshold <= 0:
        raise errors.InputError(
            f"must be a positive number of seconds, got {threshold}",
            field="currentObjective.latency.threshold",
        )
    target = _percent_input(objective.target, "currentObjective.latency.target")
    assert target is not None
    return results.LatencyObjective(threshold=threshold, target=target)


def _check_bounds(bounds: Sequence[float]) -> None:
    values = np.asarray(bounds, dtype=np.float64)
    if (
        len(values) < 2
        or values[-1] != math.inf
        or not np.isfinite(values[:-1]).all()
        or not (np.diff(values) > 0).all()
    ):
        raise errors.InputError(
            "histogram bounds must increase strictly, with at least one finite bound, and end "
            "with +Inf",
            field="latency.bounds",
        )


def _prepare(
    data_days: FloatArray, pool: FloatArray, *, seed: int, window_days: int, s: MethodSettings
) -> bootstrap.Draws:
    """The guards, then the draws every later step shares."""
    found = float(data_days.sum())
    if found < s.min_history_days or len(pool) == 0:
        detail = "" if len(pool) else " and no requests at all"
        raise errors.InsufficientDataError(
            f"only {found:.2f} days of data{detail} in the lookback; at least "
            f"{s.min_history_days:g} days are needed for a recommendation",
            days_found=found,
        )
    if seed < 0:
        raise errors.InputError(f"must be a non-negative integer, got {seed}", field="seed")
    return bootstrap.Draws.make(
        seed=seed,
        window_days=window_days,
        block_days=s.block_days,
        resamples=s.resamples,
        outer_resamples=s.ci_outer_resamples,
        min_pool_days=min(len(pool), math.ceil(s.min_history_days)),
        max_pool_days=len(pool),
    )
