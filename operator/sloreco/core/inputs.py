"""What callers pass to the entry points, checked; and the preparation both SLIs share.

Its own module because both entry points check the same things the same way — whole-day
windows, percents, histogram bounds, a seed, enough history — so the error a caller sees
(``errors.InputError`` naming the field, ``errors.InsufficientDataError`` with the days found)
does not depend on the SLI. ``prepare`` ends in the random draws (``bootstrap.Draws``) that
every later step shares, which is what makes counterfactuals and backtests comparable.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from decimal import Decimal

import numpy as np

from sloreco import errors
from sloreco.core import bootstrap, history, method, results

FloatArray = history.FloatArray


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


def window_days(window_seconds: int) -> int:
    """The window in whole days; the method simulates windows from whole days."""
    if window_seconds < history.SECONDS_PER_DAY or window_seconds % history.SECONDS_PER_DAY:
        raise errors.InputError(
            f"the window must be a whole number of days (at least 1d), got {window_seconds}s",
            field="window",
        )
    return window_seconds // history.SECONDS_PER_DAY


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


def percent(value: Decimal | None, field: str, *, allow_100: bool = True) -> Decimal | None:
    """``value`` as a Decimal percent in ``(0, 100]``; a percentile may not be 100."""
    if value is None:
        return None
    value = Decimal(value)
    if not value.is_finite() or value <= 0 or value > 100 or (value == 100 and not allow_100):
        raise errors.InputError(f"must be a percent in (0, 100], got {value}", field=field)
    return value


def latency_objective(
    objective: results.LatencyObjective | None,
) -> results.LatencyObjective | None:
    """The current latency objective, checked field by field so the error names the bad one."""
    if objective is None:
        return None
    threshold = Decimal(objective.threshold)
    if not threshold.is_finite() or threshold <= 0:
        raise errors.InputError(
            f"must be a positive number of seconds, got {threshold}",
            field="currentObjective.latency.threshold",
        )
    target = percent(objective.target, "currentObjective.latency.target")
    assert target is not None
    return results.LatencyObjective(threshold=threshold, target=target)


def check_bounds(bounds: Sequence[float]) -> None:
    """Histogram bounds the latency method can read: strictly increasing, ending with ``+Inf``."""
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


def prepare(
    data_days: FloatArray,
    pool: FloatArray,
    *,
    seed: int,
    window_days: int,
    s: method.MethodSettings,
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
