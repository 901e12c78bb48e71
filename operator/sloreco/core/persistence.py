"""Background spells longer than the bootstrap's blocks, read from a history (``spelldraw`` adds
what the blocks miss back to the windows).

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
  counts (``1 / expected bad events``), which is noise, not persistence; and unbiased for the
  days' correlation (``Persistence.unbiased``);
* ``φ``: the lag-one autocovariance over ``σ²``, so that Poisson noise does not hide it (read
  over the observed variance instead, 3-9% of noise took ``persistent``'s conservative breach
  from 4.7x to 9.5x its promise: the missed variance grows steeply with ``φ``), but over no
  less than half the observed variance: where noise is most of it, a tiny remainder read 20
  requests an hour as month-long spells (``low-traffic``). Plus the bias of a lag-one sample
  autocorrelation, ``(1 + 4φ) / n`` (Marriott & Pope 1954; Kendall's ``(1 + 3φ) / n`` is the
  least-squares slope's, which this is not): simulated lognormal AR(1) shares over 90 days
  read 0.912 for 0.940 and 0.835 for 0.866 with Kendall's, 0.922 and 0.843 with this (400
  histories each; the rest of the gap is the ratio's own bias near one);
* each pseudo-history draws its own ``φ`` (normal, Bartlett's 1946 variance ``(1 - φ²) / n``;
  under a fleet prior the posterior's, ``spelldraw.phi_spread``).

How the windows are drawn with them is ``spelldraw``'s.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from sloreco.core import history, orderstats, placement

FloatArray = history.FloatArray

#: Fewer days with traffic than this: no persistence is fitted. Two weeks hold 13 lag-one
#: pairs; fewer leave the lag-one autocorrelation's standard error (``1/√n``) above 0.27, more
#: than most services' persistence.
MIN_DAYS = 14
#: The largest ``φ`` read or drawn: spells of 90 days (``-1 / ln 0.989``), as long as the
#: default lookback. Beyond, the background is a level that no history holds a second stretch
#: of. At 0.97 (spells of a month, as long as a window), readings of spells of three weeks were
#: cut where their bias correction needed room: the suite's ``drifting`` (spells of about 20
#: days) read its fleet's ``φ`` at 0.90 for 0.94.
MAX_PHI = 0.989
#: At most five times the sample variance: a history whose mean carries more than 80% of its
#: variance holds under two independent stretches and says next to nothing of it; the spread's
#: own draw (``ν / χ²(ν)``, ``ν`` at least 1) carries the rest.
MIN_KEPT = 0.2
#: A history's ``φ`` spreads about twice as far as Bartlett's ``(1 - φ²) / n`` says: simulated
#: lognormal AR(1) shares read it 1.4-2.0 times as spread at 90 days and 1.2-2.2 times at 30
#: (400 histories each, ``φ`` 0.4-0.97), and the engine's readings of the suite's ``drifting``
#: 2.6 times. Counted at Bartlett's, a uniform fleet's readings looked diverse and lent ``φ``
#: the weight of half a history where it has five: ``drifting``'s fleet-prior conservative
#: tier breached 5.3x its promise (100 histories), 1.8x at twice Bartlett's together with the
#: reading's own corrections (``persistence.MAX_PHI``, Marriott & Pope's bias).
READING_SPREAD = 2.0


@dataclasses.dataclass(frozen=True, slots=True)
class Persistence:
    """An AR(1) reading of a background's daily share: ``days`` days, relative ``variance``
    net of Poisson noise, lag-one coefficient ``phi`` (bias-corrected)."""

    days: int
    variance: float
    phi: float
    #: The spread's bias correction (``corrected``): 1 until measured, never below.
    shortfall: float = 1.0
    #: Degrees of freedom of the variance borrowed from a fleet (``fleetspells.shrink``).
    borrowed: float = 0.0
    #: The relative variance of the daily share as observed, Poisson noise included, and the
    #: kurtosis of its deviations (3 for normal days): how noisy ``variance`` itself is
    #: (``fleetspells.reading_freedom``).
    observed: float = 0.0
    kurtosis: float = 3.0
    #: The mean bad share of the days read (0: unknown): the background's level.
    level: float = 0.0
    #: Histories' worth of ``φ`` borrowed from a fleet (``fleetspells.shrink``); None: the
    #: reading is the history's own (``spelldraw.phi_spread``).
    phi_weight: float | None = None
    #: Under a fleet prior, where its services' levels sit (``fleetspells.FleetSpells.level``;
    #: ``spelldraw.widen``).
    toward: placement.FleetLevel | None = None

    @classmethod
    def read(cls, pool: FloatArray) -> Persistence | None:
        """What the days say, a variance within the Poisson noise read as none: the reading a
        service gives its fleet (``fleetspells.pool``), which counts the quiet ones too. None
        with too few days or no bad event."""
        bad, total = pool[:, 0], pool[:, 1]
        days = len(bad)
        if days < MIN_DAYS or float(bad.sum()) <= 0:
            return None
        mean = float(bad.sum() / total.sum())
        deviation = bad / total / mean - 1.0
        deviation = deviation - deviation.mean()
        observed = float(np.mean(deviation**2))
        variance = observed - float(np.mean(1.0 / (mean * total)))  # less the Poisson noise
        lag_one = float(np.sum(deviation[1:] * deviation[:-1])) / days
        if observed <= 0:  # every day the same share: nothing drifts
            return cls(days, 0.0, 0.0, level=mean)
        phi = float(corrected_phi(lag_one, variance, observed, days))
        kurtosis = float(np.mean(deviation**4)) / observed**2
        return cls(days, max(variance, 0.0), phi, observed=observed, kurtosis=kurtosis, level=mean)

    @property
    def spell_days(self) -> float:
        """How long a deviation lasts: the AR(1)'s e-folding time, ``-1 / ln φ`` days."""
        return -1.0 / math.log(self.phi) if 0.0 < self.phi < 1.0 else 0.0

    def corrected(self, plain: FloatArray, nested: FloatArray) -> Persistence:
        """With the bootstrap's shortfall: ``plain`` window shares resampled from the history,
        ``nested`` ``(outer, inner)`` from its pseudo-histories."""
        spread = float(plain.std())
        resampled = orderstats.median(nested.std(axis=1))
        if spread <= 0 or resampled <= 0:
            return self
        return dataclasses.replace(self, shortfall=max(spread / resampled, 1.0) ** 2)

    def unbiased(self, carried: FloatArray) -> FloatArray:
        """The variance, for each ``carried`` (``1 + 2 Σ (1 - k/n) φ^k`` over the history).

        A sample variance of correlated days is low by the share of it their mean carries:
        ``E s² = σ² (1 - carried / n)`` (Bartlett 1946), 13% at ``φ = 0.85`` over 90 days.
        Measured (``make calibrate``, fleet prior, conservative / balanced breach): ``persistent``
        4.9x / 2.0x -> 4.0x / 1.7x (its balanced budget 1.50 -> 1.66 the oracle's),
        ``persistent-mild`` 3.1x / 1.4x -> 2.9x / 1.3x, ``latency-persistent`` 5.7x / 2.5x ->
        5.0x / 2.2x; the other profiles' spells are short and it moved them by about 1%.
        """
        unbiased: FloatArray = self.variance / np.maximum(1.0 - carried / self.days, MIN_KEPT)
        return unbiased

    def level_noise(self) -> float:
        """The variance of the log of this history's mean level about the background's own,
        under its reading: ``log(1 + σ² carried / n)`` (``unbiased`` variance, ``carried`` at
        its ``φ``), what ``spelldraw.widen`` draws a level with when no fleet says where it sits."""
        _, noise = level_of(self, np.array([self.phi]))
        return float(noise[0])

    def placed(self) -> float | None:
        """The level a fleet places this background at (``placement.place``, at the reading's own
        ``φ``), as a bad share; None without a fleet's levels (``priornote`` names it)."""
        shift, _ = placement.place(self.level, self.toward, np.array([self.level_noise()]))
        return None if shift is None else self.level * float(shift[0, 0])

    def missed(
        self,
        phi: FloatArray,
        *,
        span: int,
        block_days: int,
        variance: FloatArray | float | None = None,
    ) -> FloatArray:
        """Relative variance of a mean of ``span`` days that ``block_days``-day blocks miss,
        for the fitted ``variance`` unless another (``unbiased``) is given."""
        block = min(block_days, self.days)
        full = lag_weights(phi, span, span)
        kept = lag_weights(phi, block, block)
        sigma2 = self.variance if variance is None else variance
        extra: FloatArray = np.maximum(sigma2 * (full - kept) / span, 0.0)
        return extra


