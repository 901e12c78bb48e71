"""A background that creeps up through its history and on: read the creep, and forecast where it
leads.

A leak nobody fixed, a table that grows, a dependency that degrades a little every week: the
background rises through the history without a step, and goes on rising through the window the
tiers are for. Bootstrapped as one stationary stretch, the history replays its average; read as
a step (``shift``, which reads one in most such histories), the level of its last weeks. Either
is below where the next window runs. Measured on the calibration suite (``bench.processes``'
``creep``: 'steady' doubling every 60 days, the future too), a fleet prior's tiers breached
4.0x, 43x and 12x their promises (method v12, 100 histories).

So the background's daily bad events are fitted with a level that grows at a constant rate,
``total_t exp(a + g t)`` (a Poisson regression, by Newton's method: McCullagh & Nelder,
*Generalized Linear Models*, 1989, §6.2; the rate per day ``g`` is a creep's natural unit,
and a doubling is ``ln 2 / g`` days), and ``g`` is tested against its standard error under the
null that the days are one stationary AR(1) background around that curve: the variance and
lag-one persistence of the days divided by it (``persistence.Persistence.read``), whose
autocovariance ``σ² φ^k`` (and the Poisson noise at lag zero) gives the slope's variance
``Σ_s Σ_t w_s w_t γ(|s - t|)``, ``w`` the least-squares weights of a slope. Read around the
curve, not around the mean: read around the mean, a creep is the null's drift and explains
itself (measured with a line, 100 histories: a creep read in 8% of ``creep``'s histories
around the mean, 80% around the line).

A creep read, every day is scaled to the level the curve reaches halfway through the window
ahead (``rebase``): about the window's mean level, had the creep gone on at its pace. A line
fitted to a doubling every 60 days ends 5% below it and extrapolates its mean slope, not its
last; a growth rate fits a constant growth, and a constant slope from above. Where ``shift``
reads a rise as well (``evidence.Evidence.trend``), a step that fits the days clearly better
than the curve is a step (``step_fits_better``); otherwise the data cannot tell the two
apart, and the forecast takes whichever leads higher. A creep reads as a step at the level of
its last weeks; a step a month old reads as a creep whose curve, fitted through it, runs on
above it (measured, fleet prior: taking the higher level wherever both were read put
``latency-regression``'s balanced budget at 1.69x the oracle's, 1.27x before; ``creep``'s
balanced breach 43x -> 4.0x). Only creeps up, as only rises: a tier that counts on an
improvement that does not last breaches.

The growth rate is an estimate: each pseudo-history scales its windows by a draw of its error
(``widen``), which the bootstrap of days already rebased cannot replay. Measured (fleet prior,
100 histories of ``creep``, method v15 -> v16): balanced breach 4.3x -> 3.2x the promise,
aggressive 1.51x -> 0.83x, balanced budget 1.16x -> 1.27x the oracle's. What is left is three
histories whose creep did not show (statistics 2.1 and 2.5) or read as a step that fits
better, forecast at a level the window soon leaves: each breaches in nearly every window.

Under a fleet prior the growth is read with the fleet's (``fleettrend``): shrunk toward it by
what each knows, then tested and forecast as above (``find``). Measured (the same 100
histories, v16 -> v17): ``creep`` balanced 3.2x -> 1.7x, aggressive 0.83x -> 0.52x, balanced
budget 1.27x -> 1.21x; the three left breaching read a step that fits clearly better than the
curve (``step_fits_better``), which a fleet that creeps alike does not overrule.

Where most of the fleet's services grow (``leans``), the shrunk growth is that fleet's
posterior for the service, and it is forecast wherever it is upward (``FLEET_THRESHOLD``): the
test at ``THRESHOLD`` stands in for a prior one history does not have, and on top of the
fleet's it forecast a flat background for every service of a fleet that creeps slowly. A
posterior the fleet knows little of is forecast with its error (``widen``), which widens the
tiers more than it moves them. A fleet whose growths scatter around none keeps the test.

Measured at ``THRESHOLD`` (100 histories each): a creep read in all of ``creep``'s histories and
forecast from in 99%; read in 97% of ``regression``'s (a step) and forecast from in 14%; false
creeps in 15% of ``wandering``'s, 7% of ``drifting``'s, 6% of ``persistent``'s, 3% of
``persistent-mild``'s, none of ``steady``'s, ``incidents``', ``brownout``'s,
``overdispersed``' or ``low-traffic``'s. A false creep moves a level up, which costs budget,
not promises.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from sloreco.core import fleettrend, history, persistence
from sloreco.core.fleettrend import FleetGrowth, Reading

FloatArray = history.FloatArray

#: The fewest days a creep is read from: four weeks, ``shift.MIN_EARLIER_DAYS``.
MIN_DAYS = 28
#: In standard errors: one one-sided statistic (0.13% beyond it under a normal null), where
#: ``shift`` takes the largest of some fifty and needs 4. Measured (fleet prior, probes of 40
#: or 60 histories): at 4, ``creep`` breached balanced 6.1x its promise and a creep was read in
#: 80% of its histories; at 3, 1.8x, while ``wandering``'s and ``drifting``'s balanced
#: budgets went from 1.85x to 1.94x and 2.47x to 2.55x the oracle's, their breaches unchanged
#: (4.6x and 0.44x), and ``persistent``'s row did not move.
THRESHOLD = 3.0
#: Under a fleet prior whose services mostly grow (``leans``): the shrunk growth
#: (``fleettrend.posterior``) is forecast wherever it is upward, at any number of its standard
#: errors. The test at ``THRESHOLD`` guards one history against reading its drift as a creep;
#: such a fleet already says how much its services creep, and the test on top of its posterior
#: forecast no creep at all for a service 2.9 standard errors up (a doubling every 158 days,
#: which its fleet read at 0.0040 a day against the true 0.0044, spread 0.0014: aggressive
#: breached 2.5x its promise). ``widen`` draws its error, so a growth the fleet hardly knows
#: widens the tiers more than it moves them. Measured (method v28 -> v29, fleet prior): the
#: shifted family (``bench.sweep --family shifted``, 60 processes) kept every promise for 50 ->
#: 53 processes, the suite's spells (``wandering``, ``drifting``, ``persistent``, 100 histories
#: x 20,000 windows) did not move. At 1 or 2 standard errors in every fleet: 53 as well, their
#: balanced budgets up to 0.06x higher; at 0 in every fleet: 55, with ``persistent``'s
#: balanced budget 1.13x -> 1.24x the oracle's and ``drifting``'s 1.30x -> 1.37x (1.37x and
#: 1.45x where the histories with a line under ``THRESHOLD`` were tested too).
FLEET_THRESHOLD = 0.0
#: A history is tested only where its line's statistic at no persistence reaches
#: ``THRESHOLD / PRUNE_MARGIN``: the curve's growth and a line's relative slope differ by a
#: few percent at the creeps read, and persistence only lowers the statistic. Measured on 100
#: histories each of ``creep``, ``regression``, ``wandering``, ``drifting``, ``persistent``,
#: ``persistent-mild``, ``brownout`` and ``steady``: the same creeps read as without the test
#: (228 of 800), at a cost of 0.1 ms a recommendation (0.8 ms without it).
PRUNE_MARGIN = 1.5
#: The steepest creep read: tenfold across the history. Steeper is a step (``shift``), and the
#: scaling of the first days (``rebase``) stays bounded.
MAX_FACTOR = 10.0


@dataclasses.dataclass(frozen=True, eq=False)
class Trend:
    """The background's curve: its level on each day, growing by ``growth`` a day, ``z``
    standard errors above what the drift around it explains."""

    #: The curve's bad share per day of the history.
    level: FloatArray
    #: Its growth rate: the log of the level per day.
    growth: float
    z: float
    #: Whether the growth is the service's reading shrunk toward its fleet's (``fleettrend``).
    pooled: bool = False

    @property
    def distinct(self) -> bool:
        """Whether it stands beyond the drift at ``THRESHOLD``, alone or with its fleet's; if
        not, only a fleet that ``leans`` forecasts it (``FLEET_THRESHOLD``)."""
        return self.z > THRESHOLD

    @property
    def doubling_days(self) -> float:
        """How many days the level takes to double."""
        return float(np.log(2.0) / self.growth)

    def ahead(self, days: float) -> float:
        """The curve's level ``days`` after the history's last day."""
        return float(self.level[-1] * np.exp(self.growth * days))


def find(pool: FloatArray, fleet: FleetGrowth | None = None) -> Trend | None:
    """The upward creep of ``pool`` (``(days, [bad, total])``) the forecast runs on, if there
    is one: the history's own growth past ``THRESHOLD``, or with a ``fleet`` its growth shrunk
    toward the fleet's (``fleettrend.posterior``), past ``FLEET_THRESHOLD`` where the fleet
    ``leans`` and past ``THRESHOLD`` where it does not."""
    # Most histories have no creep to test (a slope down, or one under ``THRESHOLD /
    # PRUNE_MARGIN``) and stop at a line's statistic, without the regression. A fleet whose
    # mean growth is not positive only lowers the statistic (the shrunk growth lies between
    # the two, with a smaller error no more than the own reading's precision allows), so its
    # histories stop there too; such a fleet does not lean, and its bar is ``THRESHOLD``.
    if (fleet is None or fleet.mean <= 0) and _pruned(pool):
        return None
    bar = FLEET_THRESHOLD if leans(fleet) else THRESHOLD
    fit = _fit(pool)
    if fit is None:
        return None
    reading = fit if fleet is None else fleettrend.posterior(fit, fleet)
    z = reading.growth / reading.error
    if reading.growth <= 0 or z <= bar:
        return None
    bad, total = pool[:, 0], pool[:, 1]
    return Trend(_curve(bad, total, reading.growth), reading.growth, z, pooled=fleet is not None)


def leans(fleet: FleetGrowth | None) -> bool:
    """Whether this ``fleet``'s services mostly grow: its mean growth beyond a new service's
    spread around it, so that five in six of them creep. Its posterior is then forecast past
    ``FLEET_THRESHOLD``; a fleet whose growths scatter around none lends a service no more
    than its own reading, whose drift the ``THRESHOLD`` test is for."""
    return fleet is not None and fleet.mean > fleet.spread


def creeps(fleet: FleetGrowth | None) -> bool:
    """Whether a new service of this ``fleet`` creeps: its growth's prior mean beyond
    ``THRESHOLD`` of its spread, the bar a service's own reading is forecast from, and fewer
    of its services' rises read as steps than as creeps.

    Such a fleet's creep is the process, and a history whose last weeks happen to fit a step
    better (``step_fits_better``, one-sided 5%) is one of that process's chances, not a
    regression: its forecast is whichever of the two leads higher. Measured (``make
    calibrate``, fleet prior, 100 histories of ``creep``): three histories' steps fit better,
    their balanced tiers (forecast without the creep) breached in 7%, 64% and 98% of windows,
    1.73x the promise over the profile (0.04x with this). A fleet of regressions reads a
    growth too, from the few of its services whose step did not fit better (99 histories of
    ``regression``: 17 growths and 82 steps; ``latency-regression``: 9 and 90; ``creep``: 98
    and 1); its steps are what they are, and forecast as
    curves they took ``latency-regression``'s balanced budget from 1.29x to 1.75x the
    oracle's.
    """
    return (
        fleet is not None and fleet.mean > THRESHOLD * fleet.spread and fleet.steps < fleet.services
    )


def read(pool: FloatArray, step_days: int | None = None) -> Reading | None:
    """A history's growth and its error, whatever their size: what its fleet pools
    (``fleettrend.pool``). None where too short, without a bad event, or without a drift to
    read around the curve. Marked ``stepped`` where a rise of its last ``step_days`` days fits
    clearly better as a step (``step_fits_better``): a regression is not a creep."""
    fit = _fit(pool)
    if fit is None or step_days is None:
        return fit
    curve = _curve(pool[:, 0], pool[:, 1], fit.growth)
    return (
        dataclasses.replace(fit, stepped=True) if step_fits_better(pool, curve, step_days) else fit
    )


def _pruned(pool: FloatArray) -> bool:
    """Whether a line's statistic at no persistence rules a creep out: persistence only adds
    to the error, and a line's relative slope and the curve's growth differ by a few percent
    at the creeps read (``PRUNE_MARGIN``)."""
    days = len(pool)
    bad, total = pool[:, 0], pool[:, 1]
    if days < MIN_DAYS or float(bad.sum()) <= 0:
        return True
    centred = _centred(days)
    spread = float(centred @ centred)
    share = bad / total / float(bad.sum() / total.sum())
    slope = float(centred @ share) / spread
    residual = share - float(share.mean()) - slope * centred
    return bool(
        slope <= 0
        or slope * PRUNE_MARGIN <= THRESHOLD * np.sqrt(residual @ residual / days / spread)
    )


def _fit(pool: FloatArray) -> Reading | None:
    """The Poisson regression's growth, and its standard error under an AR(1) background read
    around the curve (module docstring)."""
    days = len(pool)
    bad, total = pool[:, 0], pool[:, 1]
    if days < MIN_DAYS or float(bad.sum()) <= 0:
        return None
    centred = _centred(days)
    spread = float(centred @ centred)
    mean = float(bad.sum() / total.sum())
    growth = _growth(bad, total, centred, mean)
    level = _curve(bad, total, growth)
    around = pool.copy()
    around[:, 0] = bad / level * mean
    spells = persistence.Persistence.read(around)
    if spells is None:
        return None
    noise = float(np.mean(1.0 / (mean * total)))
    weights = centred / spread
    lagged = np.correlate(weights, weights, mode="full")[days - 1 :]  # Σ_s w_s w_{s+k}
    covariance = spells.variance * spells.phi ** np.arange(days)
    covariance[0] += noise
    variance = float(covariance[0] * lagged[0] + 2.0 * (covariance[1:] @ lagged[1:]))
    return Reading(growth, float(np.sqrt(variance)))


def _centred(days: int) -> FloatArray:
    centred: FloatArray = np.arange(days, dtype=np.float64) - (days - 1) / 2.0
    return centred


def _curve(bad: FloatArray, total: FloatArray, growth: float) -> FloatArray:
    """The curve's bad share per day at ``growth``, through as many events as the days hold."""
    mean = float(bad.sum() / total.sum())
    level: FloatArray = np.exp(growth * _centred(len(bad)))
    level *= mean * float(total.sum()) / float((total * level).sum())  # the events it fits
    return level


