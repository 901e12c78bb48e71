"""How its fleet's backgrounds drift: a fleet prior's reading of persistence, and a service's
reading shrunk toward it (empirical Bayes, as ``fleetpool`` does for incidents).

``persistence`` reads a background's day-to-day spells from one history: an AR(1) of its daily
bad share, relative variance ``σ²`` and lag-one coefficient ``φ``. A 90-day history of spells
ten days long holds five or so independent stretches, so both are read poorly, and worst where
it matters: a history that happened to fall in a calm stretch reads a low level *and* a small
variance, so its tiers are tight exactly when its level is most likely to rise. Measured on the
calibration suite (fleet prior, 100 histories of ``persistent``): the calmest fifth of the
histories breached the conservative tier 33 times its promise; overall 4.6x conservative, 1.8x
balanced. Services of one fleet drift alike (the same dependencies, the same neighbours, the
same release train), and the fleet has read many such stretches. So a fleet prior carries its
services' pooled readings, and each service's reading is shrunk toward them in proportion to
how little its own history says:

* **variance** — a scaled-inverse-χ² prior (BDA §3.2): the mean of the services' variances,
  worth ``freedom`` degrees of freedom. The service's posterior variance is the
  freedom-weighted mean of the fleet's and its own, with the sum of both freedoms
  (``spelldraw.widen`` draws its spread's uncertainty with them); its own freedom is
  ``reading_freedom``'s (the normal theory's, less for heavy-tailed or Poisson-dominated days).
  A reading of no variance is a reading too: its days' spread was within the Poisson noise, and
  it takes the fleet's like any other. The fleet's is ``2 / τ²``, ``τ²`` the relative spread of its
  services' variances beyond what their own sampling error explains (``(s² / s̄² - 1)²`` has
  mean ``2 / ν`` for ``ν`` degrees of freedom; DerSimonian & Laird 1986 for the moment
  estimator), capped at ``MAX_FREEDOM`` so that a uniform fleet still lets a service move its
  own reading. The plain mean, not one weighted by freedom: a reading of higher ``φ`` has
  fewer degrees of freedom and, in the same fleet, a larger variance (correlation 0.6 over
  ``persistent``'s), so the weighted mean read that fleet's variance 12% low (0.50 for 0.57;
  conservative breach 4.6x the promise against 3.8x, both with ``φ``'s spread narrowed);
* **φ** — a normal prior at the fleet's mean ``φ``, worth ``phi_weight`` histories: the
  sampling variance of one history's ``φ`` (Bartlett's ``(1 - φ²) / n``, times
  ``READING_SPREAD``) over the spread of the services' ``φ`` beyond it, capped at
  ``MAX_PHI_WEIGHT``. The fleet moves ``φ``'s centre, and since method v27 the spread
  ``spelldraw.widen`` draws it with (``spelldraw.phi_spread``: the reading's own variance,
  ``READING_SPREAD`` times Bartlett's, over one plus the fleet's weight). Narrowed from
  Bartlett's alone by the fleet's weight (v9), ``persistent``'s conservative tier breached 3.8x
  its promise, 2.5x not: at 90 days Bartlett's variance understates a reading's own, and the
  missed variance grows steeply with ``φ``.

Measured (``make calibrate``, fleet prior, 100 histories; breach over the promise, conservative /
balanced / aggressive): ``persistent`` 4.60 / 1.79 / 0.98 -> 2.56 / 1.49 / 1.05, ``persistent-mild``
3.64 / 1.52 / 0.84 -> 1.79 / 1.05 / 0.74, ``latency-persistent`` 0.59 / 2.19 / 1.00 -> 0.60 / 1.25 /
0.88; their balanced budgets 1.70, 1.31, 1.42 -> 1.32, 1.26, 1.21 times the oracle's; the other
profiles within a hundredth but ``short-14d`` (balanced 1.14 -> 1.19). A diverse fleet's spread
is wide and shrinks little (the mixed fleet's row did not move).

* **level** (method v25) — the mean of its services' log levels and how far they spread beyond
  what each history's spells leave in its own mean (``levels``): a history of a few long spells
  knows its level poorly, and its posterior level is placed between its own and its fleet's
  (``placement``). A fleet of one process places it near the fleet's; services whose
  levels differ leave it its own. Measured (fleet prior, 60 histories; balanced breach over the
  promise, balanced budget over the oracle's): ``wandering`` 2.02 / 1.90 -> 1.18 / 1.34,
  ``drifting`` 1.00 / 2.10 -> 0.41 / 1.51, ``persistent`` 0.52 / 1.73 -> 0.28 / 1.38,
  ``latency-persistent`` 0.51 / 1.58 -> 0.39 / 1.31; the mixed fleet's rows did not move.
  Since method v26 the fleet also keeps how poorly its histories know their levels, on
  average (``FleetSpells.level_noise``), and no service's own is counted as less
  (``placement``): ``wandering`` 2.00 -> 1.49 balanced (``make calibrate``, 100 histories),
  its worst of six fleets 6.7 -> 2.7.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

from sloreco.core.persistence import READING_SPREAD, Persistence, own_freedom
from sloreco.core.placement import FleetLevel

#: At most this many degrees of freedom borrowed from a fleet for the variance: twenty, the
#: pseudo-observations ``fleetpool.MAX_STRENGTH`` allows a fleet's incident estimates, so a
#: uniform fleet outweighs a 90-day history of ten-day spells (about four degrees of freedom)
#: five to one and a history of independent days (about 88) does not. The cap matters little:
#: measured on the suite's ``persistent`` (fleet prior, 100 histories), conservative / balanced
#: breach 2.96x / 1.44x the promise at 5, 2.56x / 1.49x at 20, 2.53x / 1.51x at 100 (balanced
#: budgets 1.36x, 1.32x, 1.30x the oracle's); the fleet's variance and ``φ`` are what move it.
MAX_FREEDOM = 20.0
#: At most this many histories' worth of ``φ`` borrowed from a fleet: a history's own ``φ``
#: keeps a sixth of the weight in a uniform fleet.
MAX_PHI_WEIGHT = 5.0
#: Fewer services with a readable background than this: no fleet reading
#: (``controller.fleet.MIN_SERVICES``).
MIN_SERVICES = 5


@dataclasses.dataclass(frozen=True, slots=True)
class FleetSpells:
    """A fleet's pooled background persistence: relative ``variance`` worth ``freedom`` degrees
    of freedom, lag-one ``phi`` worth ``phi_weight`` histories, from ``services`` services; and
    the mean kurtosis of its services' daily deviations (``reading_freedom``; 3: normal days,
    as documents written before it was recorded read)."""

    variance: float
    freedom: float
    phi: float
    phi_weight: float
    services: int
    kurtosis: float = 3.0
    #: Where its services' levels sit: the mean of their log levels, and a service's level's
    #: variance about it (``levels``); None where the fleet did not record them (documents
    #: written before method v25): each service's level is then its own.
    level: float | None = None
    level_spread: float = 0.0
    #: How poorly a history of its services knows its own level, on average (``levels``); 0 in
    #: documents written before method v26.
    level_noise: float = 0.0


def reading_freedom(reading: Persistence, *, kurtosis: float, variance: float) -> float:
    """Degrees of freedom of one history's variance reading, counting what the normal theory of
    ``persistence.own_freedom`` leaves out, on the cautious side only (never more than it).

    A sample variance's own variance is ``(μ₄ - σ⁴) / n``: ``2σ⁴ / n`` for normal days, ``κ - 1``
    halves of that for days of kurtosis ``κ``. And the reading is net of Poisson noise, so the
    noise of the observed variance, Poisson part included, lands on the net one: relative to the
    service's variance ``v``, its freedom shrinks by ``(v / (v + poisson))²``. Both are read
    with the fleet's (its mean kurtosis and variance), not the history's own: a history that
    missed its worst days reads a small kurtosis and a small variance, and would claim to know
    its variance best exactly when it knows it least. Measured (random processes,
    ``bench.sweep`` seed 20261207, process 19: a latency SLI at 69 requests an hour whose daily
    slow share is gamma-distributed with shape 0.37): readings spread three times as far as the
    normal theory's 27 degrees of freedom say; counted at normal theory, a history that read no
    variance kept its own reading against its fleet's 0.31, and its conservative tier breached
    5.5x the promise; counted as here, 0.46x, at the same balanced budget (1.37x the oracle's).
    """
    normal = float(own_freedom(reading.days, np.array([reading.phi]))[0])
    poisson = max(reading.observed - reading.variance, 0.0)
    share = variance / (variance + poisson) if variance > 0 else 1.0
    heavier = min(1.0, 2.0 / max(kurtosis - 1.0, 1e-9))
    return max(normal * heavier * share**2, 1.0)


def pool(readings: Sequence[Persistence]) -> FleetSpells | None:
    """The fleet's reading from its services' own (``persistence.Persistence.read``)."""
    if len(readings) < MIN_SERVICES:
        return None
    variance = sum(r.variance for r in readings) / len(readings)
    if variance <= 0:
        return None
    kurtosis = sum(r.kurtosis for r in readings) / len(readings)
    freedoms = [reading_freedom(r, kurtosis=kurtosis, variance=variance) for r in readings]
    spread = sum(
        (r.variance / variance - 1.0) ** 2 - 2.0 / f
        for f, r in zip(freedoms, readings, strict=True)
    ) / len(readings)
    freedom = min(2.0 / spread, MAX_FREEDOM) if spread > 0 else MAX_FREEDOM
    phi = sum(r.phi for r in readings) / len(readings)
    noise = READING_SPREAD * sum((1.0 - r.phi**2) / r.days for r in readings) / len(readings)
    between = sum((r.phi - phi) ** 2 for r in readings) / (len(readings) - 1) - noise
    weight = min(noise / between, MAX_PHI_WEIGHT) if between > 0 else MAX_PHI_WEIGHT
    placed = levels(readings)
    return FleetSpells(
        variance,
        max(freedom, 1.0),
        phi,
        weight,
        len(readings),
        kurtosis,
        level=placed.mean if placed else None,
        level_spread=placed.spread if placed else 0.0,
        level_noise=placed.noise if placed else 0.0,
    )


def levels(readings: Sequence[Persistence]) -> FleetLevel | None:
    """The mean of the services' log levels, and the variance of one service's log level about
    it: the spread of the logs beyond what each history's own spells leave in its mean
    (``Persistence.level_noise``; the DerSimonian & Laird 1986 moment estimator, as for the
    variance), plus the error of the mean itself; and that noise's mean, the least a service's
    own is counted at (``placement``). A fleet of one process reads only the mean's
    error, and places every service's level at the fleet's; services whose levels differ
    (a fleet of strangers: 0.001% to 2%) read a spread that leaves each its own. None with
    fewer than ``MIN_SERVICES`` levels read."""
    read = [(math.log(r.level), r.level_noise()) for r in readings if r.level > 0]
    if len(read) < MIN_SERVICES:
        return None
    logs = np.array([log for log, _ in read])
    noise = float(np.mean([n for _, n in read]))
    between = max(float(logs.var(ddof=1)) - noise, 0.0)
    spread = between + (between + noise) / len(read)
    return FleetLevel(float(logs.mean()), spread, noise) if spread > 0 else None


def shrink(own: Persistence, fleet: FleetSpells) -> Persistence:
    """The service's reading with its fleet's: variance and ``φ`` weighted by what each knows."""
    mine = reading_freedom(own, kurtosis=fleet.kurtosis, variance=fleet.variance)
    variance = (mine * own.variance + fleet.freedom * fleet.variance) / (mine + fleet.freedom)
    phi = (own.phi + fleet.phi_weight * fleet.phi) / (1.0 + fleet.phi_weight)
    return dataclasses.replace(
        own,
        variance=variance,
        phi=phi,
        borrowed=fleet.freedom,
        phi_weight=fleet.phi_weight,
        toward=(
            None
            if fleet.level is None
            else FleetLevel(fleet.level, fleet.level_spread, fleet.level_noise)
        ),
    )
