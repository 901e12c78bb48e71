"""A fleet prior from its services' incident statistics: ``pool`` (empirical Bayes).

Each service gives what it saw (``prior.ServiceStats``: incidents, exposure, log sizes — nothing
that names it); ``pool`` returns the ``prior.Prior`` its fleet implies, so that a service is
shrunk toward its fleet in proportion to how little its own history says (the operator:
``controller.fleet``; the CLI: ``sloreco prior``).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from sloreco.core import fleetspells, fleettrend, orderstats, sizekinds
from sloreco.core.prior import DEFAULT, MIN_POOLED_INCIDENTS, Prior, ServiceStats
from sloreco.core.priordoc import rounded
from sloreco.core.sizeshape import (
    MAX_TAIL_SHAPE,
    MIN_TAIL_SHAPE,
    SHAPE_PROBABILITIES,
    UPPER_PROBABILITIES,
)

#: Pooled rate shapes and size strengths are capped at this many pseudo-incidents, so that a
#: service's own history can still move its estimate when its fleet is large and uniform.
MAX_STRENGTH = 20.0
#: Fewer pooled incident sizes than this leave the size's shape at the default's: 40 puts eight
#: in the Pareto tail, the fewest from which its mean excess is an estimate (Hill 1975).
MIN_SHAPE_INCIDENTS = 40
#: Where the services' mean log sizes spread by a tenth of the within-service variance or
#: more (a size strength of 10 or less), the pooled sizes around the pooled mean are a mixture
#: of the services' means more than one service's shape (``_around``); below it they are that
#: shape to within 5% of its spread, and every incident, a service's only one too, shows it.
MIXED_STRENGTH = 10.0
#: The fewest incidents beyond a point of ``sizeshape.UPPER_PROBABILITIES`` for the fleet's
#: table to reach it and its tail to start there. Twenty-five put the moments estimate of the
#: tail's shape within a standard error of 0.25 (measured: 20,000 samples of exponential
#: excesses; 0.51 from the eight that the 80% point of 40 incidents leaves, 0.19 from 40), and
#: take a fleet of 520 incidents to the 95% point.
MIN_TAIL_EXCEEDANCES = 25
#: Fewer degrees of freedom than this (incidents less the services that saw any) leave the
#: within-service variance unknown, and the fleet one population. A variance from ``nu``
#: degrees of freedom is ``chi2(nu) / nu`` times the truth: at 10 within 0.39-1.83 of it (90%),
#: at 2 within 0.05-3.0. A fleet of services that saw one rare incident each has a few with two,
#: and those few said what every service's spread was (measured: ``bench.sweep``'s process 33,
#: 18 incidents in 16 services, a within variance of 0.08 against a total of 0.78; its services
#: were told their next incidents would all be the size of their first, and breached
#: conservative 7.0x and balanced 1.7x the promise under the fleet prior, 0.6x and 0.9x with
#: this rule; 58 of 60 random processes kept every promise, 56 before). 20 kept 57.
MIN_WITHIN_FREEDOM = 10
#: Degrees of freedom the fallback's size spread keeps in a fleet's (``_size``): four, the
#: weight the default prior's spread has against a service's own incidents
#: (``prior.DEFAULT_SIZE_SHAPE``). A fleet that saw a handful of incidents had read its spread
#: from them alone, and one whose few happened to be alike told every service its next would
#: be the same size (measured, ``bench.sweep``'s held-out process 30, a fleet of 40 quiet
#: latency services with 4 incidents, a variance of 0.46 where its durations alone have 0.92:
#: conservative breach 13.0x the promise, 3.2x at four; ``very-reliable-30d``'s balanced
#: 1.89x, 0.64x). It costs fleets whose sizes are truly tight and few: of 60 random processes
#: drawn for tuning, 59 -> 60 kept every promise and 42 -> 39 had a balanced budget within
#: 1.5x the oracle's; of 60 held out, 55 -> 54 (process 18: balanced 1.46x -> 1.58x) and
#: 37 -> 34. At two (probed with the median drawn too), held-out process 30 still breached
#: conservative 4.7x.
FALLBACK_FREEDOM = 4.0


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

    Background: how the services' backgrounds drift from day to day (``fleetspells.pool``), and
    how they creep (``fleettrend.pool``).

    Kinds: where the fleet's sizes come in two kinds (``sizekinds.split``: blips, and outages
    its histories rarely show), each kind's rate and size are pooled as above from its own
    incidents, and the larger kind's prior rides on the smaller's as ``Prior.larger``.
    """
    services = [s for s in stats if s.exposure_days > 0]
    if not services or sum(s.exposure_days for s in services) <= 0:
        return fallback
    logs = [x for s in services for x in s.log_sizes]
    kind = functools.partial(
        _kind,
        origin=origin,
        scope=scope,
        fallback=fallback,
        largest_minutes=rounded(math.exp(max(logs))) if logs else 0.0,
    )
    background = fleetspells.pool([s.background for s in services if s.background is not None])
    growth = fleettrend.pool([s.growth for s in services if s.growth is not None])
    listed = all(len(s.log_sizes) == s.incidents for s in services)
    at = sizekinds.split(logs) if listed else None
    if at is None:
        return dataclasses.replace(kind(services), background=background, growth=growth)
    # Two kinds (``sizekinds``): each pooled as its own fleet, the smaller with the fleet's
    # backgrounds; either capped at the largest incident of both (``incidentloss.cap``).
    smaller = kind([_part(s, below=at) for s in services])
    larger = kind([_part(s, above=at) for s in services])
    return dataclasses.replace(
        smaller, background=background, growth=growth, larger=larger, kind_from=rounded(at)
    )


