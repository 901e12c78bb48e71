"""Statistics every SLI kind shares: percents, breach chances, intervals, error budgets.

A tier of any SLI kind is a *share* — of requests that succeed, or that complete within a bound —
that simulated windows meet; so rounding a share to a target, estimating how often windows fall
below it, its interval across pseudo-histories and the bad-event allowance it leaves are one
computation for all kinds. Kept apart from the kind modules so that a kind borrows nothing from
another kind.
"""

from __future__ import annotations

import dataclasses
import decimal
from decimal import Decimal

from sloreco.core import history, orderstats, results

FloatArray = history.FloatArray


def percent(fraction: float, precision: Decimal, rounding: str = decimal.ROUND_FLOOR) -> Decimal:
    """A fraction as a percent Decimal at ``precision`` points, rounded down by default.

    Goes through ``repr`` (the shortest string that round-trips), so 0.999 is 99.9 and not
    99.8999…, which binary floating point would otherwise floor to 99.89.
    """
    with decimal.localcontext() as ctx:
        ctx.prec = 40
        value = Decimal(repr(float(fraction))) * 100
        return min(max(value, Decimal(0)), Decimal(100)).quantize(precision, rounding=rounding)


def fraction(value: Decimal) -> float:
    """A percent Decimal back as the fraction the simulations are compared with."""
    return float(value / 100)


def breach_probability(reps: orderstats.Replicates, target: Decimal) -> float:
    """Estimated chance that a future window's availability is below ``target`` (percent)."""
    return reps.breach(fraction(target))


@dataclasses.dataclass(frozen=True)
class BacktestCounts:
    """Out-of-sample counts: per tier breaches over ``evaluations`` past windows."""

    evaluations: int
    breaches: tuple[int, ...]
    objective_breaches: int


def traffic_per_window(total: FloatArray, data_days: FloatArray, window_days: int) -> float:
    """Requests per window at current traffic: the last window's rate, scaled to a window.

    A rate over the days that held data, so a gap does not read as lower traffic; over the
    whole history when the last window holds none.
    """
    recent, covered = total[-window_days:].sum(), data_days[-window_days:].sum()
    if covered <= 0:
        recent, covered = total.sum(), data_days.sum()
    return float(recent / covered * window_days)


def budget(target: Decimal, traffic: float, window_seconds: int) -> results.ErrorBudget:
    """Bad events per window at ``traffic``, and full-outage minutes ``(1 - target) * window``.

    Both rounded down: an allowance must never be overstated.
    """
    allowed = (Decimal(100) - target) / 100
    events = (Decimal(repr(traffic)) * allowed).to_integral_value(decimal.ROUND_FLOOR)
    minutes = (allowed * window_seconds / 60).quantize(
        Decimal("0.01"), rounding=decimal.ROUND_FLOOR
    )
    return results.ErrorBudget(int(events), minutes)


def interval(
    reps: orderstats.Replicates,
    confidence: float,
    level: float,
    precision: Decimal,
    *,
    cap: Decimal | None,
) -> results.Interval:
    """A tier's plain estimate across pseudo-histories: rounded outward, capped like the tier."""
    lower, upper = reps.interval(confidence, level)
    low = percent(lower, precision, decimal.ROUND_FLOOR)
    high = percent(upper, precision, decimal.ROUND_CEILING)
    if cap is not None:
        low, high = min(low, cap), min(high, cap)
    return results.Interval(level=level, lower=low, upper=high)
