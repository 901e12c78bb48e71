"""Forecast one SLI's windows from hourly bad/total counts.

The pipeline both SLIs share (``predictive`` is the model): split the history into background
and incidents, bootstrap the background over resampled histories, add incidents drawn from the
posterior, pool. Availability passes its errors; latency passes its requests slower than the
tiers' bound, so "share of requests within the bound" is predicted exactly like availability.

``background_of`` is also what the backtest (``core.backtest``) recomputes at each past origin.
"""

from __future__ import annotations

import dataclasses
import math
from decimal import Decimal

import numpy as np

from sloreco.core import (
    bootstrap,
    evidence,
    fleetspells,
    history,
    incidentloss,
    method,
    orderstats,
    persistence,
    predictive,
    prior,
    spelldraw,
    stats,
    trend,
    unseen,
)
from sloreco.core.explain import priornote, wording

FloatArray = history.FloatArray
BoolArray = history.BoolArray


@dataclasses.dataclass(frozen=True, eq=False)
class Forecast:
    """The predictive windows, and the evidence and posterior behind them."""

    windows: predictive.Predictive
    evidence: evidence.Evidence
    posterior: predictive.Posterior
    #: Days with traffic in the background pool (guards against too-short prefixes).
    pool_days: int
    #: The prior's name ("default", "fleet:<source>, availability", ...; ``Prior.label``).
    origin: str
    #: Bad events outside incidents in the days the background is drawn from (``unseen``).
    background_events: float
    #: The model's background windows alone, before the incidents' losses: what the tiers would
    #: be were there no incident, seen or not (``explain.limits``).
    background: FloatArray
    #: How the background carries over from day to day (``persistence``), when readable.
    spells: persistence.Persistence | None = None
    #: Under a fleet prior that pooled incidents, its services' rate spread's Gamma shape
    #: (``priornote.fleet_note``); None: the default, or a fleet that saw none.
    fleet_rate_shape: float | None = None

    def background_values(
        self, confidences: tuple[float, ...], tolerance: float
    ) -> tuple[float, ...]:
        """Per confidence, the value the model's background alone meets, read as the tiers are
        (``Predictive.values``, the same draws): the counterfactual of no incident at all."""
        alone = predictive.Predictive.of(
            self.background, np.zeros(1), lowest=1.0 - min(confidences)
        )
        return alone.values(confidences, tolerance)


@dataclasses.dataclass(frozen=True, eq=False)
class Series:
    """One SLI's cleaned hourly counts: bad events (errors, or requests over the bound), all
    events, and which buckets hold data."""

    bad: FloatArray
    total: FloatArray
    present: BoolArray

    def before(self, cut: int) -> Series:
        return Series(self.bad[:cut], self.total[:cut], self.present[:cut])


@dataclasses.dataclass(frozen=True)
class Shape:
    """How many windows: ``inner`` per pseudo-history, ``outer`` pseudo-histories (all of the
    draws' when None), and the tail share ordered up front (``Predictive.of``'s ``lowest``)."""

    inner: int
    lowest: float
    outer: int | None = None


@dataclasses.dataclass(frozen=True, eq=False)
class Source:
    """What every forecast of one history shares: its grid, the draws, the prior."""

    bucket_seconds: int
    draws: bootstrap.Draws
    belief: prior.Prior


@dataclasses.dataclass(frozen=True, eq=False)
class Background:
    """A history's evidence and posterior, and its background windows ``(outer, inner)``."""

    evidence: evidence.Evidence
    posterior: predictive.Posterior
    windows: FloatArray
    pool_days: int
    #: Each window's requests (``unseen``).
    totals: FloatArray
    #: How far the background persists beyond the blocks (``persistence``), when readable.
    spells: persistence.Persistence | None = None

    @property
    def requests(self) -> float:
        """The requests of the days the background is drawn from (``unseen``)."""
        return float(self.evidence.pool[:, 1].sum())

    @property
    def events(self) -> float:
        """Their bad events outside incidents (``unseen``)."""
        return float(self.evidence.pool[:, 0].sum())

    def widened(self, rng: np.random.Generator, draws: bootstrap.Draws) -> FloatArray:
        """The background windows with what the bootstrap cannot replay: the spells the blocks
        missed (``spelldraw.widen``), the error of a creep's growth (``trend.widen``) and the
        events a quiet history did not show (``unseen.add``)."""
        spread = spelldraw.widen(
            self.windows,
            self.spells,
            window_days=draws.window_days,
            block_days=draws.block_days,
            rng=rng,
        )
        seen = self.evidence
        spread = trend.widen(spread, seen.trend, ahead_days=seen.ahead_days, rng=rng)
        return unseen.add(spread, self.totals, self.requests, rng)


def background_of(series: Series, *, src: Source, inner: int, outer: int | None) -> Background:
    bucket_seconds, draws = src.bucket_seconds, src.draws
    seen = evidence.of(
        series.bad,
        series.total,
        series.present,
        bucket_seconds=bucket_seconds,
        outlook=evidence.Outlook(draws.window_days / 2, src.belief.growth),
    )
    pool = seen.pool
    post = predictive.Posterior.of(src.belief, seen)
    if len(pool) < draws.min_pool_days:
        # Too few days for the blocks drawn (a backtest origin before the traffic began): no
        # windows, and a pool the backtest skips (``backtest.run``). A recommendation's own pool
        # never is: the draws are made for it (``inputs``).
        empty = np.ones((outer or draws.outer.shape[1], inner))
        return Background(seen, post, empty, len(pool), empty)
    sums = bootstrap.replicate_window_sums(pool, draws, inner=inner, outer=outer)
    shares = sums[..., 0] / sums[..., 1]
    fit = seen.spells
    if fit is not None and src.belief.background is not None:
        fit = fleetspells.shrink(fit, src.belief.background)
    fit = persistence.widening(fit)
    if fit is not None:
        plain = bootstrap.window_sums(
            pool,
            draws.windows[:, :inner],
            window_days=draws.window_days,
            block_days=draws.block_days,
        )
        fit = fit.corrected(plain[:, 0] / plain[:, 1], shares)
    return Background(seen, post, 1.0 - shares, len(pool), sums[..., 1], fit)


