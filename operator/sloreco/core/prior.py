"""What is believed about incidents before a service's own history is read: a ``Prior``.

A 90-day history that holds no outage does not show a service without outages; it shows one
whose outages are rarer than a quarter. What comes next has to come from somewhere, and this
module is that somewhere, as data: a frozen, JSON-serialisable value with two parts.

* **Rate** — incidents per day, ``Gamma(rate_shape, rate_days)`` (shape, and a rate in days:
  ``rate_shape`` pseudo-incidents seen over ``rate_days`` pseudo-days). Conjugate to the
  Poisson count a history shows (Gelman et al., *Bayesian Data Analysis*, 3rd ed., §2.6).
* **Size** — an incident's cost in *full-outage-equivalent minutes* (its excess bad events over
  the traffic of a minute): log size ``= mu + sigma * e``; ``sigma²`` has an inverse-gamma
  prior ``(size_shape, size_scale)``, ``mu`` a normal prior at ``size_log_mean`` worth
  ``size_strength`` incidents (semi-conjugate, BDA §3.4; ``predictive.Posterior``). With a
  handful of incidents a location and a scale with their uncertainty are what one service
  can estimate; the *shape* of ``e`` comes from the prior: the default's is the normal's body
  (a lognormal: incident durations are close to lognormal across Google's incidents,
  Davidovič, *Incident Metrics in SRE*, O'Reilly 2021) with a Pareto tail above its 80%
  point; a fleet's is its own pooled incidents' (each around its service's mean where the
  services' means differ, ``fleetpool._around``) — their quantiles, and a generalised Pareto
  tail over the 80% point (peaks over threshold: Coles, *An Introduction to Statistical
  Modeling of Extreme Values*, 2001, ch. 4), which needs the tens of exceedances a fleet has
  and a service does not.

Minutes, not bad events, so that a prior carries across services of any traffic: a fleet of
services shares what an outage costs in time, not in requests.

``DEFAULT`` is the prior of the CLI and of a fresh operator; ``fleetpool.pool`` learns a fleet
prior from per-service incident statistics (empirical Bayes, partial pooling: a service is
shrunk toward its fleet in proportion to how little its own history says). The shape of the
standardized log size is ``sizeshape``'s.

A prior has a **scope**: the incidents it describes (``scope_of``). An availability incident
costs full-outage minutes whatever the service; a latency incident's cost is its requests slower
than the bound the service is judged at, and the same slowdown costs many such minutes at 0.5 s
and none at 5 s. So a fleet learns one prior per SLI kind and latency bound (``availability``,
``latency-0.5s``), and a recommendation takes the prior of its own scope, or one that applies to
any (``ANY``: the default, or a prior a user writes by hand).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
import re
from collections.abc import Sequence

from sloreco import errors
from sloreco.core.fleetspells import FleetSpells
from sloreco.core.fleettrend import FleetGrowth, Reading
from sloreco.core.persistence import Persistence
from sloreco.core.sizeshape import (
    DEFAULT_QUANTILES,
    DEFAULT_TAIL,
    LADDER,
    MAX_TAIL_SHAPE,
    SHAPE_PROBABILITIES,
)

#: The scope of a prior that applies to every SLI: the default's, an assumption about incidents
#: in general rather than an estimate from some of them.
ANY = "any"


_SCOPE = re.compile(rf"{ANY}|availability|latency-[0-9.e+-]+s")


@functools.lru_cache(maxsize=256)  # one string per scope, shared by every SLI's statistics
def scope_of(sli: str, bound: float | None = None) -> str:
    """The incidents a prior describes: an SLI kind's, and for latency those over one bound
    (``latency-0.5s``). Also a ConfigMap key's part (``controller.fleet``): ``[-._a-zA-Z0-9]``."""
    return sli if bound is None else f"{sli}-{bound:g}s"


