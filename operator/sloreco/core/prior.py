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
  point; a fleet's is its own pooled incidents' — their quantiles, and a generalised Pareto
  tail over the 80% point (peaks over threshold: Coles, *An Introduction to Statistical
  Modeling of Extreme Values*, 2001, ch. 4), which needs the tens of exceedances a fleet has
  and a service does not.

Minutes, not bad events, so that a prior carries across services of any traffic: a fleet of
services shares what an outage costs in time, not in requests.

``DEFAULT`` is the prior of the CLI and of a fresh operator; ``pool`` learns a fleet prior from
per-service incident statistics (empirical Bayes, partial pooling: a service is shrunk toward
its fleet in proportion to how little its own history says).

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
import json
import math
import re
import statistics
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from sloreco import errors

#: Version of the JSON document (``kind: SlorecoPrior``); bump when fields change meaning.
DOCUMENT_VERSION = "sloreco.dev/v1alpha1"

#: The scope of a prior that applies to every SLI: the default's, an assumption about incidents
#: in general rather than an estimate from some of them.
ANY = "any"


_SCOPE = re.compile(rf"{ANY}|availability|latency-[0-9.e+-]+s")


@functools.lru_cache(maxsize=256)  # one string per scope, shared by every SLI's statistics
def scope_of(sli: str, bound: float | None = None) -> str:
    """The incidents a prior describes: an SLI kind's, and for latency those over one bound
    (``latency-0.5s``). Also a ConfigMap key's part (``controller.fleet``): ``[-._a-zA-Z0-9]``."""
    return sli if bound is None else f"{sli}-{bound:g}s"


# --- The shape of an incident's size ----------------------------------------------------------

#: The standardized log size's quantile function is tabulated at these probabilities (5% to
#: 80%); above ``TAIL_FROM`` its excess is generalized Pareto — peaks over a threshold (Coles
#: 2001, ch. 4), on the log scale: a shape of zero is an exponential excess, a Pareto tail of
#: the size itself; a negative shape a bounded tail (severities cannot pass 100%); a positive
#: one a tail heavier still. 80% leaves a fifth of the incidents in the tail: with the 40 pooled
#: incidents a fleet needs (``MIN_SHAPE_INCIDENTS``), eight exceedances.
SHAPE_PROBABILITIES: tuple[float, ...] = tuple(k / 20 for k in range(1, 17))
TAIL_FROM = SHAPE_PROBABILITIES[-1]
_NORMAL = statistics.NormalDist()
#: The default shape: the normal's body (the lognormal of ``DEFAULT_LOG_SD``), and above its 80%
#: point a Pareto tail as heavy as the normal is there (its mean excess beyond the 80% point,
#: ``φ(z)/0.2 - z`` = 0.558 standard deviations) that never thins out as the normal's does. A
#: stated assumption, on the honest side: incident durations are heavy-tailed (the calibration
#: suite's Pareto profile; Davidovič 2021 on Google's incidents), and a lognormal fitted to a
#: handful of them has a tail that thins too fast.
DEFAULT_QUANTILES: tuple[float, ...] = tuple(_NORMAL.inv_cdf(p) for p in SHAPE_PROBABILITIES)
DEFAULT_TAIL = (
    _NORMAL.pdf(DEFAULT_QUANTILES[-1]) / (1 - TAIL_FROM) - DEFAULT_QUANTILES[-1],
    0.0,
)
#: The tail shape a fleet's estimate is kept within: beyond ±0.5 the probability-weighted
#: moments estimator is undefined (Hosking & Wallis 1987) and eight to twenty exceedances do
#: not tell such tails apart.
MAX_TAIL_SHAPE = 0.5
#: The thinnest tail a fleet may show: the normal's own, the generalized Pareto that the
#: probability-weighted moments fit to a normal's excesses over its 80% point (-0.23, computed
#: on two million draws). A thinner one claims a largest incident, which tens of exceedances
#: cannot support: for a fleet of 85 normal log sizes the estimate has a standard error near
#: 0.3 and falls below -0.5 in 23% of fleets (simulated), and a tail cut too short breaks the
#: tiers' promises (calibration, fleet prior: 14-day histories breached balanced 2.0x and
#: latency incidents 1.7x with fitted shapes at -0.5) while the cost of a tail a little too
#: heavy is budget. Bounded severities still show, in the quantiles of the body.
MIN_TAIL_SHAPE = -0.23