def forecast(series: Series, *, src: Source, rng: np.random.Generator, shape: Shape) -> Forecast:
    """Predictive window values ``1 - bad/total`` (see ``predictive``)."""
    part = background_of(series, src=src, inner=shape.inner, outer=shape.outer)
    rows, _ = part.windows.shape
    lost = incidentloss.losses(
        [part.posterior], rng, outer=rows, inner=shape.inner, window_days=src.draws.window_days
    )[0]
    background = part.widened(rng, src.draws)
    windows = predictive.Predictive.of(background, lost, lowest=shape.lowest)
    return Forecast(
        windows,
        part.evidence,
        part.posterior,
        part.pool_days,
        src.belief.label,
        background_events=part.events,
        background=background,
        spells=part.spells,
        fleet_rate_shape=src.belief.rate_shape if src.belief.rate_learned else None,
    )


def plain_values(sims: FloatArray, confidences: tuple[float, ...]) -> tuple[float, ...]:
    """What the history alone replays: quantiles of windows bootstrapped from it as it was."""
    picked = orderstats.lower_values(sims, confidences)
    return tuple(float(v) if math.isfinite(float(v)) else 0.0 for v in picked)


def replay_targets(plain: FloatArray, s: method.MethodSettings) -> tuple[Decimal, ...]:
    """The tier targets (percent) the history replayed as it was supports (``plain``: window
    shares simulated from it by the plain bootstrap)."""
    return tuple(stats.percent(v, s.precision) for v in plain_values(plain, s.confidences))


def prior_notes(
    seen: Forecast,
    replayed: tuple[Decimal, ...],
    chosen: tuple[Decimal, ...],
    *,
    s: method.MethodSettings,
    window_seconds: int,
) -> tuple[str, ...]:
    """What the incident model and its prior did to each tier, against the history replayed;
    with no incident seen, the size the prior gave the next one as well.

    ``replayed``: the tiers the history replayed as it was supports (``replay_targets``).
    """
    found = seen.evidence
    effect = priornote.PriorEffect(
        origin=seen.origin,
        incidents=found.incidents,
        bursts=found.count,
        days=found.exposure_days,
        median_minutes=(
            math.exp(orderstats.median(found.log_sizes))
            if found.count
            else seen.posterior.median_minutes()
        ),
        per_window=seen.posterior.expected_per_day * (window_seconds // history.SECONDS_PER_DAY),
        busy=seen.posterior.busy,
        window=wording.window_text(window_seconds),
        names=s.names,
        replayed=replayed,
        chosen=chosen,
        spell_days=seen.spells.spell_days if seen.spells is not None else None,
        spells_with_fleet=seen.spells is not None and seen.spells.borrowed > 0,
        block_days=s.block_days,
        background_events=seen.background_events,
        unseen_per_window=unseen.per_window(
            window_seconds / history.SECONDS_PER_DAY, max(seen.pool_days, 1)
        ),
        rise=(found.rise.days, found.rise.factor)
        if found.rise is not None and found.trend is None
        else None,
        creep=_creep(found),
        clean_floor_minutes=(
            math.exp(seen.posterior.clean_from)
            if math.isfinite(seen.posterior.clean_from)
            else None
        ),
        fleet_rate_shape=seen.fleet_rate_shape,
        level=_level(seen.spells),
        larger=_kind(seen, window_seconds),
    )
    lines = (
        priornote.size_note(effect),
        priornote.fleet_note(effect),
        priornote.kinds_note(effect),
    )
    return (priornote.prior_note(effect), *(line for line in lines if line is not None))


def _kind(seen: Forecast, window_seconds: int) -> priornote.Kind | None:
    """The larger kind of incident its fleet prior knows (``priornote.kinds_note``)."""
    larger = seen.posterior.larger
    if larger is None:
        return None
    return priornote.Kind(
        from_minutes=math.exp(seen.posterior.kind_from),
        median_minutes=larger.median_minutes(),
        per_window=larger.rate_per_day * (window_seconds // history.SECONDS_PER_DAY),
        seen=int(np.count_nonzero(seen.evidence.log_sizes >= seen.posterior.kind_from)),
    )


def _level(spells: persistence.Persistence | None) -> tuple[float, float] | None:
    """The background's level as run and as its fleet places it (``priornote.level_note``)."""
    if spells is None:
        return None
    placed = spells.placed()
    return None if placed is None else (spells.level, placed)


def _creep(found: evidence.Evidence) -> priornote.Creep | None:
    """The creep the forecast runs on, as the note says it (``priornote.creep_note``)."""
    found_trend = found.trend
    if found_trend is None:
        return None
    return priornote.Creep(
        doubling_days=found_trend.doubling_days,
        distinct=found_trend.distinct,
        with_fleet=found_trend.pooled,
        fleet_creeps=trend.creeps(found.outlook.fleet_growth),
    )
