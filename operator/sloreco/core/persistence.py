"""Background spells longer than the bootstrap's blocks: what the blocks miss, added back.

The background is bootstrapped in blocks of ``block_days`` consecutive days (``bootstrap``), so a
simulated window keeps the day-to-day correlation within a block and none beyond it. A
background that drifts in spells — a bad week from a leaky dependency or a noisy neighbour, a
slow regression and its fix — makes 28-day windows vary more than blocks of five days can, and a
90-day history holds only a few such spells, so its own level is less certain than its day
count says. Measured on the calibration suite (``bench.processes``' ``persistent``: a 0.1%
background whose daily share carries over with an AR(1) coefficient of 0.9 on its log), a fleet
prior's balanced tier breached 17x its promise with blocks alone, and still 12x with 20-day
blocks: longer blocks cannot add the spells the history did not hold.

So the day-to-day deviations of the background's share are read as an AR(1) process, whose
autocovariances ``σ² φ^k`` say how much variance the blocks leave out (the variance of a mean of
``m`` days is ``σ²/m · (1 + 2 Σ (1 - k/m) φ^k)``; a block bootstrap of ``b``-day blocks keeps the
lags under ``b`` with weights ``1 - k/b``: Künsch 1989, Lahiri 2003 §3). Fitted by moments:

* ``σ²``: the variance of the daily share relative to its mean, less the Poisson variance of its
  counts (``1 / expected bad events``), which is noise, not persistence;
* ``φ``: the lag-one autocovariance over ``σ²`` (so that Poisson noise does not hide it), plus
  Kendall's (1954) bias correction ``(1 + 3φ) / n``;
* each pseudo-history draws its own ``φ`` (normal, Bartlett's 1946 variance ``(1 - φ²) / n``)
  and its own scale of the background's spread, ``ν / χ²(ν)`` with ``ν`` the effective number of
  independent days less one (``n (1 - φ) / (1 + φ)``: Bayley & Hammersley 1946), so that a tier
  holds at the ``tolerance`` point of what a few spells say (the scaled-inverse-χ² posterior of
  a variance; BDA §3.2).

What the blocks miss is added as two lognormal factors on the background's bad share with that
much variance: one per pseudo-history (its level: the history's mean is a mean of few spells)
and one per simulated window (its own spells). Independent days give ``φ`` near zero and lags at
and past the block length add nothing: the correction vanishes where the blocks suffice
(measured: the 22 other profiles' rows moved by no more than their seed noise).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from sloreco.core import history

FloatArray = history.FloatArray

#: Fewer days with traffic than this: no persistence is fitted. Two weeks hold 13 lag-one
#: pairs; fewer leave the lag-one autocorrelation's standard error (``1/√n``) above 0.27, more
#: than most services' persistence.
MIN_DAYS = 14
#: The largest ``φ`` drawn: spells of a month (``-1 / ln 0.97``), as long as a window. Beyond,
#: the background is a level that drifts across windows, not variation within one, and the
#: history cannot say by how much.
MAX_PHI = 0.97


@dataclasses.dataclass(frozen=True)
class Persistence:
    """An AR(1) reading of a background's daily share: ``days`` days, relative ``variance``
    net of Poisson noise, lag-one coefficient ``phi`` (bias-corrected)."""

    days: int
    variance: float
    phi: float

    @classmethod
    def of(cls, pool: FloatArray) -> Persistence | None:
        """From a pool of days ``(days, [bad, total])``; None when nothing can be read."""
        bad, total = pool[:, 0], pool[:, 1]
        days = len(bad)
        if days < MIN_DAYS or float(bad.sum()) <= 0:
            return None
        mean = float(bad.sum() / total.sum())
        deviation = bad / total / mean - 1.0
        deviation = deviation - deviation.mean()
        noise = float(np.mean(1.0 / (mean * total)))
        variance = float(np.mean(deviation**2)) - noise
        if variance <= 0:
            return None
        lag_one = float(np.sum(deviation[1:] * deviation[:-1])) / days
        phi = min(max(lag_one / variance, 0.0), MAX_PHI)
        return cls(days, variance, min(phi + (1 + 3 * phi) / days, MAX_PHI))

    def missed(self, phi: FloatArray, *, span: int, block_days: int) -> FloatArray:
        """Relative variance of a mean of ``span`` days that ``block_days``-day blocks miss."""
        block = min(block_days, self.days)
        full = _lag_weights(phi, span, span)
        kept = _lag_weights(phi, block, block)
        extra: FloatArray = np.maximum(self.variance * (full - kept) / span, 0.0)
        return extra


def _lag_weights(phi: FloatArray, length: int, lags: int) -> FloatArray:
    """``2 Σ_{k<lags} (1 - k/length) φ^k`` for each ``φ``: the correlation a mean carries."""
    k = np.arange(1, lags, dtype=np.float64)[None, :]
    weights: FloatArray = 2.0 * ((1.0 - k / length) * phi[:, None] ** k).sum(axis=1)
    return weights


def widen(
    windows: FloatArray,
    fit: Persistence | None,
    *,
    window_days: int,
    block_days: int,
    rng: np.random.Generator,
) -> FloatArray:
    """Background window availabilities ``(outer, inner)`` with what the blocks missed."""
    if fit is None:
        return windows
    outer, inner = windows.shape
    spread = math.sqrt(max(1.0 - fit.phi**2, 0.0) / fit.days)
    phi = np.clip(fit.phi + spread * rng.standard_normal(outer), 0.0, MAX_PHI)
    level = np.sqrt(np.log1p(fit.missed(phi, span=fit.days, block_days=block_days)))[:, None]
    own = np.sqrt(np.log1p(fit.missed(phi, span=window_days, block_days=block_days)))[:, None]
    shares = (1.0 - windows) * np.exp(level * rng.standard_normal((outer, 1)) - level**2 / 2)
    shares = shares * np.exp(own * rng.standard_normal((outer, inner)) - own**2 / 2)
    freedom = np.maximum(fit.days * (1.0 - phi) / (1.0 + phi) - 1.0, 1.0)
    scale = np.sqrt(freedom / rng.chisquare(freedom))[:, None]
    centre = shares.mean(axis=1, keepdims=True)
    widened: FloatArray = 1.0 - np.clip(centre + scale * (shares - centre), 0.0, 1.0)
    return widened