#: ``draw_shape`` draws a cell of the quantile function's table, one of this many equally
#: likely cells (one integer and one gather per draw instead of a uniform, a search and a
#: logarithm: the size draws are most of a recommendation's incident cost), and draws the top
#: 1% of cells exactly, so the far tail the conservative tier reads is never flattened.
_CELLS = 8192
_EXACT_CELLS = _CELLS // 100


def draw_shape(
    quantiles: tuple[float, ...],
    tail: tuple[float, float],
    rng: np.random.Generator,
    count: int,
) -> npt.NDArray[np.float64]:
    """``count`` standardized log sizes: the tabulated body, then the generalized Pareto tail
    ``(scale, shape)`` of the excess over the last quantile."""
    cells = rng.integers(0, _CELLS, count)
    drawn: npt.NDArray[np.float64] = _table(quantiles, tail)[cells]
    far = np.flatnonzero(cells >= _CELLS - _EXACT_CELLS)
    uniforms = (cells[far] + rng.random(len(far))) / _CELLS
    drawn[far] = _quantile_function(quantiles, tail, uniforms)
    return drawn


@functools.lru_cache(maxsize=16)
def _table(quantiles: tuple[float, ...], tail: tuple[float, float]) -> npt.NDArray[np.float64]:
    """The quantile function at the middle of each cell (the exactly drawn cells' included)."""
    table = _quantile_function(quantiles, tail, (np.arange(_CELLS) + 0.5) / _CELLS)
    table.flags.writeable = False
    return table