@dataclasses.dataclass(frozen=True)
class Prior:
    """Gamma prior on the incident rate; normal and inverse-gamma priors on log incident size."""

    #: Rate: ``rate_shape`` pseudo-incidents over ``rate_days`` pseudo-days of exposure.
    rate_shape: float
    rate_days: float
    #: Log of the size in full-outage-equivalent minutes: prior mean, and the pseudo-incidents
    #: behind it; the variance's inverse-gamma shape and scale.
    size_log_mean: float
    size_strength: float
    size_shape: float
    size_scale: float
    #: Where it came from ("default", or "fleet:<source>"), and how many services it pools.
    origin: str = "default"
    #: The incidents it describes (``scope_of``; ``ANY``: every SLI's).
    scope: str = ANY
    services: int = 0
    incidents: int = 0
    #: The shape of the log size around its mean, in standard deviations: quantiles at
    #: ``SHAPE_PROBABILITIES`` and, for a large fleet, further up ``sizeshape.LADDER`` (the
    #: table's length says how far), and the scale and shape of its generalized Pareto tail
    #: above the last (``sizeshape.draw_shape``).
    size_quantiles: tuple[float, ...] = DEFAULT_QUANTILES
    size_tail: tuple[float, float] = DEFAULT_TAIL
    #: The largest incident the fleet saw, in full-outage minutes (0: none recorded): one
    #: incident is capped at three days or at this, whichever is longer (``incidentloss``).
    largest_minutes: float = 0.0
    #: How the fleet's backgrounds drift (``fleetspells``); None: each service's own reading.
    background: FleetSpells | None = None
    #: How the fleet's backgrounds creep (``fleettrend``); None: each service's own reading.
    growth: FleetGrowth | None = None
    #: A larger kind of incident (``sizekinds``): its own prior, and the log size where it
    #: begins. Incidents at or above ``kind_from`` are its, those below this prior's. None: one
    #: kind.
    larger: Prior | None = None
    kind_from: float = math.inf

    def __post_init__(self) -> None:
        if self.larger is not None and (
            not math.isfinite(self.kind_from) or self.larger.larger is not None
        ):
            raise errors.InputError(
                "a larger kind needs a finite start and no kind of its own",
                field="prior.larger",
            )
        q = self.size_quantiles
        if not len(SHAPE_PROBABILITIES) <= len(q) <= len(LADDER) or not all(map(math.isfinite, q)):
            raise errors.InputError(
                f"needs {len(SHAPE_PROBABILITIES)} to {len(LADDER)} finite numbers",
                field="prior.size.quantiles",
            )
        if any(b < a for a, b in itertools.pairwise(q)):
            raise errors.InputError("must not decrease", field="prior.size.quantiles")
        scale, xi = self.size_tail
        if not (math.isfinite(scale) and scale > 0):
            raise errors.InputError("must be a positive number", field="prior.size.tail.scale")
        if not (math.isfinite(xi) and abs(xi) <= MAX_TAIL_SHAPE):
            raise errors.InputError(
                f"must be within ±{MAX_TAIL_SHAPE}", field="prior.size.tail.shape"
            )
        for name in (
            "rate_shape",
            "rate_days",
            "size_strength",
            "size_shape",
            "size_scale",
        ):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise errors.InputError(
                    f"must be a positive number, got {value}", field=f"prior.{_camel(name)}"
                )
        if not (math.isfinite(self.largest_minutes) and self.largest_minutes >= 0):
            raise errors.InputError("must be a number >= 0", field="prior.size.largest")
        if not math.isfinite(self.size_log_mean):
            raise errors.InputError("must be a finite number", field="prior.sizeLogMean")
        if not _SCOPE.fullmatch(self.scope):
            raise errors.InputError(
                f"must be {ANY!r}, 'availability' or like 'latency-0.5s', got {self.scope!r}",
                field="prior.scope",
            )

    @property
    def rate_per_day(self) -> float:
        return self.rate_shape / self.rate_days

    @property
    def size_variance(self) -> float:
        """The log size's variance: its inverse-gamma's mean (``variance_mean``), as
        ``predictive.Posterior`` reads its own."""
        return variance_mean(self.size_scale, self.size_shape)

    @property
    def population(self) -> bool:
        """Learned from services (a fleet prior): the distribution its services are drawn from.

        Then the posterior predictive, parameters drawn per window, is calibrated across the
        fleet (empirical Bayes; BDA §5), and tiers take no further caution over the incident
        parameters. The default is an assumption, not a population: under it a tier must hold
        at the ``tolerance`` point of the parameters' uncertainty (``incidentloss.losses``).
        """
        return self.services > 0

    @property
    def rate_learned(self) -> bool:
        """A fleet prior whose rate is an estimate from incidents its services saw (at least
        ``MIN_POOLED_INCIDENTS``), not the fleet's assumption of half an incident over its
        exposure (``fleetpool._rate``)."""
        return self.population and self.incidents >= MIN_POOLED_INCIDENTS

    @property
    def label(self) -> str:
        """How the explanation names it: its origin, and its scope unless it applies to any
        ("fleet:default, latency-0.5s")."""
        return self.origin if self.scope == ANY else f"{self.origin}, {self.scope}"

    @property
    def median_minutes(self) -> float:
        return math.exp(self.size_log_mean)

    def estimate_variances(self) -> tuple[float, float]:
        """Sampling variances of a fleet prior's own estimates: of its mean log size, and of
        the log of its rate (zero for the default, which is an assumption, not an estimate).

        A fleet prior is one draw of the fleet: its services' incidents could have run larger
        or rarer than their process. The pooled mean log size of ``incidents`` sizes from
        ``services`` services varies by ``within / incidents + between / services`` (the
        one-way random-effects model of ``pool``, ``between = within / size_strength``); the
        pooled rate, a Poisson count over the fleet's exposure with Gamma-distributed
        service rates, by ``1 / incidents + 1 / (rate_shape * services)`` relative to itself
        (the Gamma-Poisson moments of ``_rate``). Below ``MIN_POOLED_INCIDENTS`` the size is
        the fallback's assumption, not an estimate, and only the rate's variance counts.
        ``predictive.estimation_error`` carries both into a service's predictive.
        """
        if not self.population:
            return 0.0, 0.0
        rate = 1.0 / max(self.incidents, self.rate_shape) + 1.0 / (self.rate_shape * self.services)
        if self.incidents < MIN_POOLED_INCIDENTS:
            return 0.0, rate
        within = self.size_variance
        mean = within / self.incidents + within / self.size_strength / self.services
        return mean, rate


