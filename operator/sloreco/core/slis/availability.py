"""The availability SLI kind: "the share of requests that succeed over a compliance window".

Reads the counters ``totalQuery`` and ``errorQuery`` bucket by bucket and recommends window
availability targets (SPEC §3.1); the statistics are in ``core.models.availability``, the words
in ``core.explain``. Hard dependencies cap its conservative and balanced tiers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np

from sloreco.core import forecast, history, inputs, results, stats
from sloreco.core import objective as objectives
from sloreco.core import prior as priors
from sloreco.core.explain import evidence, explain, incidents, wording
from sloreco.core.models import availability as model
from sloreco.core.slis import base
from sloreco.core.slis.predicted import Predicted

TRAITS = results.Traits(
    name="availability",
    unit="percent",
    higher_is_better=True,
    bad_events="errors",
    bad_event="bad event",
    budget_unit="errors",
    variability="error rate",
    capped_by_dependencies=True,
)


class Availability:
    """The availability kind (``base.SliKind``)."""

    traits = TRAITS

    async def read(
        self,
        source: base.HistorySource,
        selectors: Mapping[str, str],
        *,
        start: int,
        end: int,
        bucket_seconds: int,
    ) -> history.AvailabilityHistory:
        """Bad and total events per bucket from the ``total`` and ``errors`` selectors."""
        return await source.read_availability(
            total=selectors["total"],
            errors=selectors["errors"],
            start=start,
            end=end,
            bucket_seconds=bucket_seconds,
        )

    def recommend(
        self, data: history.AvailabilityHistory | history.LatencyHistory, request: base.Request
    ) -> results.SliResult:
        """Availability tiers for ``data`` and a compliance window (SPEC §3.1)."""
        if not isinstance(data, history.AvailabilityHistory):
            raise TypeError(f"availability needs an AvailabilityHistory, got {type(data).__name__}")
        return recommend(data, request)


def recommend(data: history.AvailabilityHistory, request: base.Request) -> results.SliResult:
    """Availability tiers for ``data`` and a compliance window (SPEC §3.1, §3.4)."""
    s = request.settings
    window_seconds = request.window_seconds
    seed = request.seed
    data, lead = history.since_first_request(data)

    days_in_window = inputs.window_days(window_seconds)
    objective = inputs.percent(request.objective_availability, "currentObjective.availability")
    deps = inputs.unique(request.dependencies)
    total, bad, present = history.clean_availability(data)
    days = model.Days.of(data)
    pool = days.pool()
    draws = inputs.prepare(days.data_days, pool, seed=seed, window_days=days_in_window, s=s)
    sims = model.simulate(pool, draws.windows, window_days=days_in_window, block_days=s.block_days)
    ceiling = model.ceiling([d.availability for d in deps]) if deps else None
    cap = stats.percent(ceiling, s.precision) if ceiling is not None else None
    scope = priors.scope_of(TRAITS.name)
    series = forecast.Series(bad, total, present)
    src = forecast.Source(data.bucket_seconds, draws, request.prior_for(scope))
    predicted = Predicted.of(series, request=request, src=src, cap=cap)
    seen, chosen = predicted.seen, predicted.chosen
    replayed = forecast.replay_targets(sims, s)
    notes = forecast.prior_notes(
        seen, replayed, chosen.uncapped, s=s, window_seconds=window_seconds
    )
    traffic = stats.traffic_per_window(days.total, days.data_days, days_in_window)
    tiers = predicted.tiers(request, traffic=traffic)
    counts = predicted.backtest(
        request, None if objective is None else (stats.fraction(objective), bad)
    )
    # The incidents the explanation lists are those the model read (``evidence.Evidence``).
    normal, mask = seen.evidence.normal, seen.evidence.flagged
    without = model.without_incidents(
        bad,
        total,
        mask,
        baseline=normal,
        days=days,
        draws=draws,
        bucket_seconds=data.bucket_seconds,
        sims=sims,
        chosen=chosen,
        confidences=s.confidences,
        precision=s.precision,
    )
    rolling = model.rolling(days, days_in_window)
    full = float(days.data_days.sum()) >= days_in_window and len(rolling) > 0
    listed, share = incidents.incidents(
        bad, total, mask, start=data.start, bucket_seconds=data.bucket_seconds
    )
    report = None
    if objective is not None:
        report = objectives.report(
            availability=objective,
            latency=None,
            above_ceiling=ceiling is not None and stats.fraction(objective) > ceiling,
            breach_probability=seen.windows.breach(stats.fraction(objective)),
            evaluations=counts.evaluations,
            breaches=counts.objective_breaches,
            lowest_confidence=min(s.confidences),
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
        windows=rolling if full else sims,
        from_history=full,
        present=present,
        excluded=np.asarray(data.excluded, dtype=np.bool_),
        traffic=traffic,
        incidents=listed,
        incident_share=share,
        uncapped=chosen.uncapped,
        without_incidents=without,
        replayed=replayed,
        background_alone=predicted.background_alone(request, replayed),
        dependencies=tuple((d.name, d.availability) for d in deps),
        ceiling=ceiling,
        objective=report,
        notes=(*wording.lead_notes(lead, data.bucket_seconds), *notes),
    )
    return dataclasses.replace(
        explain.assemble(facts, s),
        incidents=((scope, seen.evidence.stats()),) if request.observe else (),
        scope=scope,
    )


KIND = Availability()
