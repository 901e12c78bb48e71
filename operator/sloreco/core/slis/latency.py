"""The latency SLI kind: "P% of requests complete within T" over a compliance window.

Reads a histogram's ``_bucket`` series bucket by bucket and recommends (bound, target) tiers
(SPEC §3.2); the statistics are in ``core.models.latency``, the words in ``core.explain``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np

from sloreco import errors
from sloreco.core import forecast, history, inputs, method, predictive, results, stats
from sloreco.core import objective as objectives
from sloreco.core import prior as priors
from sloreco.core.explain import evidence, explain, incidents, wording
from sloreco.core.models import histogram
from sloreco.core.models import latency as model
from sloreco.core.slis import base
from sloreco.core.slis.predicted import Predicted

TRAITS = results.Traits(
    name="latency",
    unit="seconds",
    higher_is_better=False,
    bad_events="slow requests",
    bad_event="slow request",
    budget_unit="slow",
    variability="latency distribution",
    capped_by_dependencies=False,
)


class Latency:
    """The latency kind (``base.SliKind``)."""

    traits = TRAITS

    async def read(
        self,
        source: base.HistorySource,
        selectors: Mapping[str, str],
        *,
        start: int,
        end: int,
        bucket_seconds: int,
    ) -> history.LatencyHistory:
        """Cumulative per-``le`` counts per bucket from the ``histogram`` selector."""
        return await source.read_latency(
            histogram=selectors["histogram"],
            start=start,
            end=end,
            bucket_seconds=bucket_seconds,
        )

    def recommend(
        self, data: history.AvailabilityHistory | history.LatencyHistory, request: base.Request
    ) -> results.SliResult:
        """Latency tiers for ``data`` and a compliance window (SPEC §3.2)."""
        if not isinstance(data, history.LatencyHistory):
            raise TypeError(f"latency needs a LatencyHistory, got {type(data).__name__}")
        if not np.isfinite(data.cumulative).any():
            # A reader's shape for "no series matched" has only the +Inf bound, which the input
            # checks would reject as a malformed histogram; it is missing data.
            raise errors.InsufficientDataError(
                "the histogram has no buckets at all in the lookback (0 days found)", days_found=0.0
            )
        return recommend(data, request)


def recommend(data: history.LatencyHistory, request: base.Request) -> results.SliResult:
    """Latency tiers: "P% of requests within T" for a compliance window (SPEC §3.2, §3.4).

    One bound for all three tiers (the user's threshold's, or the bound at or above the
    reference tier's P-quantile), and three target shares at it, monotone across tiers.
    """
    s = request.settings
    window_seconds = request.window_seconds
    seed = request.seed
    data, lead = history.since_first_request(data)

    days_in_window = inputs.window_days(window_seconds)
    p = inputs.percent(request.percentile, "latency.percentile", allow_100=False)
    assert p is not None
    p = p.normalize() if p == p.to_integral_value() else p  # "99", not "99.0" nor "9.9E+1"
    q = float(p / 100)
    objective = inputs.latency_objective(request.objective_latency)
    inputs.check_bounds(data.bounds)
    counts_by_bucket, present = history.clean_latency(data)
    days = model.Days.of(data, counts_by_bucket, present)
    bounds, pool = days.bounds, days.pool()
    draws = inputs.prepare(days.data_days, pool, seed=seed, window_days=days_in_window, s=s)
    sims = model.simulate(pool, draws.windows, window_days=days_in_window, block_days=s.block_days)
    thresholds, bound = model.tier_bound(
        sims,
        bounds,
        q=q,
        confidences=s.confidences,
        reference=s.reference,
        threshold=None if objective is None else float(objective.threshold),
    )
    slow, per_bucket_total = model.slow_requests(counts_by_bucket, bounds, bound=bound)
    # The slow requests' incidents, and so their prior, are those over this bound.
    scope = priors.scope_of(TRAITS.name, float(bound))
    series = forecast.Series(slow, per_bucket_total, present)
    src = forecast.Source(data.bucket_seconds, draws, request.prior_for(scope))
    predicted = Predicted.of(series, request=request, src=src)
    seen, chosen = predicted.seen, predicted.chosen
    replayed = forecast.replay_targets(histogram.fraction_within(sims, bounds, bound), s)
    notes = forecast.prior_notes(
        seen,
        replayed,
        chosen.uncapped,
        s=s,
        window_seconds=window_seconds,
    )
    traffic = stats.traffic_per_window(days.total, days.data_days, days_in_window)
    tiers = tuple(
        dataclasses.replace(tier, threshold=threshold, bucket_bound=bound)
        for tier, threshold in zip(
            predicted.tiers(request, traffic=traffic), thresholds, strict=True
        )
    )
    objective_slow = None
    if objective is not None:
        objective_slow = (
            stats.fraction(objective.target),
            histogram.slow_within(counts_by_bucket, bounds, float(objective.threshold)),
        )
    counts = predicted.backtest(request, objective_slow)
    # The slowdowns the explanation lists are those the model read (``evidence.Evidence``).
    mask = seen.evidence.flagged
    simulated, in_inf = histogram.quantile(sims, bounds, q)
    rolling = model.rolling(days, days_in_window)
    full = float(days.data_days.sum()) >= days_in_window and rolling.shape[1] > 0
    report = None
    if objective is not None:
        report = objectives.report(
            availability=None,
            latency=objective,
            above_ceiling=False,
            breach_probability=_objective_breach(series, objective_slow, src=src, seed=seed, s=s),
            evaluations=counts.evaluations,
            breaches=counts.objective_breaches,
            lowest_confidence=min(s.confidences),
        )
    listed, share = incidents.incidents(
        slow, per_bucket_total, mask, start=data.start, bucket_seconds=data.bucket_seconds
    )
    facts = evidence.Facts(
        kind=TRAITS,
        start=data.start,
        end=data.end,
        bucket_seconds=data.bucket_seconds,
        window_seconds=window_seconds,
        seed=seed,
        block_days=draws.block_days,
        tiers=tiers,
        evaluations=counts.evaluations,
        breaches=counts.breaches,
        windows=histogram.quantile(rolling, bounds, q)[0] if full else simulated,
        from_history=full,
        present=present,
        excluded=np.asarray(data.excluded, dtype=np.bool_),
        traffic=traffic,
        incidents=listed,
        incident_share=share,
        uncapped=chosen.uncapped,
        replayed=replayed,
        background_alone=predicted.background_alone(request, replayed),
        objective=report,
        notes=(
            *wording.lead_notes(lead, data.bucket_seconds),
            *wording.partial_bound_notes(data.partial_bounds),
            *wording.tail_notes(in_inf, percentile=p, highest=float(bounds[-2])),
            *notes,
        ),
        percentile=p,
        tail_limited=tuple(float(t) >= float(bounds[-2]) for t in thresholds),
    )
    return dataclasses.replace(
        explain.assemble(facts, s),
        incidents=tuple(
            (priors.scope_of(TRAITS.name, b), found)
            for b, found in model.incidents_at_every_bound(
                counts_by_bucket, bounds, present, bucket_seconds=data.bucket_seconds
            )
        )
        if request.observe
        else (),
        scope=scope,
    )


def _objective_breach(
    series: forecast.Series,
    objective: tuple[float, history.FloatArray] | None,
    *,
    src: forecast.Source,
    seed: int,
    s: method.MethodSettings,
) -> float:
    """Predictive chance that a window misses the current latency objective (judged at its own
    threshold, which need not be the tiers' bound)."""
    assert objective is not None
    target, slow = objective
    other = forecast.forecast(
        dataclasses.replace(series, bad=slow),
        src=src,
        rng=predictive.rng_for(seed, "objective"),
        shape=forecast.Shape(s.ci_inner_resamples, lowest=0.0, outer=s.backtest_outer_resamples),
    )
    return other.windows.breach(target)


KIND = Latency()
