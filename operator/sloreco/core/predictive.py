"""The posterior predictive window: background variability plus incidents not yet seen.

A block bootstrap can only replay the days a history holds; a service that had no outage in 90
days still has outages. So the bad events of an SLI (errors, or slow requests at one histogram
bound) are split in two, and each part is predicted the way it can be:

* **Background** — every hour outside an incident, and incident hours at the service's normal
  ratio. It varies from day to day (overdispersed), and the days hold it all: a circular block
  bootstrap of days (``bootstrap``), over *resampled histories* (the nested draws), so that a
  simulated window carries the uncertainty of having seen only this history — the bootstrap
  predictive distribution (Harris 1989; Fushiki 2005).
* **Incidents** — runs of hours whose bad ratio stood far above normal (``incidents``), merged
  across short dips. Each has a *size*: its excess bad events over a minute's traffic, that is
  full-outage-equivalent minutes, which is what it costs a window's availability
  (``size / window minutes``) whatever the traffic. Their *rate* is Poisson with a Gamma
  posterior given the exposure (zero incidents still leave a real rate); their *log size* a
  location and scale with independent (semi-conjugate) posteriors of its mean and variance
  (``prior``) around a *shape* — the normal's body with a Pareto tail by default, the fleet's
  own standardized sizes (body and generalized Pareto tail) under a fleet prior — capped at
  three days of full outage. Under the default prior each pseudo-history draws its own rate
  and size parameters (a tier must hold at the ``tolerance`` point of their uncertainty), and
  a history's own incidents are joined by a clean history's of the sizes at which its tail is
  the heavier, so that no history reads as safer than one without incidents (``cleantail``);
  under a fleet prior, a population, each window draws them: the posterior predictive of
  window availability (BDA §1.3), calibrated across the fleet it was learned from, which
  every pseudo-history shares, scaled by its own draw of the fleet's estimation error (whose
  rate part also moves how many windows hold an incident). Where a fleet's incidents come in
  two kinds (``sizekinds``: blips, and outages its histories rarely show), each kind is such a
  compound Poisson of its own, with its own posterior, and a window loses to both.

A window's availability is its background availability minus the share of the window that its
incidents cost. Tiers are quantiles of the pooled predictive windows; a tier's interval is the
spread of that quantile across pseudo-histories; its breach probability is the predictive share
of windows below it. All draws come from generators seeded from the caller's seed; the
incidents' are ``incidentloss``'s.

Assumptions, stated: bursts of incidents (``evidence.BURST_GAP_SECONDS``) arrive independently
of each other and of the background (Poisson), and two kinds independently of each other; sizes
are independent of the rate; the future
resembles the lookback apart from what the prior adds. Detection thresholds are ``incidents``';
an incident too small to be flagged stays in the background (``evidence``), where the bootstrap
still carries it.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from sloreco.core import bootstrap, cleantail, evidence, history, orderstats, prior, sizeshape

FloatArray = history.FloatArray


@dataclasses.dataclass(frozen=True)
class Posterior:
    """Gamma posterior of the rate; posterior of the log size's mean and variance.

    The size's mean and variance have independent priors (semi-conjugate; BDA §3.4), not the
    Normal-Inverse-Gamma's coupled one: with the coupled prior, one incident far from the
    prior's median inflates the variance by the conflict itself (``k0 n (x̄ - m0)² / 2(k0+n)``),
    and a service whose one outage cost 14 hours got a 0% conservative tier (measured). Here the
    variance learns only from the spread of the incidents seen, and the mean is a precision-
    weighted compromise, its variance computed at the variance's posterior mean (one step of
    the Gibbs sampler, which is exact for the mean given that variance).

    The spread is taken around the incidents' own mean, so it carries ``n - 1`` degrees of
    freedom, not ``n`` (the residual, or restricted, likelihood: ``Σ(x - x̄)²`` is
    ``σ² χ²(n-1)``). Counting ``n`` read three or four incidents as a third to a quarter more
    certain of a small spread than they are, which is most services' case (measured, default
    prior, 60 histories: balanced breach pareto 2.1x -> 1.6x, clustered 2.5x -> 2.1x).
    """

    rate_shape: float
    rate_days: float
    #: The prior's shape of the log size around its mean (``sizeshape.draw_shape``).
    size_quantiles: tuple[float, ...]
    size_tail: tuple[float, float]
    #: Whether the prior describes a population of services (``prior.Prior.population``).
    population: bool
    #: Posterior mean of the log-size mean, and its variance.
    log_mean: float
    log_mean_variance: float
    #: Inverse-gamma posterior of the log-size variance.
    shape: float
    scale: float
    #: Under a fleet prior, the standard deviation of the log of the factor by which the
    #: fleet's own estimation error scales this service's incident losses (``estimation_error``).
    fleet_error: float = 0.0
    #: Its rate's part alone, where the fleet's rate is an estimate of incidents it saw (at
    #: least ``prior.MIN_POOLED_INCIDENTS``): the error that moves how often windows hold an
    #: incident (``incidentloss._more_often``). Below, the rate is the fleet's assumption of
    #: half an incident over its exposure, whose uncertainty the Gamma's own shape (0.5)
    #: already draws per window; counted again, a fleet of 40 services that saw no incident
    #: in 3,600 days put one into every service's balanced tier (random processes without
    #: incidents, fleet prior: balanced budgets 1.2-1.7x the oracle's -> 4-62x).
    fleet_rate_error: float = 0.0
    #: Under the default prior, when the history holds incidents: the posterior a clean history
    #: of the same length would have, and the log size from which its tail is the heavier
    #: (``cleantail``; ``inf``: nowhere). Its incidents above that size join the own.
    clean: Posterior | None = None
    clean_from: float = math.inf
    #: The largest incident the prior's fleet saw (``prior.Prior.largest_minutes``).
    largest_minutes: float = 0.0
    #: Where the prior knows a larger kind of incident (``sizekinds``): its posterior, from the
    #: service's incidents at or above ``prior.Prior.kind_from``; this one is of those below.
    larger: Posterior | None = None
    kind_from: float = math.inf
    #: The busy hours' traffic over the mean at which the prior's assumed sizes were costed
    #: (``Posterior.of``; 1: at the mean, or sizes from a population).
    busy: float = 1.0

    @classmethod
    def of(cls, belief: prior.Prior, seen: evidence.Evidence) -> Posterior:
        """The posterior of ``seen``'s incidents. A prior that assumes its sizes (the default,
        not a population of incidents measured as they happened) has them costed at the
        service's busy hours (``busy``), where outages land."""
        if not belief.population and seen.busy > 1.0:
            shifted = belief.size_log_mean + math.log(seen.busy)
            belief = dataclasses.replace(belief, size_log_mean=shifted)
            return dataclasses.replace(
                cls.given(belief, seen.log_sizes, seen.exposure_days), busy=seen.busy
            )
        return cls.given(belief, seen.log_sizes, seen.exposure_days)

    @classmethod
    def given(cls, belief: prior.Prior, x: FloatArray, exposure_days: float) -> Posterior:
        """The posterior after incidents of log sizes ``x`` in ``exposure_days``: of each kind
        on its side of the prior's split where it knows two (``sizekinds``)."""
        if belief.larger is None:
            return cls._given(belief, x, exposure_days)
        big = x >= belief.kind_from
        own = cls._given(belief, x[~big], exposure_days)
        return dataclasses.replace(
            own,
            larger=cls._given(belief.larger, x[big], exposure_days),
            kind_from=belief.kind_from,
        )

    @classmethod
    def _given(cls, belief: prior.Prior, x: FloatArray, exposure_days: float) -> Posterior:
        n = len(x)
        mean = float(x.mean()) if n else 0.0
        shape = belief.size_shape + max(n - 1, 0) / 2
        scale = belief.size_scale + (float(((x - mean) ** 2).sum()) / 2 if n else 0.0)
        prior_variance = belief.size_variance
        variance = prior.variance_mean(scale, shape)
        precision = belief.size_strength / prior_variance + n / variance
        clean = None if belief.population or n == 0 else cls._given(belief, x[:0], exposure_days)
        own = cls(
            rate_shape=belief.rate_shape + n,
            rate_days=belief.rate_days + exposure_days,
            size_quantiles=belief.size_quantiles,
            size_tail=belief.size_tail,
            population=belief.population,
            largest_minutes=belief.largest_minutes,
            log_mean=(
                belief.size_strength * belief.size_log_mean / prior_variance + n * mean / variance
            )
            / precision,
            log_mean_variance=1.0 / precision,
            shape=shape,
            scale=scale,
            fleet_error=estimation_error(
                belief,
                location_weight=belief.size_strength / prior_variance / precision,
                exposure_days=exposure_days,
            ),
            fleet_rate_error=estimation_error(
                belief, location_weight=0.0, exposure_days=exposure_days
            )
            if belief.rate_learned
            else 0.0,
            clean=clean,
        )
        if clean is None:
            return own
        above = cleantail.threshold(own.mean_tail(), clean.mean_tail())
        return dataclasses.replace(own, clean_from=float(above[0]))

    @property
    def rate_per_day(self) -> float:
        return self.rate_shape / self.rate_days

    @property
    def expected_per_day(self) -> float:
        """Incidents a day at the posterior means, of both kinds where there are two."""
        return self.rate_per_day + (0.0 if self.larger is None else self.larger.rate_per_day)

    @property
    def spread(self) -> float:
        """The log size's standard deviation at the posterior mean of its variance."""
        return math.sqrt(prior.variance_mean(self.scale, self.shape))

    def median_minutes(self) -> float:
        """The median incident size (full-outage minutes) at the posterior means of the
        location and the variance: the shape's median, placed by them."""
        at = sizeshape.probabilities(self.size_quantiles)
        middle = float(np.interp(0.5, at, self.size_quantiles))
        return math.exp(self.log_mean + self.spread * middle)

    def mean_tail(self) -> cleantail.Tail:
        """The incident tail at the posterior means of the rate, the location and the variance."""
        return cleantail.Tail(
            np.array([self.rate_per_day]),
            np.array([self.log_mean]),
            np.array([self.spread]),
            (self.size_quantiles, self.size_tail),
        )