def corrected_phi(
    lag_one: FloatArray | float,
    variance: FloatArray | float,
    observed: FloatArray | float,
    days: FloatArray | int,
) -> FloatArray:
    """``φ`` from a lag-one autocovariance: over the variance net of noise (but no less than
    half the ``observed``, which must be positive), within ``[0, MAX_PHI]``, plus Marriott &
    Pope's bias (module docstring). Element-wise, so that ``shift`` reads every split of a
    history at once."""
    phi = np.clip(np.divide(lag_one, np.maximum(variance, np.divide(observed, 2))), 0.0, MAX_PHI)
    corrected: FloatArray = np.minimum(phi + (1 + 4 * phi) / days, MAX_PHI)
    return corrected


def widening(reading: Persistence | None) -> Persistence | None:
    """A reading if it has anything to add to the bootstrap's windows: a variance beyond the
    Poisson noise (``spelldraw.widen``)."""
    return reading if reading is not None and reading.variance > 0 else None


def own_freedom(days: FloatArray | int, phi: FloatArray) -> FloatArray:
    """Degrees of freedom of one history's variance, per ``φ``: its effective number of
    independent days less one (``n (1 - φ) / (1 + φ) - 1``, Bayley & Hammersley 1946), at
    least one."""
    freedom: FloatArray = np.maximum(days * (1.0 - phi) / (1.0 + phi) - 1.0, 1.0)
    return freedom


def lag_weights(phi: FloatArray, length: int, lags: int) -> FloatArray:
    """``2 Σ_{k<lags} (1 - k/length) φ^k`` for each ``φ``: the correlation a mean carries."""
    if lags <= 1:
        return np.zeros_like(phi)
    k = np.arange(1, lags, dtype=np.float64)
    powers = np.cumprod(np.broadcast_to(phi[:, None], (len(phi), lags - 1)), axis=1)
    weights: FloatArray = 2.0 * (powers @ (1.0 - k / length))
    return weights


def level_of(fit: Persistence, phi: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Per ``φ``: the variance unbiased for the correlation the history's mean carries
    (``carried = 1 + 2 Σ (1 - k/n) φ^k``), and the variance of the mean's log
    (``log(1 + σ² carried / n)``)."""
    carried = 1.0 + lag_weights(phi, fit.days, fit.days)
    variance = fit.unbiased(carried)
    noise: FloatArray = np.log1p(variance * carried / fit.days)
    return variance, noise