def _part(s: ServiceStats, *, below: float = math.inf, above: float = -math.inf) -> ServiceStats:
    """A service's statistics of the incidents of one kind: sizes in ``[above, below)``."""
    kept = tuple(x for x in s.log_sizes if above <= x < below)
    return dataclasses.replace(
        s,
        incidents=len(kept),
        log_sum=math.fsum(kept),
        log_square_sum=math.fsum(x * x for x in kept),
        log_sizes=kept,
    )


def _kind(
    services: list[ServiceStats],
    *,
    origin: str,
    scope: str,
    fallback: Prior,
    largest_minutes: float,
) -> Prior:
    """The prior of one kind of incident, pooled from its services' statistics (their
    backgrounds are the caller's to pool)."""
    exposure = sum(s.exposure_days for s in services)
    count = sum(s.incidents for s in services)
    shape, days = _rate(services, count, exposure)
    sizes = _size(services, count, fallback)
    mixed = sizes.apart and sizes.strength <= MIXED_STRENGTH
    quantiles, tail = _shape(_around(services, mixed=mixed), fallback)
    return Prior(
        rate_shape=shape,
        rate_days=days,
        size_log_mean=sizes.log_mean,
        size_strength=sizes.strength,
        size_shape=sizes.shape,
        size_scale=sizes.scale,
        origin=origin,
        scope=scope,
        services=len(services),
        incidents=count,
        size_quantiles=quantiles,
        size_tail=tail,
        largest_minutes=largest_minutes,
    )