def estimation_error(belief: prior.Prior, *, location_weight: float, exposure_days: float) -> float:
    """How far the fleet's estimation error moves a service's incident losses, as the standard
    deviation of the log of a factor on them (zero under the default prior).

    ``prior.Prior.estimate_variances`` gives the error of the fleet's mean log size and of the
    log of its rate; a service's posterior leans on them with its shrinkage weights (delta
    method): its mean log size by ``location_weight``, the prior's share of its precision; its
    rate by the prior's share of its exposure, ``rate_days / (rate_days + exposure)``. A shift
    of the mean log size scales every incident, hence every window's loss, by its exponential.
    A rate error scales the losses of windows with many incidents by itself, and moves the
    tail of windows with one incident at most by less (a tail quantile's elasticity to the rate
    is below one): counting it as a factor is the cautious side there. Where a tier hinges on
    whether a window holds an incident at all, a factor cannot add one, and the rate's part
    (``location_weight`` 0) moves how often windows hold one (``Posterior.fleet_rate_error``,
    ``incidentloss._more_often``). The error of the size's spread
    and of its tail shape is not counted. Measured on the calibration suite (fleet prior, 100
    histories): without this error the shared predictive (``_pooled_losses``) breached its
    balanced tier 2.35x the promise on 14-day histories, whose fleet pools some 80 incidents
    that ran smaller and rarer than their process; 1.21x with it.
    """
    mean, rate = belief.estimate_variances()
    rate_weight = belief.rate_days / (belief.rate_days + exposure_days)
    return math.sqrt(location_weight**2 * mean + rate_weight**2 * rate)


