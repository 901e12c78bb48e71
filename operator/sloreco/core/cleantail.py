"""A history's incidents never make its tail thinner than a clean history's.

Under the default prior a service's own incidents place its sizes: a lognormal fitted to blips
of a few minutes says the next incident costs a few minutes too. That is right about blips and
says nothing of a rarer, larger kind that the history did not hold; and the fit then claimed
less of that kind than a history with no incident at all, whose sizes are the prior's. Measured
on random processes (``bench.sweep``, default prior): histories that held one or two incidents
of two minutes got balanced tiers above a clean history's, and breached them in 27-34% of
windows; a profile of blips over a rare outage (``blips-and-outage``) breached balanced 2.2x.

So the service's own incidents are joined by a clean history's (the prior's rate over the same
exposure, the prior's sizes) larger than the size from which the clean tail is the heavier: the
first size above which more incidents are expected after a clean history than from the
service's own rate and sizes (both at their posterior means, ``threshold``). Each pseudo-
history draws them with its own draw of the clean history's parameters (``joined``). Above that
size the rate of larger incidents is then at least a clean history's; below it nothing is
added. A service with many incidents of its own is left alone up to sizes far out in its tail,
or entirely; a service whose few incidents were tiny keeps them and carries a clean history's
risk of everything larger. (Adding rather than taking the larger of the two tails counts both
above the threshold, at most twice the larger: the cautious side, and the own incidents are
left as drawn.) Latency alike, bound by bound: a bound whose slow-request incidents were small
is read as no safer than one that none reached.

It is a floor, not evidence: a clean history is the least the default assumes of any service,
so no history is read as safer than seeing nothing at all. Under a fleet prior the fleet's
sizes carry the larger kind (``incidentloss._pooled_losses``), and nothing is added.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt

from sloreco.core import sizeshape

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

#: Log full-outage minutes at which the two tails are compared: from 6 seconds to the
#: three-day cap of one incident (``incidentloss.MAX_INCIDENT_MINUTES``), every 20% of size:
#: finer than a handful of incidents place a size, and the comparison costs ``rows x 54`` tail
#: evaluations.
STEP = 0.2
GRID = np.arange(-2.3, 8.5, STEP)


@dataclasses.dataclass(frozen=True)
class Tail:
    """Per pseudo-history: an incident rate per day and the log size's location and spread."""

    rate: FloatArray
    location: FloatArray
    spread: FloatArray
    #: The standardized log size's quantiles and tail (``sizeshape.draw_shape``).
    shape: tuple[tuple[float, ...], tuple[float, float]]

    def exceeding(self) -> FloatArray:
        """Per pseudo-history and ``GRID`` point, the rate of incidents larger than it."""
        z = (GRID[None, :] - self.location[:, None]) / self.spread[:, None]
        exceeded: FloatArray = self.rate[:, None] * sizeshape.survival(*self.shape, z)
        return exceeded

    def draw(self, rng: np.random.Generator, rows: IntArray) -> FloatArray:
        """One log size for each of ``rows`` (pseudo-history indices)."""
        drawn = sizeshape.draw_shape(*self.shape, rng, len(rows))
        drawn *= self.spread[rows]
        drawn += self.location[rows]  # in place: one pass each over every incident drawn
        return drawn


def threshold(own: Tail, clean: Tail) -> FloatArray:
    """Per entry, the log size from which the clean tail is the heavier (half a step below the
    first grid point where it leads: the crossing lies in between); ``inf`` where it never is."""
    heavier = clean.exceeding() > own.exceeding()
    first: FloatArray = np.where(
        heavier.any(axis=1), GRID[np.argmax(heavier, axis=1)] - STEP / 2, np.inf
    )
    return first


def joined(
    clean: Tail, above: FloatArray, rng: np.random.Generator, *, exposure: float
) -> Incidents:
    """Per pseudo-history, a clean history's incidents larger than ``above`` (log minutes;
    ``inf``: none). ``exposure``: the days each pseudo-history's incidents are drawn over (its
    windows' days, all of them)."""
    rows = np.flatnonzero(np.isfinite(above))
    z = (above[rows] - clean.location[rows]) / clean.spread[rows]
    share = sizeshape.survival(*clean.shape, z)
    counts = rng.poisson(clean.rate[rows] * share * exposure)
    row = np.repeat(rows, counts)
    tail = sizeshape.draw_above(*clean.shape, rng, np.repeat(share, counts))
    return Incidents(row, clean.location[row] + clean.spread[row] * tail)


@dataclasses.dataclass(frozen=True)
class Incidents:
    """Drawn incidents: each one's pseudo-history and log size."""

    row: IntArray
    logs: FloatArray