# --- The default ------------------------------------------------------------------------------

#: The rate: Jeffreys' prior for a Poisson rate, ``Gamma(1/2, 0)``, made proper by one
#: pseudo-day. No typical rate is assumed, because none holds: production services show
#: incidents from weekly to yearly, and a prior at "one a quarter" with any weight said that a
#: service with no incident in its first 14 days was very unlikely to have one a fortnight
#: (measured: 14- and 30-day histories of an incident every 2 weeks breached balanced 4-5x,
#: aggressive 2-3x). Jeffreys' intervals for a Poisson mean have close to nominal frequentist
#: coverage (Brown, Cai & DasGupta 2003), which is what a tier promises: after ``T`` clean
#: days the rate is still ``1/(2T)`` on average, and a quiet history is read as exactly as
#: reassuring as its length.
DEFAULT_RATE_SHAPE = 0.5
DEFAULT_RATE_DAYS = 1.0
#: Assumed median incident cost: 40 full-outage minutes (e.g. a third of requests failing for
#: two hours), with a log standard deviation of 1.2 (a 90% range of about 6 minutes to 5
#: hours): durations in Davidovič (2021) span two orders of magnitude around tens of minutes,
#: and most incidents are partial. 1.2 rather than 1.5: at 1.5 the lognormal's tail put
#: conservative tiers of ordinary services near 80% (measured), beyond anything they see. 40
#: rather than the 15 minutes first assumed: a service whose clean quarter hides a four-hour
#: full outage every 90 to 180 days (the calibration suite's ``rare-outage`` and
#: ``quarterly-outage``) is the case the default exists for; at 15 minutes its balanced tier
#: breached 3.5x and 4.6x the promise (80 histories each), and 11 of 40 processes drawn at
#: random (``bench.sweep``) missed a promise; at 25 minutes 1.3x and 1.8x; at 40 minutes 0.3x
#: and 0.45x, and 3 of 40. The price is paid by services that truly have no incidents: a
#: steady service's balanced budget went from 7.5x to 18.6x the oracle's. One history cannot
#: tell them apart; a fleet prior can.
DEFAULT_MEDIAN_MINUTES = 40.0
DEFAULT_LOG_SD = 1.2
#: One pseudo-incident behind the median, and an inverse-gamma shape of 3 for the variance (the
#: weight of four incidents' spread): a service's own incidents move the size after one or two.
DEFAULT_SIZE_STRENGTH = 1.0
DEFAULT_SIZE_SHAPE = 3.0

DEFAULT = Prior(
    rate_shape=DEFAULT_RATE_SHAPE,
    rate_days=DEFAULT_RATE_DAYS,
    size_log_mean=math.log(DEFAULT_MEDIAN_MINUTES),
    size_strength=DEFAULT_SIZE_STRENGTH,
    size_shape=DEFAULT_SIZE_SHAPE,
    size_scale=(DEFAULT_SIZE_SHAPE - 1) * DEFAULT_LOG_SD**2,
)


# --- The fleet prior --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class ServiceStats:
    """One service's incident evidence: what ``fleetpool.pool`` needs, and nothing that names it."""

    incidents: int
    exposure_days: float
    #: Sum and sum of squares of the incidents' log sizes (log full-outage minutes).
    log_sum: float = 0.0
    log_square_sum: float = 0.0
    #: The log sizes themselves, for the fleet's size shape (empty: only the sums are known).
    log_sizes: tuple[float, ...] = ()
    #: How its background drifts from day to day (``persistence.Persistence.read``), for the
    #: fleet's (``fleetspells``); None when too short or without a bad event to read.
    background: Persistence | None = None
    #: Its background's growth rate and error (``trend.read``), for the fleet's
    #: (``fleettrend``); None when unreadable, marked ``stepped`` when its rise reads as a step.
    growth: Reading | None = None


#: Fewer pooled incidents than this leave the size prior at the default's.
MIN_POOLED_INCIDENTS = 3


def for_scope(priors: Sequence[Prior], scope: str) -> Prior:
    """The prior of one scope's incidents (``scope_of``) among ``priors``: the one given for that
    scope, else one given for any, else the default. Never another scope's: a latency
    incident's size depends on the bound it is counted over (a fleet's latency-incident
    histories judged at 0.5-1 s and given a prior learned at 2.5 s breached balanced 10-13%,
    calibration, fleet prior), and availability's minutes are not slow minutes. The analysis
    picks its prior by it (``slis.base.Request.prior_for``), and the operator tells by it whether
    a recommendation was computed under the prior it would get now (``controller.plan``)."""
    for wanted in (scope, ANY):
        for belief in priors:
            if belief.scope == wanted:
                return belief
    return DEFAULT


def variance_mean(scale: float, shape: float) -> float:
    """The inverse-gamma's mean, ``scale / (shape - 1)``, its shape floored at 1.5 where the
    mean would not exist: one reading of a size variance for priors and posteriors alike."""
    return scale / max(shape - 1.0, 0.5)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
