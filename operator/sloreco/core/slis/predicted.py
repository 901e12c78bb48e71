"""What every SLI kind does once it has a series of bad and total events: forecast its windows
under the prior of its scope, choose the tiers, and backtest them (SPEC §3.1, §3.2, §3.4).

The kinds differ in how they read their series (an availability's errors; a latency's requests
over the tiers' bound) and in what they add to a tier (a latency's bound and threshold), not in
how the tiers are chosen: one home for that, so that a third kind cannot choose differently.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from sloreco.core import backtest, forecast, history, predictive, results, stats
from sloreco.core.explain import limits
from sloreco.core.models import availability as model
from sloreco.core.slis import base


@dataclasses.dataclass(frozen=True)
class Predicted:
    """A series' predictive windows under its scope's prior, and the tiers chosen from them."""

    series: forecast.Series
    src: forecast.Source
    seen: forecast.Forecast
    chosen: model.Targets
    #: The dependency ceiling's target (None: none, or a kind that is never capped).
    cap: Decimal | None
    #: Per tier, whether the cap applies (``MethodSettings.uncapped_tiers``).
    cappable: tuple[bool, ...]

    @classmethod
    def of(
        cls,
        series: forecast.Series,
        *,
        request: base.Request,
        src: forecast.Source,
        cap: Decimal | None = None,
    ) -> Predicted:
        """Forecast ``series`` from ``src`` (its draws, and ``request``'s prior for the scope);
        the tiers, capped at ``cap``."""
        s = request.settings
        seen = forecast.forecast(
            series,
            src=src,
            rng=predictive.rng_for(request.seed),
            shape=forecast.Shape(s.ci_inner_resamples, lowest=1.0 - min(s.confidences)),
        )
        cappable = tuple(name not in s.uncapped_tiers for name in s.names)
        chosen = model.choose(
            seen.windows.values(s.confidences, s.tolerance),
            precision=s.precision,
            cap=cap,
            cappable=cappable,
        )
        return cls(series, src, seen, chosen, cap, cappable)

    def tiers(self, request: base.Request, *, traffic: float) -> tuple[results.Tier, ...]:
        """Each tier's target, breach probability, interval and error budget at ``traffic``
        requests a window."""
        s = request.settings
        windows = self.seen.windows
        return tuple(
            results.Tier(
                name=name,
                confidence=confidence,
                target=target,
                breach_probability=windows.breach(stats.fraction(target)),
                confidence_interval=stats.interval(
                    windows.reps,
                    confidence,
                    s.ci_level,
                    s.precision,
                    cap=self.cap if self.cappable[i] else None,
                ),
                error_budget=stats.budget(target, traffic, request.window_seconds),
                capped=self.chosen.capped[i],
            )
            for i, (name, confidence, target) in enumerate(
                zip(s.names, s.confidences, self.chosen.values, strict=True)
            )
        )

    def background_alone(
        self, request: base.Request, replayed: tuple[Decimal, ...]
    ) -> tuple[Decimal, ...]:
        """The tiers the model's background alone supports, without any incident loss; empty
        where no tier's target sits far enough under ``replayed`` (the history replayed as it
        was) for the forecast to be what held it (``explain.limits``): a partial sort of every
        simulated window, spared where it could name nothing."""
        s = request.settings
        uncapped = self.chosen.uncapped
        if not any(
            limits.moved(r - t, t, s.precision) for r, t in zip(replayed, uncapped, strict=True)
        ):
            return ()
        alone = self.seen.background_values(s.confidences, s.tolerance)
        return tuple(stats.percent(v, s.precision) for v in alone)

    def backtest(
        self, request: base.Request, objective: tuple[float, history.FloatArray] | None
    ) -> stats.BacktestCounts:
        """The tiers, and ``objective`` (a target fraction and the bad events it is judged
        on), forecast at each past origin from the hours before it (``core.backtest``)."""
        return backtest.run(
            self.series,
            src=self.src,
            seed=request.seed,
            plan=backtest.plan(request.settings, self.cap, self.cappable),
            objective=objective,
        )
