"""Availability: window availability from day sums, tier targets, dependency ceiling.

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

    def pool(self) -> FloatArray:
        """The days that carried traffic, as ``(days, [bad, total])``.

        Days without traffic are dropped rather than kept as zeros: they say nothing about
        availability, and a simulated window should hold as many days of traffic as a real one.
        """
        keep = self.total > 0
        return np.stack([self.bad[keep], self.total[keep]], axis=1)


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


@dataclasses.dataclass(frozen=True)
class Targets:
    """Tier targets (percent, rounded down, capped where allowed) and which were capped."""

    values: tuple[Decimal, ...]
    capped: tuple[bool, ...]
    #: The data's own targets before any dependency cap, and before rounding (fractions).
    uncapped: tuple[Decimal, ...]
    raw: tuple[float, ...]


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