@dataclasses.dataclass(frozen=True, eq=False)
class Predictive:
    """Predictive window values (higher is better), per pseudo-history (``Replicates``)."""

    reps: orderstats.Replicates

    @classmethod
    def of(cls, background: FloatArray, lost: FloatArray, *, lowest: float) -> Predictive:
        """``lowest``: the loosest tier's ``1 - confidence`` (the tail ordered up front)."""
        nested: FloatArray = np.maximum(background - lost, 0.0)
        return cls(orderstats.Replicates.of(nested, lowest=lowest))

    def values(self, confidences: tuple[float, ...], tolerance: float) -> tuple[float, ...]:
        """Per confidence, the value met by that share of a pseudo-history's windows, at the
        ``tolerance`` lower point across pseudo-histories (``Replicates.lower_bound``).

        Not the pooled quantile: a team judges a tier on its own service, whose true rate and
        sizes are fixed, so a tier must hold had the history been luckier than the truth; the
        pooled (Bayesian-average) quantile is breached several times its promise by the services
        whose history showed fewer or smaller incidents than their process has (measured).
        """
        return tuple(self.reps.lower_bound(c, tolerance) for c in confidences)

    def breach(self, value: float) -> float:
        """Predictive probability that a window falls below ``value`` (all windows pooled)."""
        nested = self.reps.nested
        return float(np.count_nonzero(nested < value)) / nested.size


def rng_for(seed: int, *parts: str) -> np.random.Generator:
    """A generator of its own stream (the incident draws; ``parts`` name others, such as the
    backtest's background widening), derived from the caller's seed."""
    return bootstrap.generator(bootstrap.seed_from(str(seed), "incidents", *parts))