def _shape(logs: list[float], fallback: Prior) -> tuple[tuple[float, ...], tuple[float, float]]:
    """The fleet's standardized log sizes (``_around``): their quantiles, and their tail.

    Standardized by their mean and standard deviation, so that a service's own mean and
    spread (``predictive.Posterior``) place it. The tail is the generalized Pareto fitted to
    the excesses over the last point tabulated — the 80% point, or higher where enough
    incidents lie beyond (``MIN_TAIL_EXCEEDANCES``, ``sizeshape.LADDER``) — by
    probability-weighted moments (Hosking & Wallis 1987: closed form, so the same incidents
    give the same bytes). The lognormal's normal shape is
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
    quantiles = tuple(rounded(orderstats.quantile(z, p)) for p in SHAPE_PROBABILITIES)
    for p in UPPER_PROBABILITIES:
        point = rounded(orderstats.quantile(z, p))
        if int((z > point).sum()) < MIN_TAIL_EXCEEDANCES:
            break
        quantiles = (*quantiles, point)
    excess = np.sort(z[z > quantiles[-1]] - quantiles[-1])
    n = len(excess)
    a0 = float(excess.mean()) if n else 0.0
    a1 = float(((1.0 - (np.arange(1, n + 1) - 0.35) / n) * excess).mean()) if n else 0.0
    if n < 2 or a0 - 2 * a1 <= 0:
        return quantiles, fallback.size_tail
    k = a0 / (a0 - 2 * a1) - 2  # Hosking & Wallis's k is minus the shape
    xi = min(max(-k, MIN_TAIL_SHAPE), MAX_TAIL_SHAPE)
    scale = a0 * (1 - xi)  # the mean excess of a GPD is scale / (1 - shape)
    return quantiles, (rounded(max(scale, 0.05)), rounded(xi))  # 0.05: no tail known to be thinner


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


def _around(services: list[ServiceStats], *, mixed: bool) -> list[float]:
    """The log sizes whose shape is the fleet's: each around its own service's mean where the
    services' means differ enough to mix their shapes (``MIXED_STRENGTH``) and enough
    services saw several incidents (``MIN_SHAPE_INCIDENTS``), else as they are.

    A service's posterior places the shape at its own mean and spreads it by its own, within
    spread (``predictive.Posterior``); where the means differ, the pooled sizes around the
    pooled mean are the services' means mixed, not the shape of one service's sizes (measured,
    ``bench.strangers``: a fleet of random processes pooled a shape whose tail ended 2.2
    standard deviations above its 80% point, and its noisiest lognormal service breached
    balanced 3.8x the promise; 1.5x with the normal shape). Around its own mean, a service's ``n``
    sizes spread ``(n - 1) / n`` of its variance (Bessel), undone here; a service with one
    incident says nothing of the shape."""
    pooled = [x for s in services for x in s.log_sizes]
    if not mixed:
        return pooled
    around: list[float] = []
    for s in services:
        n = len(s.log_sizes)
        if n >= 2:
            mean = math.fsum(s.log_sizes) / n
            around.extend((x - mean) * math.sqrt(n / (n - 1)) for x in s.log_sizes)
    return around if len(around) >= MIN_SHAPE_INCIDENTS else pooled


class _Sizes(NamedTuple):
    """A fleet's size prior (``Prior``'s ``size_*`` fields), and whether its services' means
    differ beyond their noise (``apart``: the within variance is then the services')."""

    log_mean: float
    strength: float
    shape: float
    scale: float
    apart: bool


def _size(services: list[ServiceStats], count: int, fallback: Prior) -> _Sizes:
    if count < MIN_POOLED_INCIDENTS:
        return _Sizes(
            fallback.size_log_mean,
            fallback.size_strength,
            fallback.size_shape,
            fallback.size_scale,
            False,
        )
    mean = sum(s.log_sum for s in services) / count
    within_ss = sum(s.log_square_sum - s.log_sum**2 / s.incidents for s in services if s.incidents)
    groups = [s for s in services if s.incidents]
    known = count - len(groups) >= MIN_WITHIN_FREEDOM
    within = within_ss / (count - len(groups)) if known else 0.0
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
    # oracle's; 1.6x with the total). So are they where too few incidents share a service for
    # the within variance to be known (``MIN_WITHIN_FREEDOM``): how the total splits between
    # services and within them is then not identified, and a service is its fleet, whose total
    # spread covers both. The variance's inverse-gamma shape is half the degrees
    # of freedom of the estimate it holds (``count - groups`` within, ``count - 1`` total), not
    # ``count / 2`` whatever the split; and the mean's strength has no floor: one of a single
    # pseudo-incident cut an estimated between-service spread larger than the within one down
    # to the within one, and the predictive lost the rest of the fleet's variance. Both bit
    # where the within estimate came from a few services with two incidents (rare-large,
    # ``bench.fleet_draws`` seed 1: 7 degrees of freedom claimed as 40, a variance of 0.22
    # against the process's 0.87, strength 0.46 raised to 1; conservative/balanced breach
    # 3.47x/1.56x the promise, 2.62x/1.27x with both).
    apart = between > 0 and known
    variance = within if apart else total
    variance = max(variance, 0.05)  # log sizes known to ±25% at best
    freedom = count - len(groups) if apart else count - 1
    # The fleet's spread is a posterior with the fallback's as its prior (the scaled
    # inverse-χ² update, BDA §3.3), worth ``FALLBACK_FREEDOM`` degrees of freedom: read from
    # the fleet alone, a few incidents that happened to be alike said every service's were.
    # Its median stays its own: that estimate's error is drawn already
    # (``Prior.estimate_variances``), and drawn toward the default's 40 minutes by one
    # pseudo-incident, a fleet of eight-hour outages read them 11% smaller (measured,
    # ``probe-semiannual-8h``, fleet prior: aggressive breach 1.25x -> 1.61x the promise with
    # it, 1.28x without).
    variance = (FALLBACK_FREEDOM * fallback.size_variance + freedom * variance) / (
        FALLBACK_FREEDOM + freedom
    )
    # The means' spread stays the fleet's own (``between``): the strength is its ratio to the
    # posterior within variance.
    strength = variance / between if apart else MAX_STRENGTH
    strength = min(strength, MAX_STRENGTH, float(count))
    shape = min(max((freedom + FALLBACK_FREEDOM) / 2.0, 2.0), MAX_STRENGTH)
    return _Sizes(mean, strength, shape, (shape - 1.0) * variance, apart)
