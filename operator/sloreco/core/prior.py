"""What is believed about incidents before a service's own history is read: a ``Prior``.

A 90-day history that holds no outage does not show a service without outages; it shows one
whose outages are rarer than a quarter. What comes next has to come from somewhere, and this
module is that somewhere, as data: a frozen, JSON-serialisable value with two parts.

* **Rate** — incidents per day, ``Gamma(rate_shape, rate_days)`` (shape, and a rate in days:
  ``rate_shape`` pseudo-incidents seen over ``rate_days`` pseudo-days). Conjugate to the
  Poisson count a history shows (Gelman et al., *Bayesian Data Analysis*, 3rd ed., §2.6).
* **Size** — an incident's cost in *full-outage-equivalent minutes* (its excess bad events over
  the traffic of a minute), lognormal: log size ``~ Normal(mu, sigma²)``; ``sigma²`` has an
  inverse-gamma prior ``(size_shape, size_scale)``, ``mu`` a normal prior at ``size_log_mean``
  worth ``size_strength`` incidents (semi-conjugate, BDA §3.4; ``predictive.Posterior``).
  Lognormal because incident durations are close to lognormal across Google's incidents
  (Davidovič, *Incident Metrics in SRE*, O'Reilly 2021), and with a handful of incidents a
  two-parameter family with its parameter uncertainty is what can be estimated at
  all; peaks-over-threshold with a generalised Pareto (Coles, *An Introduction to Statistical
  Modeling of Extreme Values*, 2001, ch. 4) needs tens of exceedances. Drawing the parameters
  from their posterior gives heavy predictive tails while few incidents are known.

Minutes, not bad events, so that a prior carries across services of any traffic: a fleet of
services shares what an outage costs in time, not in requests.

``DEFAULT`` is the prior of the CLI and of a fresh operator; ``pool`` learns a fleet prior from
per-service incident statistics (empirical Bayes, partial pooling: a service is shrunk toward
its fleet in proportion to how little its own history says).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Sequence
from typing import Any

from sloreco import errors

#: Version of the JSON document (``kind: SlorecoPrior``); bump when fields change meaning.
DOCUMENT_VERSION = "sloreco.dev/v1alpha1"


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
    services: int = 0
    incidents: int = 0

    def __post_init__(self) -> None:
        for name in ("rate_shape", "rate_days", "size_strength", "size_shape", "size_scale"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise errors.InputError(
                    f"must be a positive number, got {value}", field=f"prior.{_camel(name)}"
                )
        if not math.isfinite(self.size_log_mean):
            raise errors.InputError("must be a finite number", field="prior.sizeLogMean")

    @property
    def rate_per_day(self) -> float:
        return self.rate_shape / self.rate_days

    @property
    def median_minutes(self) -> float:
        return math.exp(self.size_log_mean)

    def to_document(self) -> dict[str, Any]:
        """The JSON document ``sloreco recommend --prior FILE`` reads (keys in a fixed order)."""
        return {
            "apiVersion": DOCUMENT_VERSION,
            "kind": "SlorecoPrior",
            "origin": self.origin,
            "services": self.services,
            "incidents": self.incidents,
            "rate": {"shape": _num(self.rate_shape), "days": _num(self.rate_days)},
            "size": {
                "unit": "full-outage minutes (log)",
                "logMean": _num(self.size_log_mean),
                "strength": _num(self.size_strength),
                "shape": _num(self.size_shape),
                "scale": _num(self.size_scale),
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
    return Prior(
        rate_shape=number(rate, "shape", "rate.shape"),
        rate_days=number(rate, "days", "rate.days"),
        size_log_mean=number(size, "logMean", "size.logMean"),
        size_strength=number(size, "strength", "size.strength"),
        size_shape=number(size, "shape", "size.shape"),
        size_scale=number(size, "scale", "size.scale"),
        origin=origin if isinstance(origin, str) else "file",
        services=count("services"),
        incidents=count("incidents"),
    )


def loads(text: str) -> Prior:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise errors.InputError(f"not JSON: {exc.msg} at line {exc.lineno}", field="prior") from exc
    return from_document(document)


# --- The default ------------------------------------------------------------------------------

#: Assumed typical incident rate: one user-visible incident per quarter (90 days). A stated
#: assumption, not a measurement: public postmortem collections show production services with
#: incidents from monthly to yearly; a quarter is the middle of that range.
DEFAULT_RATE_PER_DAY = 1 / 90
#: Weight of that assumption: a quarter of an incident's evidence. Weak on purpose: after 90
#: clean days the posterior mean rate is a fifth of the prior's, and a service's own incidents
#: dominate from the first one on. Compared on the calibration suite (bench/calibrate.py) with
#: 0.1: that weight gave incident-free services balanced budgets nearer the oracle's but let
#: the very-reliable and low-traffic profiles breach their conservative tier 7-10x; 0.25 is
#: the honest side of that trade (README, "Calibration").
DEFAULT_RATE_SHAPE = 0.25
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
    rate_days=DEFAULT_RATE_SHAPE / DEFAULT_RATE_PER_DAY,
    size_log_mean=math.log(DEFAULT_MEDIAN_MINUTES),
    size_strength=DEFAULT_SIZE_STRENGTH,
    size_shape=DEFAULT_SIZE_SHAPE,
    size_scale=(DEFAULT_SIZE_SHAPE - 1) * DEFAULT_LOG_SD**2,
)


# --- The fleet prior --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ServiceStats:
    """One service's incident evidence: what ``pool`` needs, and nothing that names it."""

    incidents: int
    exposure_days: float
    #: Sum and sum of squares of the incidents' log sizes (log full-outage minutes).
    log_sum: float = 0.0
    log_square_sum: float = 0.0


#: Pooled rate shapes and size strengths are capped at this many pseudo-incidents, so that a
#: service's own history can still move its estimate when its fleet is large and uniform.
MAX_STRENGTH = 20.0
#: Fewer pooled incidents than this leave the size prior at the default's.
MIN_POOLED_INCIDENTS = 3


def pool(stats: Sequence[ServiceStats], *, origin: str, fallback: Prior = DEFAULT) -> Prior:
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
    return Prior(
        rate_shape=shape,
        rate_days=days,
        size_log_mean=sizes[0],
        size_strength=sizes[1],
        size_shape=sizes[2],
        size_scale=sizes[3],
        origin=origin,
        services=len(services),
        incidents=count,
    )


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
    variance = max(within, total, 0.05)  # 0.05: log sizes known to ~±25% at best
    between = sum(s.incidents * (s.log_sum / s.incidents - mean) ** 2 for s in groups) / count
    between -= within * (len(groups) - 1) / count
    strength = variance / between if between > 0 else MAX_STRENGTH
    strength = min(max(strength, 1.0), MAX_STRENGTH, float(count))
    shape = min(max(count / 2.0, 2.0), MAX_STRENGTH)
    return mean, strength, shape, (shape - 1.0) * variance


def _num(value: float) -> float:
    """Nine significant digits: stable bytes across platforms, finer than any estimate."""
    return float(f"{value:.9g}")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