def widen(
    windows: FloatArray, trend: Trend | None, *, ahead_days: float, rng: np.random.Generator
) -> FloatArray:
    """Background window availabilities ``(outer, inner)`` with the growth rate's own error.

    ``rebase`` scales the days by the fitted curve, so every pseudo-history replays one growth
    rate, as if it were known, and the bootstrap, resampling days already rebased, never reads
    it again. Its error is the slope's standard error, ``growth / z``, and it moves the level
    the window runs at by ``exp(δ h)``, ``h`` the days from the history's middle to the point
    rebased to. So each pseudo-history draws ``δ`` and scales its windows' bad share by that,
    and the tiers' ``tolerance`` point reads a growth that may have been steeper than fitted.
    """
    if trend is None:
        return windows
    horizon = ahead_days + (len(trend.level) - 1) / 2.0
    error = trend.growth / trend.z * horizon * rng.standard_normal(windows.shape[0])
    shares = np.subtract(1.0, windows)
    shares *= np.exp(error)[:, None]
    np.minimum(shares, 1.0, out=shares)
    widened: FloatArray = np.subtract(1.0, shares, out=shares)
    return widened


#: Newton steps of the Poisson regression: from no growth, a handful reach its fixed point to
#: machine precision on any history the scan reads (it converges quadratically); a fixed count
#: keeps the bytes the same everywhere.
NEWTON_STEPS = 8


