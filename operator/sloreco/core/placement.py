"""Where a fleet places a service's background level (``spelldraw.widen``'s centre).

A history of a few long spells knows its level poorly (``persistence.Persistence.level_noise``),
and one read in a calm stretch sat low where the process's next window need not: ``wandering``
(fleet prior, 60 histories, spells of 50 days) breached balanced 4.0x its promise in the
calmest quarter of its histories and 0.01x in the worst, its own level taken as the centre. A
fleet that recorded its services' levels (``fleetspells.levels``) says where such a level
likely sits.

Normal on the log level: the services' logs around their mean with variance ``spread``, and
each history's own log mean around its service's with the variance ``noise`` its spells leave.
The posterior of a service's log level is then the precision-weighted mean of the two, with
variance ``1 / (1/noise + 1/spread)`` (BDA §5.4). Where the fleet's services spread far apart,
the fleet moves none.

The history's own noise is counted at no less than its fleet's services' mean
(``FleetLevel.noise``, method v26). The noise is read at the history's own ``φ``, and a history
of long spells often reads short ones (``wandering``: single histories read ``φ`` from 0.73 to
0.99 where the process's is 0.98), claiming to know its level to a tenth of the variance its
fleet's histories show. Counted at its own, such a history kept its level: measured (fleet
prior, 100 histories, ``make calibrate``), ``wandering``'s balanced tier breached 2.00x its
promise, 10-28x in the histories that read ``φ`` under 0.85; floored at the fleet's, 1.49x, at
the same balanced budget (1.08x the oracle's), every other row within 0.04x. A
fleet of independent days has a small mean noise, and a fleet of strangers a spread that
dwarfs it: neither moves.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from sloreco.core import history

FloatArray = history.FloatArray

#: A reading of no variance knows its level to this (the log's variance, far below any fleet's
#: spread), so that a fleet does not move it: its days did not vary.
EXACT_LEVEL = 1e-12


@dataclasses.dataclass(frozen=True, slots=True)
class FleetLevel:
    """Where a fleet's services' background levels sit (``fleetspells.levels``): the mean of
    their log levels, a service's log level's variance about it (``spread``), and how poorly a
    history of its services knows its own level on average (``noise``, the mean of their
    ``Persistence.level_noise``; 0 where the fleet did not record it)."""

    mean: float
    spread: float
    noise: float = 0.0


def place(
    level: float, toward: FleetLevel | None, noise: FloatArray
) -> tuple[FloatArray | None, FloatArray]:
    """Per pseudo-history (one ``noise`` each): the factor that moves a history's own ``level``
    (a bad share) to the posterior mean of its log, and that log's posterior variance; without
    a fleet's levels, no factor and the history's own ``noise``."""
    if toward is None or level <= 0:
        return None, noise
    own = np.maximum(noise, max(toward.noise, EXACT_LEVEL))
    variance: FloatArray = 1.0 / (1.0 / own + 1.0 / toward.spread)
    centre = variance * (math.log(level) / own + toward.mean / toward.spread)
    shift: FloatArray = np.exp(centre - math.log(level))[:, None]
    return shift, variance
