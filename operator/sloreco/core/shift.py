"""A background that rose within its history and stayed: read the rise, and forecast from it.

A deploy that doubled a service's error rate two weeks ago, a dependency that got noisier and
was never fixed: the history's last days run at a level its earlier days did not, and the next
windows follow the last days, not the history's average. Bootstrapped as one stationary
stretch, the history replays a mix of the two levels, and the spells it reads (``persistence``)
widen the windows around the mix. Measured on the calibration harness (``bench.processes``'
``regression``: a 0.1% background that tripled 14 days before the history ended), a fleet
prior's balanced tier breached 19x its promise and its aggressive tier 13x; a tenfold rise, 36x
and 20x.

So the background's daily shares are tested for a *rise* in their last days: for each split
with at least ``MIN_RECENT_DAYS`` after it and ``MIN_EARLIER_DAYS`` before, the log of the
recent level over the earlier one, against its standard error under the null that both are
stretches of one stationary AR(1) background (the earlier stretch's own day-to-day variance
and lag-one persistence, as ``persistence`` reads them: a mean of ``m`` days has relative
variance ``(σ² (1 + 2 Σ (1 - k/m) φ^k) + noise) / m``). The largest statistic over the splits
decides (a CUSUM-like scan: Page 1954; Csörgő & Horváth 1997 for its maximum). Above
``THRESHOLD``, the earlier days are scaled to the recent level (``rebase``), so that the
bootstrap replays the history's day-to-day shape at the level the service now runs at, and
the level itself counts as known from the recent days only (``persistence.Persistence``'s
``level_days``): a rise seen for a week is a level read from a week.

Only rises: a tier that counts on an improvement that does not last breaches its promise; one
that waits for the improvement to show in more of the history costs budget, which the next
recommendation gives back. The earlier stretch's persistence is the null's, so a background
that drifts in long spells (``persistent``, ``drifting``, ``wandering``) explains its own
recent stretch and is not read as a rise.
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
#: The shortest stretch before it: two weeks, ``persistence.MIN_DAYS``, the fewest days whose
#: lag-one persistence is read at all.
MIN_EARLIER_DAYS = 28
#: The scan's threshold, in standard errors. The maximum of up to 70 correlated statistics of
#: a stationary background exceeds 3 in a few percent of 90-day histories (the scan's own
#: multiplicity), and a rise read where there was none lowers every tier; at 4 the suite's
#: stationary profiles read one in ... (measured below, ``bench``).
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
    recent, factor, z = scan(pool)
    if len(z) == 0 or float(z.max()) <= THRESHOLD:
        return None
    best = int(np.argmax(z))
    return Rise(int(recent[best]), float(factor[best]), float(z[best]))


def scan(pool: FloatArray) -> tuple[npt.NDArray[np.int64], FloatArray, FloatArray]:
    """Per split with traffic and bad events on both sides: the recent days, the recent level
    over the earlier one, and its statistic (0 where the level fell).

    Every split at once, from running sums: the earlier stretch's mean, variance and lag-one
    autocovariance, as ``persistence.Persistence.read`` reads one stretch.
    """
    bad, total = pool[:, 0], pool[:, 1]
    days = len(bad)
    splits = np.arange(MIN_EARLIER_DAYS, days - MIN_RECENT_DAYS + 1)
    cum_bad, cum_total = _running(bad), _running(total)
    usable = (cum_bad[splits] > 0) & (cum_bad[-1] - cum_bad[splits] > 0)
    splits = splits[usable]
    if len(splits) == 0:
        return splits, np.zeros(0), np.zeros(0)
    earlier_bad, recent_bad = cum_bad[splits], cum_bad[-1] - cum_bad[splits]
    mean = earlier_bad / cum_total[splits]
    factor = recent_bad / (cum_total[-1] - cum_total[splits]) / mean
    # The earlier stretch's moments relative to its mean, as ``Persistence.read`` takes them.
    share = bad / total
    running = _running(share)
    centre = running[splits] / splits
    observed = np.maximum(_running(share * share)[splits] / splits - centre**2, 0.0) / mean**2
    noise = _running(1.0 / total)[splits] / splits / mean
    variance = np.maximum(observed - noise, 0.0)
    products = _running(np.concatenate([[0.0], share[1:] * share[:-1]]))[splits]
    # Σ (x_i - c)(x_{i-1} - c) over the stretch's lag-one pairs, expanded into running sums.
    before, after = running[splits - 1], running[splits] - share[0]
    lag_one = (products - centre * (before + after) + (splits - 1) * centre**2) / splits / mean**2
    read = observed > 0
    phi = np.where(
        read,
        persistence.corrected_phi(lag_one, variance, np.where(read, observed, 1.0), splits),
        0.0,
    )
    recent = days - splits
    error = np.sqrt(
        (variance * _carried(phi, recent) + noise) / recent
        + (variance * _carried(phi, splits) + noise) / splits
        + 1.0 / recent_bad
    )
    z: FloatArray = np.log(np.maximum(factor, 1.0)) / error
    return recent, factor, z


def rebase(pool: FloatArray, rise: Rise) -> FloatArray:
    """``pool`` with the days before the rise at its level: their bad events times its factor."""
    rebased = pool.copy()
    rebased[: len(pool) - rise.days, 0] *= rise.factor
    return rebased


def _running(values: FloatArray) -> FloatArray:
    """``out[i]``: the sum of the first ``i`` values (``out[0] = 0``)."""
    out: FloatArray = np.concatenate([[0.0], np.cumsum(values)])
    return out


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