def _growth(bad: FloatArray, total: FloatArray, centred: FloatArray, mean: float) -> float:
    """The maximum-likelihood ``g`` of ``bad_t ~ Poisson(total_t exp(a + g t))``, at most a
    ``MAX_FACTOR``-fold change across the history."""
    bound = float(np.log(MAX_FACTOR)) / (len(bad) - 1)
    a, g = float(np.log(mean)), 0.0
    for _ in range(NEWTON_STEPS):
        mu = total * np.exp(a + g * centred)
        residual = bad - mu
        s0, s1, s2 = float(mu.sum()), float(centred @ mu), float((centred * centred) @ mu)
        u0, u1 = float(residual.sum()), float(centred @ residual)
        det = s0 * s2 - s1 * s1
        if det <= 0:
            break
        a += (s2 * u0 - s1 * u1) / det
        g = min(max(g + (s0 * u1 - s1 * u0) / det, -bound), bound)
    return g


#: Vuong's statistic beyond which a step fits the days better than the curve, not by chance:
#: one-sided 5%. Measured (60 histories each, where both are read): ``creep``'s statistics
#: -1.3 to 1.5 (doubling every 30 days: -2.5 to 0.9), never past it; a tripling 14, 30 and 45
#: days before the end past it in 86%, 77% and 62%.
DISTINCT_STEP_Z = 1.645


def step_fits_better(pool: FloatArray, curve: FloatArray, step_days: int) -> bool:
    """Whether two levels, the last ``step_days`` days' and the earlier ones', fit the days'
    shares better than the curve does, beyond chance: Vuong's test for non-nested models
    (Vuong 1989), each day's squared residual under the one against the other's, their mean
    over its standard error. A creep also reads as a step, and the two then fit about
    equally; a step read as a creep fits its days clearly better than the curve through it."""
    share = pool[:, 0] / pool[:, 1]
    split = len(share) - step_days
    earlier, later = share[:split], share[split:]
    step = np.concatenate([earlier - earlier.mean(), later - later.mean()])
    gain = (share - curve) ** 2 - step**2
    spread = float(gain.std())
    if spread <= 0:
        return False
    return bool(float(gain.sum()) / (np.sqrt(len(gain)) * spread) > DISTINCT_STEP_Z)


def rebase(pool: FloatArray, trend: Trend, ahead_days: float) -> FloatArray:
    """``pool`` with every day at the curve's level ``ahead_days`` after the history's end."""
    rebased = pool.copy()
    rebased[:, 0] *= trend.ahead(ahead_days) / trend.level
    return rebased