def _quantile_function(
    quantiles: tuple[float, ...], tail: tuple[float, float], uniforms: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    body = np.interp(uniforms, SHAPE_PROBABILITIES, quantiles)
    log_beyond = np.log(np.maximum(1.0 - uniforms, 1e-300) / (1.0 - TAIL_FROM))
    scale, xi = tail
    exponential = abs(xi) < 1e-9  # the shape's limit at zero
    excess = -scale * log_beyond if exponential else scale / xi * np.expm1(-xi * log_beyond)
    exact: npt.NDArray[np.float64] = np.where(uniforms > TAIL_FROM, quantiles[-1] + excess, body)
    return exact


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
    #: ``SHAPE_PROBABILITIES``, and the scale and shape of its generalized Pareto tail
    #: (``draw_shape``).
    size_quantiles: tuple[float, ...] = DEFAULT_QUANTILES
    size_tail: tuple[float, float] = DEFAULT_TAIL

    def __post_init__(self) -> None:
        q = self.size_quantiles
        if len(q) != len(SHAPE_PROBABILITIES) or not all(map(math.isfinite, q)):
            raise errors.InputError(
                f"needs {len(SHAPE_PROBABILITIES)} finite numbers", field="prior.size.quantiles"
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
    def population(self) -> bool:
        """Learned from services (a fleet prior): the distribution its services are drawn from.

        Then the posterior predictive, parameters drawn per window, is calibrated across the
        fleet (empirical Bayes; BDA §5), and tiers take no further caution over the incident
        parameters. The default is an assumption, not a population: under it a tier must hold
        at the ``tolerance`` point of the parameters' uncertainty (``predictive.losses``).
        """
        return self.services > 0

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
        within = self.size_scale / max(self.size_shape - 1.0, 0.5)
        mean = within / self.incidents + within / self.size_strength / self.services
        return mean, rate

    def to_document(self) -> dict[str, Any]:
        """The JSON document ``sloreco recommend --prior FILE`` reads (keys in a fixed order)."""
        return {
            "apiVersion": DOCUMENT_VERSION,
            "kind": "SlorecoPrior",
            "origin": self.origin,
            "scope": self.scope,
            "services": self.services,
            "incidents": self.incidents,
            "rate": {"shape": _num(self.rate_shape), "days": _num(self.rate_days)},
            "size": {
                "unit": "full-outage minutes (log)",
                "logMean": _num(self.size_log_mean),
                "strength": _num(self.size_strength),
                "shape": _num(self.size_shape),
                "scale": _num(self.size_scale),
                "quantiles": [_num(v) for v in self.size_quantiles],
                "tail": {"scale": _num(self.size_tail[0]), "shape": _num(self.size_tail[1])},
            },
        }

    def to_json(self) -> str:
        return json.dumps(self.to_document(), indent=2) + "\n"


def from_document(document: object) -> Prior:
    """A ``Prior`` from its JSON document; a clear error naming the field otherwise."""
    if not isinstance(document, dict) or document.get("kind") != "SlorecoPrior":
        raise errors.InputError("not a SlorecoPrior document", field="prior.kind")
    rate, size = document.get("rate"), document.get("size")
    if not isinstance(rate, dict):
        raise errors.InputError("missing or not an object", field="prior.rate")
    if not isinstance(size, dict):
        raise errors.InputError("missing or not an object", field="prior.size")

    def number(part: dict[str, Any], key: str, field: str) -> float:
        value = part.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise errors.InputError("missing or not a number", field=f"prior.{field}")
        return float(value)

    def count(key: str) -> int:
        value = document.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise errors.InputError("must be a non-negative integer", field=f"prior.{key}")
        return value

    origin = document.get("origin", "file")
    # Before scopes, a document learned from a fleet was an availability fleet's, and one
    # written by hand applied to every SLI.
    scope = document.get("scope", "availability" if count("services") else ANY)
    if not isinstance(scope, str):
        raise errors.InputError("must be a string", field="prior.scope")
    quantiles = size.get("quantiles", list(DEFAULT_QUANTILES))
    if not isinstance(quantiles, list) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in quantiles
    ):
        raise errors.InputError("must be a list of numbers", field="prior.size.quantiles")
    tail = size.get("tail", {"scale": DEFAULT_TAIL[0], "shape": DEFAULT_TAIL[1]})
    if not isinstance(tail, dict):
        raise errors.InputError("must be an object", field="prior.size.tail")
    return Prior(
        rate_shape=number(rate, "shape", "rate.shape"),
        rate_days=number(rate, "days", "rate.days"),
        size_log_mean=number(size, "logMean", "size.logMean"),
        size_strength=number(size, "strength", "size.strength"),
        size_shape=number(size, "shape", "size.shape"),
        size_scale=number(size, "scale", "size.scale"),
        origin=origin if isinstance(origin, str) else "file",
        scope=scope,
        services=count("services"),
        incidents=count("incidents"),
        size_quantiles=tuple(float(v) for v in quantiles),
        size_tail=(
            number(tail, "scale", "size.tail.scale"),
            number(tail, "shape", "size.tail.shape"),
        ),
    )


def loads(text: str) -> Prior:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise errors.InputError(f"not JSON: {exc.msg} at line {exc.lineno}", field="prior") from exc
    return from_document(document)


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
#: Assumed median incident cost: 15 full-outage minutes (e.g. a third of requests failing for
#: 45 minutes), with a log standard deviation of 1.2 (a 90% range of about 2 minutes to 1.8
#: hours): durations in Davidovič (2021) span two orders of magnitude around tens of minutes,
#: and most incidents are partial. 1.2 rather than 1.5: at 1.5 the lognormal's tail put
#: conservative tiers of ordinary services near 80% (measured), beyond anything they see.
DEFAULT_MEDIAN_MINUTES = 15.0
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
    """One service's incident evidence: what ``pool`` needs, and nothing that names it."""

    incidents: int
    exposure_days: float
    #: Sum and sum of squares of the incidents' log sizes (log full-outage minutes).
    log_sum: float = 0.0
    log_square_sum: float = 0.0
    #: The log sizes themselves, for the fleet's size shape (empty: only the sums are known).
    log_sizes: tuple[float, ...] = ()


#: Pooled rate shapes and size strengths are capped at this many pseudo-incidents, so that a
#: service's own history can still move its estimate when its fleet is large and uniform.
MAX_STRENGTH = 20.0
#: Fewer pooled incidents than this leave the size prior at the default's.
MIN_POOLED_INCIDENTS = 3
#: Fewer pooled incident sizes than this leave the size's shape at the default's: 40 puts eight
#: in the Pareto tail, the fewest from which its mean excess is an estimate (Hill 1975).
MIN_SHAPE_INCIDENTS = 40


def pool(
    stats: Sequence[ServiceStats],
    *,
    origin: str,
    scope: str = "availability",
    fallback: Prior = DEFAULT,
) -> Prior:
    """The fleet's prior from its services' incident statistics (empirical Bayes).

    Rate: the Gamma whose mean is the fleet's pooled rate and whose variance is the spread of
    the services' rates beyond Poisson noise (method of moments for the Gamma-Poisson model;
    DerSimonian & Laird 1986 for the between-service variance). A fleet that looks uniform gets
    a strong prior (capped at ``MAX_STRENGTH`` pseudo-incidents); a diverse one a weak one.

    Size: the prior whose mean is the pooled mean log size, whose variance is the
    within-service variance, and whose strength is within over between-service variance (the
    normal hierarchical model's shrinkage; BDA §5.4).
    """
    services = [s for s in stats if s.exposure_days > 0]
    exposure = sum(s.exposure_days for s in services)
    count = sum(s.incidents for s in services)
    if not services or exposure <= 0:
        return fallback
    shape, days = _rate(services, count, exposure)
    sizes = _size(services, count, fallback)
    quantiles, tail = _shape([x for s in services for x in s.log_sizes], fallback)
    return Prior(
        rate_shape=shape,
        rate_days=days,
        size_log_mean=sizes[0],
        size_strength=sizes[1],
        size_shape=sizes[2],
        size_scale=sizes[3],
        origin=origin,
        scope=scope,
        services=len(services),
        incidents=count,
        size_quantiles=quantiles,
        size_tail=tail,
    )


def _shape(logs: list[float], fallback: Prior) -> tuple[tuple[float, ...], tuple[float, float]]:
    """The fleet's standardized log sizes: their quantiles, and their tail.

    Standardized by the pooled mean and standard deviation, so that a service's own mean and
    spread (``predictive.Posterior``) place it. The tail is the generalized Pareto fitted to
    the excesses over the 80% point by probability-weighted moments (Hosking & Wallis 1987:
    closed form, so the same incidents give the same bytes). The lognormal's normal shape is
    what families of incident sizes are not: bounded severities thin the tail, Pareto
    durations fatten it, and the fleet's incidents show which (measured on the calibration
    suite, fleet prior: with the normal shape the incident profiles' balanced budgets were
    1.6-2.1x the oracle's, with the fleet's own shape 1.1-1.5x).
    """
    if len(logs) < MIN_SHAPE_INCIDENTS:
        return fallback.size_quantiles, fallback.size_tail
    values = np.sort(np.asarray(logs, dtype=np.float64))
    spread = float(values.std())
    if spread <= 0:
        return fallback.size_quantiles, fallback.size_tail
    z = (values - float(values.mean())) / spread
    quantiles = tuple(_num(float(np.quantile(z, p))) for p in SHAPE_PROBABILITIES)
    excess = np.sort(z[z > quantiles[-1]] - quantiles[-1])
    n = len(excess)
    a0 = float(excess.mean()) if n else 0.0
    a1 = float(((1.0 - (np.arange(1, n + 1) - 0.35) / n) * excess).mean()) if n else 0.0
    if n < 2 or a0 - 2 * a1 <= 0:
        return quantiles, fallback.size_tail
    k = a0 / (a0 - 2 * a1) - 2  # Hosking & Wallis's k is minus the shape
    xi = min(max(-k, MIN_TAIL_SHAPE), MAX_TAIL_SHAPE)
    scale = a0 * (1 - xi)  # the mean excess of a GPD is scale / (1 - shape)
    return quantiles, (_num(max(scale, 0.05)), _num(xi))  # 0.05: no tail known to be thinner


def _rate(services: list[ServiceStats], count: int, exposure: float) -> tuple[float, float]:
    if count == 0:  # nothing seen anywhere: half an incident over the fleet's whole exposure
        return 0.5, exposure / 1.0
    mean = count / exposure
    spread = sum(s.exposure_days * (s.incidents / s.exposure_days - mean) ** 2 for s in services)
    denominator = exposure - sum(s.exposure_days**2 for s in services) / exposure
    between = (spread - (len(services) - 1) * mean) / denominator if denominator > 0 else 0.0
    shape = mean**2 / between if between > 0 else math.inf
    shape = min(shape, MAX_STRENGTH, float(count))
    return shape, shape / mean


def _size(
    services: list[ServiceStats], count: int, fallback: Prior
) -> tuple[float, float, float, float]:
    if count < MIN_POOLED_INCIDENTS:
        return (
            fallback.size_log_mean,
            fallback.size_strength,
            fallback.size_shape,
            fallback.size_scale,
        )
    mean = sum(s.log_sum for s in services) / count
    within_ss = sum(s.log_square_sum - s.log_sum**2 / s.incidents for s in services if s.incidents)
    groups = [s for s in services if s.incidents]
    within = within_ss / (count - len(groups)) if count > len(groups) else 0.0
    total = sum(s.log_square_sum for s in services) / count - mean**2
    between = sum(s.incidents * (s.log_sum / s.incidents - mean) ** 2 for s in groups) / count
    between -= within * (len(groups) - 1) / count
    # One-way random effects (ANOVA estimators; BDA §5.4): a service's incidents spread around
    # its own mean by the within-service variance, which is what its size posterior needs; the
    # spread of the means beyond that is the mean's prior variance (``strength``), and counting
    # it in the variance as well doubled it (mixed fleet: balanced budgets 3.3x the oracle's,
    # 1.9x without). Where the means spread no more than their own noise (``between`` <= 0)
    # the services are one population and every incident measures the same variance: the
    # total, rather than a within estimate from the few services with two incidents or more
    # (rare-large: 9 degrees of freedom, a variance 1.6x the total and budgets 2.4x the
    # oracle's; 1.6x with the total). The variance's inverse-gamma shape is half the degrees
    # of freedom of the estimate it holds (``count - groups`` within, ``count - 1`` total), not
    # ``count / 2`` whatever the split; and the mean's strength has no floor: one of a single
    # pseudo-incident cut an estimated between-service spread larger than the within one down
    # to the within one, and the predictive lost the rest of the fleet's variance. Both bit
    # where the within estimate came from a few services with two incidents (rare-large,
    # ``bench.fleet_draws`` seed 1: 7 degrees of freedom claimed as 40, a variance of 0.22
    # against the process's 0.87, strength 0.46 raised to 1; conservative/balanced breach
    # 3.47x/1.56x the promise, 2.62x/1.27x with both).
    apart = between > 0 and count > len(groups)
    variance = within if apart else total
    variance = max(variance, 0.05)  # log sizes known to ±25% at best
    strength = variance / between if between > 0 else MAX_STRENGTH
    strength = min(strength, MAX_STRENGTH, float(count))
    freedom = count - len(groups) if apart else count - 1
    shape = min(max(freedom / 2.0, 2.0), MAX_STRENGTH)
    return mean, strength, shape, (shape - 1.0) * variance


def _num(value: float) -> float:
    """Nine significant digits: stable bytes across platforms, finer than any estimate."""
    return float(f"{value:.9g}")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
