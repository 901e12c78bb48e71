"""A background that rose within its history and stayed: read the rise, and forecast from it.

A deploy that doubled a service's error rate two weeks ago, a dependency that got noisier and
was never fixed: the history's last days run at a level its earlier days did not, and the next
windows follow the last days, not the history's average. Bootstrapped as one stationary
stretch, the history replays a mix of the two levels, and the spells it reads (``persistence``)
widen the windows around the mix. Measured on the calibration harness (``bench.processes``'
``regression``: a 0.1% background that tripled 14 days before the history ended), a fleet
prior's tiers breached 27x, 28x and 15x their promises (100 histories); a tenfold rise, balanced
36x and aggressive 20x (a probe, 60 histories).

So the background's daily shares are tested for a *rise* in their last days: for each split
with at least ``MIN_RECENT_DAYS`` after it and ``MIN_EARLIER_DAYS`` before, the log of the
recent level over the earlier one, against its standard error under the null that both are
stretches of one stationary AR(1) background (the earlier stretch's own day-to-day variance
and lag-one persistence, as ``persistence`` reads them: a mean of ``m`` days has relative
variance ``(σ² (1 + 2 Σ (1 - k/m) φ^k) + noise) / m``). The largest statistic over the splits
decides whether (a CUSUM-like scan: Page 1954; Csörgő & Horváth 1997 for its maximum); of the
splits above ``THRESHOLD``, the one that fits two levels best decides where (``_located``).
The earlier days are then scaled to the recent level (``rebase``), so that the
bootstrap replays the history's day-to-day shape at the level the service now runs at; its
incidents are found against that level too (``evidence.RISE_PASSES``).

The spells are read of the days as they were, rise included (``evidence.Evidence.spells``), so
the rise widens the windows as a spell would. Read of the rebased days instead, with the level
known from the recent days only, the rises read in stationary backgrounds narrowed their
windows: ``wandering`` (fleet prior) breached balanced 5.6x its promise against 3.5x, and
``regression``'s balanced budget was 1.55x the oracle's against 1.36x.

Only rises: a tier that counts on an improvement that does not last breaches its promise; one
that waits for the improvement to show in more of the history costs budget, which the next
recommendation gives back. The null's persistence is the earlier stretch's, so a background
that drifts in spells mostly explains its own last stretch; not always, since a stretch
demeaned on its own mean holds less of its slowest drift (measured, 100 histories each, at
``THRESHOLD``: rises read in 0% of ``steady``'s, ``incidents``', ``overdispersed``' and
``low-traffic``'s, 5% of ``persistent-mild``'s, 6% of ``brownout``'s, 11% of
``persistent``'s, 19% of ``drifting``'s and 25% of ``wandering``'s). Such a rise moves a
history's level up to its last spell's, which costs budget, not promises (fleet prior,
``make calibrate``: those rows moved within their noise but ``wandering``'s conservative
tier, 0.37x -> 1.97x its promise, inside the goal's 3x).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt

from sloreco.core import history, persistence

FloatArray = history.FloatArray

#: The shortest recent stretch a rise is read from: a week, so that a weekly pattern of traffic
#: or deploys cannot pass for one.
MIN_RECENT_DAYS = 7
#: The shortest stretch before it: four weeks. At two (``persistence.MIN_DAYS``, the fewest
#: days whose persistence is read at all) a stretch's variance was read so low now and then
#: that 1% of ``steady``'s histories read a rise 75 days long (100 histories), and the
#: drifting profiles' 26-35% instead of 11-25%.
MIN_EARLIER_DAYS = 28
#: The scan's threshold, in standard errors: the maximum of up to 56 correlated statistics,
#: not one. Measured (100 histories each): at 3, rises read in 4% of ``steady``'s and
#: ``incidents``' histories and 22-31% of the drifting ones; at 4, in none and 11-25%. The
#: price: a doubling seen for 14 days is read in 66% of histories (92% at 3), a tripling seen
#: for 7 days in 87% (97%), for 14 in all.
THRESHOLD = 4.0


@dataclasses.dataclass(frozen=True, slots=True)
class Rise:
    """The background's last ``days`` days ran ``factor`` times its earlier level, ``z``
    standard errors above what its own drift explains."""

    days: int
    factor: float
    z: float


def find(pool: FloatArray) -> Rise | None:
    """The strongest rise at the end of ``pool`` (``(days, [bad, total])``), if significant."""
    recent, factor, z = scan(pool, prune=True)
    if len(z) == 0 or float(z.max()) <= THRESHOLD:
        return None
    best = _located(pool, recent, z > THRESHOLD)
    return Rise(int(recent[best]), float(factor[best]), float(z[best]))


def _located(
    pool: FloatArray, recent: npt.NDArray[np.int64], passing: npt.NDArray[np.bool_]
) -> int:
    """Where the level changed: of the splits that pass, the one whose two levels fit the daily
    shares best (least squares, Bai 1994), not the largest statistic. A split a few days before
    a large step still passes by far, and its recent stretch, averaged over the days before the
    step, has the smaller error: the largest statistic put a thirtyfold step 14 days before the
    end at 37 days and read it as 13x."""
    share = pool[:, 0] / pool[:, 1]
    days = len(share)
    first = np.concatenate([[0.0], np.cumsum(share)])
    second = np.concatenate([[0.0], np.cumsum(share * share)])
    split = days - recent
    earlier = second[split] - first[split] ** 2 / split
    later = (second[-1] - second[split]) - (first[-1] - first[split]) ** 2 / recent
    misfit = np.where(passing, earlier + later, np.inf)
    return int(np.argmin(misfit))


def scan(
    pool: FloatArray, *, prune: bool = False
) -> tuple[npt.NDArray[np.int64], FloatArray, FloatArray]:
    """Per split with traffic and bad events on both sides: the recent days, the recent level
    over the earlier one, and its statistic (0 where the level fell). ``prune``: none at all
    when every statistic stays under ``THRESHOLD`` even with no persistence (which only adds to
    the error), sparing the persistence reading: most histories, and most of the bounds at
    which the latency SLI scans its background.

    Every split at once, from running sums: the earlier stretch's mean, variance and lag-one
    autocovariance, as ``persistence.Persistence.read`` reads one stretch.
    """
    bad, total = pool[:, 0], pool[:, 1]
    days = len(bad)
    splits = np.arange(MIN_EARLIER_DAYS, days - MIN_RECENT_DAYS + 1)
    if len(splits) == 0 or float(bad.sum()) <= 0:
        return splits, np.zeros(0), np.zeros(0)
    share = bad / total
    lagged = np.zeros(days)
    lagged[1:] = share[1:] * share[:-1]
    # One pass of running sums: bad, total, x, x², 1/total, x_i x_{i-1} (x the daily share).
    sums = np.zeros((6, days + 1))
    np.cumsum(
        np.stack([bad, total, share, share * share, 1.0 / total, lagged]), axis=1, out=sums[:, 1:]
    )
    at = sums[:, splits]
    earlier_bad, recent_bad = at[0], sums[0, -1] - at[0]
    usable = (earlier_bad > 0) & (recent_bad > 0)
    splits, at = splits[usable], at[:, usable]
    if len(splits) == 0:
        return splits, np.zeros(0), np.zeros(0)
    earlier_bad, recent_bad = at[0], sums[0, -1] - at[0]
    mean = earlier_bad / at[1]
    factor = recent_bad / (sums[1, -1] - at[1]) / mean
    # The earlier stretch's moments relative to its mean, as ``Persistence.read`` takes them.
    centre = at[2] / splits
    observed = np.maximum(at[3] / splits - centre**2, 0.0) / mean**2
    noise = at[4] / splits / mean
    recent = days - splits
    variance = np.maximum(observed - noise, 0.0)
    rise = np.log(np.maximum(factor, 1.0))
    if prune:  # the error at no persistence (φ ≥ 0 only adds), a hair under for rounding
        least = np.sqrt(
            (variance + noise) / recent + (variance + noise) / splits + 1.0 / recent_bad
        )
        if float((rise / (least * (1 - 1e-9))).max()) <= THRESHOLD:
            return splits[:0], np.zeros(0), np.zeros(0)
    # Σ (x_i - c)(x_{i-1} - c) over the stretch's lag-one pairs, expanded into running sums.
    before, after = sums[2, splits - 1], at[2] - share[0]
    lag_one = (at[5] - centre * (before + after) + (splits - 1) * centre**2) / splits / mean**2
    read = observed > 0
    phi = np.where(
        read,
        persistence.corrected_phi(lag_one, variance, np.where(read, observed, 1.0), splits),
        0.0,
    )
    carried = _carried(np.concatenate([phi, phi]), np.concatenate([recent, splits]))
    error = np.sqrt(
        (variance * carried[: len(splits)] + noise) / recent
        + (variance * carried[len(splits) :] + noise) / splits
        + 1.0 / recent_bad
    )
    z: FloatArray = rise / error
    return recent, factor, z


def rebase(pool: FloatArray, rise: Rise) -> FloatArray:
    """``pool`` with the days before the rise at its level: their bad events times its factor."""
    rebased = pool.copy()
    rebased[: len(pool) - rise.days, 0] *= rise.factor
    return rebased


def _carried(phi: FloatArray, spans: npt.NDArray[np.int64]) -> FloatArray:
    """``1 + 2 Σ_{k<m} (1 - k/m) φ^k`` per ``φ`` and its span ``m``: the correlation a mean of
    ``m`` days of an AR(1) carries (``persistence``'s), in closed form (the sums of ``φ^k`` and
    ``k φ^k``), since every split has its own span; ``φ ≤ persistence.MAX_PHI`` keeps
    ``1 - φ`` away from zero."""
    m = spans.astype(np.float64)
    last = phi ** (m - 1)
    geometric = phi * (1.0 - last) / (1.0 - phi)
    weighted = phi * (1.0 - m * last + (m - 1) * last * phi) / (1.0 - phi) ** 2
    carried: FloatArray = 1.0 + 2.0 * (geometric - weighted / m)
    return carried
