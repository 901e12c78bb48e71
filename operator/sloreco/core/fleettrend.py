"""How its fleet's backgrounds creep: a fleet prior's reading of growth, and a service's growth
shrunk toward it (empirical Bayes, as ``fleetspells`` does for the background's spells).

``trend`` reads a creep from one history: a growth rate and its standard error under an AR(1)
background around the curve, and forecasts from it only past ``trend.THRESHOLD`` standard
errors. One history at a time, a creep is missed where the history happened to rise less than
its process does, and read where a persistent background happened to rise: measured on the
calibration suite (fleet prior, 100 histories of ``creep``, a doubling every 60 days), three
histories were forecast without their creep (statistics 2.1 and 2.5, and one read as a step)
and breached the balanced tier in nearly every window: 3.2x the promise over the profile; and
15% of ``wandering``'s histories read a creep their process does not have.

Services of one fleet creep alike or not at all (a leak in a shared library, a table every one
of them grows), and the fleet has read many histories. So a fleet prior carries its services'
growth readings pooled — the normal random-effects model of a meta-analysis: each service's
reading ``g_i`` with its sampling variance ``s_i²`` around its own growth, the services' growths
normal around the fleet's mean ``m`` with variance ``τ²`` (DerSimonian & Laird 1986 for ``τ²``,
the moment estimator; BDA §5.4 for the model) — and a service's growth is its reading shrunk
toward the fleet's by what each knows (``posterior``): its precision ``1 / s²`` against the
fleet's ``1 / (τ² + var m)``, the variance a new service's growth has around the fleet's
estimated mean. A fleet that creeps alike lends a weak reading its creep; a fleet that does not
creep takes a chance rise away; a diverse fleet (large ``τ²``) leaves a service its own.

A service whose history reads a step that fits clearly better than a curve
(``trend.step_fits_better``) gives no growth reading: its rise is a regression, not a creep, and
counted as one it would lend its fleet a growth nobody else has.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

#: Fewer services with a growth reading than this: no fleet reading
#: (``fleetspells.MIN_SERVICES``, ``controller.fleet.MIN_SERVICES``).
MIN_SERVICES = 5


@dataclasses.dataclass(frozen=True, slots=True)
class Reading:
    """One history's growth rate (log of its background's level per day) and its standard
    error (``trend.read``)."""

    growth: float
    error: float
    #: Its last days fit a step clearly better than the curve (``trend.step_fits_better``): a
    #: regression, which its fleet counts (``FleetGrowth.steps``) but does not pool.
    stepped: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class FleetGrowth:
    """A fleet's pooled growth: a service's prior mean and standard deviation of its growth,
    from ``services`` services; ``steps`` more read a step instead."""

    mean: float
    spread: float
    services: int
    steps: int = 0


def pool(readings: Sequence[Reading]) -> FleetGrowth | None:
    """The fleet's reading from its services' own (``trend.read``)."""
    usable = [r for r in readings if r.error > 0 and math.isfinite(r.growth) and not r.stepped]
    steps = sum(r.stepped for r in readings)
    if len(usable) < MIN_SERVICES:
        return None
    weights = [1.0 / r.error**2 for r in usable]
    total = sum(weights)
    fixed = sum(w * r.growth for w, r in zip(weights, usable, strict=True)) / total
    q = sum(w * (r.growth - fixed) ** 2 for w, r in zip(weights, usable, strict=True))
    scale = total - sum(w * w for w in weights) / total
    between = max(0.0, (q - (len(usable) - 1)) / scale) if scale > 0 else 0.0
    random = [1.0 / (r.error**2 + between) for r in usable]
    mean = sum(w * r.growth for w, r in zip(random, usable, strict=True)) / sum(random)
    # A new service's growth varies around the estimated mean by the spread of the services'
    # growths and by the mean's own error.
    spread = math.sqrt(between + 1.0 / sum(random))
    return FleetGrowth(mean, spread, len(usable), steps)


def posterior(own: Reading, fleet: FleetGrowth) -> Reading:
    """The service's growth with its fleet's: precision-weighted mean, and its error."""
    mine, theirs = 1.0 / own.error**2, 1.0 / fleet.spread**2
    growth = (mine * own.growth + theirs * fleet.mean) / (mine + theirs)
    return Reading(growth, 1.0 / math.sqrt(mine + theirs))
