"""Two kinds of incident in a fleet's sizes: ``split``.

One rate and one size distribution describe a fleet whose incidents are all of a kind. Many
reliable services have two: blips a history shows many of (a deploy's few failing minutes), and
outages it rarely does (hours). Pooled into one log size, the blips set the location and the
outages stretch the spread, and a service that saw only blips is told its next incident is a
blip with a wide, thin tail: the shape's body describes neither kind, and its tail is fitted
where the outages' own cluster sits (calibration, fleet prior: ``blips-and-outage``'s balanced
budget 1.70x the oracle's; random processes with two kinds on every service,
``bench.sweep --family two-kinds``: balanced breached 8.2x on 14-day histories whose fleet had
seen six outages among seventeen blips).

``split`` finds where a larger kind begins: a two-component normal mixture fitted to the log
sizes by expectation-maximisation (Dempster, Laird & Rubin 1977), started from the split that
best separates them (Otsu 1979) so the same sizes give the same bytes, and accepted only where
its components are clearly apart — Ashman's D above 2 (Ashman, Bird & Zepf 1994: a mixture of
two normals is bimodal only when their means differ by more than about twice their spread) —
and the larger holds enough incidents to say anything (``MIN_KIND_INCIDENTS``). The split
point is the sparsest point between their means (``_density``), and it must dip to half of
either kind's highest (``MAX_DIP``). ``fleetpool.pool`` then pools each kind as its own fleet
prior (its own rate, size and shape), and ``predictive.Posterior`` reads each service's
incidents on either side of it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from sloreco.core import history
from sloreco.core.prior import MIN_POOLED_INCIDENTS

FloatArray = history.FloatArray

#: Ashman's D above which two fitted normals are taken as two kinds (Ashman et al. 1994: a
#: clean separation; a single normal fitted as a mixture gives components that overlap).
MIN_SEPARATION = 2.0
#: The fewest incidents the larger kind needs: three, the fewest whose sizes a prior is pooled
#: from at all (``prior.MIN_POOLED_INCIDENTS``); below, it is a handful of outliers that one
#: size distribution's tail covers. It must also be the rarer kind (``MAX_LARGER_SHARE``): a
#: few small ones under many large ones are the detector's clumps of background errors, which
#: the larger kind's body covers (measured: ``pareto-1.5``, 46 clumps split off 183 incidents).
MIN_KIND_INCIDENTS = MIN_POOLED_INCIDENTS
#: How deep the dip between the kinds must be: the density there at most 70% of either kind's
#: highest. Two normals fitted to sizes spread flat over several log units (a fleet whose
#: services' means differ) pass the other tests with no dip between them but the kernel's
#: noise: 0.6-0.8 for 300 uniform sizes, 1.0 for 40 evenly spaced (measured); 0.58 for
#: ``blips-and-outage``'s fleet, whose blips thin out slowly toward its outages, and under
#: 0.05 for kinds a gap apart.
MAX_DIP = 0.7
#: The larger kind's largest share of the incidents: a quarter. The case is outages a history
#: rarely shows under blips it shows many of (``blips-and-outage``: one in ten); a split near
#: the middle is a flat spread cut in two (with ``MAX_DIP``'s noise, 300 uniform sizes split
#: 40/60 to 60/40).
MAX_LARGER_SHARE = 0.25
#: Expectation-maximisation steps: the fit settles within a few tens on well-separated kinds,
#: and a fixed count keeps the result a pure function of the sizes.
STEPS = 60
#: The smallest variance a component keeps (log size): a standard deviation of 0.5. Incidents
#: last whole hours of the detector's buckets, so one kind's sizes fall in clumps at one, two,
#: three hours (``log 2`` = 0.69 apart); at a smaller floor the clumps read as kinds (measured:
#: ``very-reliable``'s one-hour outages split at two hours, balanced budget 1.36x -> 1.95x).
MIN_VARIANCE = 0.25
#: The least ratio of the kinds' median sizes: ten, minutes against hours. A stated assumption:
#: kinds closer than that are one kind's spread, which one size distribution describes.
MIN_RATIO = 10.0


def split(logs: Sequence[float]) -> float | None:
    """The log size where a larger kind of incident begins, or None: one kind."""
    values = np.sort(np.asarray(logs, dtype=np.float64))
    n = len(values)
    if n < 2 * MIN_KIND_INCIDENTS or values[-1] - values[0] <= 0:
        return None
    mean, variance = _fit(values, _otsu(values))
    separation = math.sqrt(2.0) * abs(mean[1] - mean[0]) / math.sqrt(variance.sum())
    if separation <= MIN_SEPARATION or mean[1] - mean[0] < math.log(MIN_RATIO):
        return None  # one kind, before the densities: most fleets end here
    grid = np.linspace(float(mean[0]), float(mean[1]), 256)
    density = _density(values, grid)
    at = float(grid[int(np.argmin(density))])
    larger = int(np.count_nonzero(values >= at))
    if not MIN_KIND_INCIDENTS <= larger <= MAX_LARGER_SHARE * n:
        return None
    return None if density.min() > MAX_DIP * min(_peaks(values, at)) else at


def _otsu(values: FloatArray) -> int:
    """How many of the sorted ``values`` fall below the split that maximises the between-class
    variance (Otsu 1979)."""
    n = len(values)
    below = np.arange(1, n)
    sums = np.cumsum(values)[:-1]
    total = float(values.sum())
    lower = sums / below
    upper = (total - sums) / (n - below)
    between = below * (n - below) * (upper - lower) ** 2
    return int(np.argmax(between)) + 1


def _fit(values: FloatArray, cut: int) -> tuple[FloatArray, FloatArray]:
    """Means and variances of two normals fitted by ``STEPS`` EM steps from ``cut``, the
    smaller first."""
    parts = (values[:cut], values[cut:])
    weight = np.array([len(p) / len(values) for p in parts])
    mean = np.array([float(p.mean()) for p in parts])
    variance = np.maximum([float(p.var()) for p in parts], MIN_VARIANCE)
    for _ in range(STEPS):
        density = (
            weight * np.exp(-0.5 * (values[:, None] - mean) ** 2 / variance) / np.sqrt(variance)
        )
        share = density / np.maximum(density.sum(axis=1, keepdims=True), 1e-300)
        mass = share.sum(axis=0)
        if (mass <= 0).any():
            break
        weight = mass / len(values)
        mean = (share * values[:, None]).sum(axis=0) / mass
        variance = np.maximum(
            (share * (values[:, None] - mean) ** 2).sum(axis=0) / mass, MIN_VARIANCE
        )
    order = np.argsort(mean)
    return mean[order], variance[order]


def _peaks(values: FloatArray, at: float) -> tuple[float, float]:
    """The highest density of the sizes below ``at`` and above it (``_density``)."""
    below = np.linspace(float(values[0]), at, 256)
    above = np.linspace(at, float(values[-1]), 256)
    return float(_density(values, below).max()), float(_density(values, above).max())


def _density(values: FloatArray, grid: FloatArray) -> FloatArray:
    """A kernel density of the log sizes on ``grid`` (a normal kernel of half
    ``MIN_VARIANCE``'s deviation), unnormalised.

    The split is its minimum between the kinds' means: not where the fitted normals cross,
    since a kind's sizes need not be normal (blips spread flat over minutes), and the crossing
    of a broad small kind with a narrow large one falls inside the small kind's upper end,
    whose blips then count as outages (measured: ``blips-and-outage``'s fleet split at 3.8, 61
    outages where its process has 48, read at a rate a quarter too high and a spread of 0.9
    where its own is 0.55; aggressive budget 1.08x the oracle's -> 1.36x).
    """
    width = math.sqrt(MIN_VARIANCE) / 2
    kernel: FloatArray = np.exp(-0.5 * ((grid[:, None] - values[None, :]) / width) ** 2)
    density: FloatArray = kernel.sum(axis=1)
    return density
