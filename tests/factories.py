"""Builders of test inputs, shared by the unit and integration tests.

Synthetic histories come from small explicit formulas with a seeded generator, so a failing test
can be reproduced from its arguments alone.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import numpy as np

from sloreco import api
from sloreco.core import durations, fleetpool, history, inputs, method, results, slis
from sloreco.core import prior as priors
from sloreco.core.explain import evidence
from sloreco.core.slis import base

#: A fleet that has seen no incident in 125 years (five services of 9,000 days): its tiers are
#: the background's, for tests of what a fleet says of backgrounds (``fleetspells``).
QUIET_FLEET = fleetpool.pool([priors.ServiceStats(0, 9000.0)] * 5, origin="fleet:x")


def seen_sizes(
    per_service: Sequence[Sequence[float]], *, exposure_days: float = 90.0
) -> list[priors.ServiceStats]:
    """What each service of a fleet gives its fleet prior (``fleetpool.pool``): one service
    per sequence of incident log sizes, each seen over ``exposure_days``."""
    stats = []
    for sizes in per_service:
        logs = np.asarray(sizes, dtype=np.float64)
        stats.append(
            priors.ServiceStats(
                len(logs),
                exposure_days,
                float(logs.sum()),
                float((logs**2).sum()),
                tuple(float(x) for x in logs),
            )
        )
    return stats


#: A prior that expects no incident at all (one pseudo-incident in a million years): for tests
#: whose subject is not the incident model (dependency caps), so that the prior does not pull
#: a steady service's tiers below the cap they test.
QUIET_PRIOR = priors.Prior(
    rate_shape=0.001,
    rate_days=1e6,
    size_log_mean=0.0,
    size_strength=1.0,
    size_shape=3.0,
    size_scale=0.01,
    origin="quiet",
)


#: 2024-05-01T00:00:00Z: a fixed, bucket-aligned origin for synthetic histories.
EPOCH_2024_05_01 = 1714521600

#: A typical Prometheus latency histogram's bounds in seconds (client_golang's DefBuckets).
DEFAULT_LATENCY_BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def synthetic_availability(
    *,
    days: float,
    bucket_seconds: int = 3600,
    start: int = EPOCH_2024_05_01,
    requests_per_bucket: int = 1000,
    error_ratio: float = 0.001,
    gaps: tuple[int, ...] = (),
    seed: int = 0,
) -> history.AvailabilityHistory:
    """Poisson traffic and binomial errors per bucket; ``gaps`` are bucket indices left NaN."""
    rng = np.random.default_rng(seed)
    n = round(days * 86400 / bucket_seconds)
    total = rng.poisson(requests_per_bucket, n).astype(np.float64)
    bad = rng.binomial(total.astype(np.int64), error_ratio).astype(np.float64)
    for gap in gaps:
        total[gap] = bad[gap] = math.nan
    return history.AvailabilityHistory(
        bucket_seconds=bucket_seconds,
        start=start,
        total=total,
        bad=bad,
        excluded=np.zeros(n, dtype=np.bool_),
    )


def synthetic_latency(
    *,
    days: float,
    bucket_seconds: int = 3600,
    start: int = EPOCH_2024_05_01,
    requests_per_bucket: int = 1000,
    median_seconds: float = 0.08,
    bounds: tuple[float, ...] = DEFAULT_LATENCY_BOUNDS,
    gaps: tuple[int, ...] = (),
    seed: int = 0,
) -> history.LatencyHistory:
    """Log-normal request durations (sigma 0.6) binned into cumulative ``le`` buckets."""
    rng = np.random.default_rng(seed)
    n = round(days * 86400 / bucket_seconds)
    all_bounds = (*bounds, math.inf)
    cumulative = np.empty((n, len(all_bounds)))
    for i in range(n):
        samples = rng.lognormal(math.log(median_seconds), 0.6, rng.poisson(requests_per_bucket))
        cumulative[i] = [np.count_nonzero(samples <= b) for b in all_bounds]
    for gap in gaps:
        cumulative[gap] = math.nan
    return history.LatencyHistory(
        bucket_seconds=bucket_seconds,
        start=start,
        bounds=all_bounds,
        cumulative=cumulative,
        excluded=np.zeros(n, dtype=np.bool_),
    )


def cli_input_document(
    *,
    availability: history.AvailabilityHistory | None = None,
    latency: history.LatencyHistory | None = None,
) -> dict[str, Any]:
    """The ``sloreco recommend --input`` JSON document holding these histories' buckets.

    Missing (NaN) buckets are left out, which is how the format expresses a gap.
    """
    some = availability if availability is not None else latency
    assert some is not None, "needs at least one history"
    bucket = some.bucket_seconds
    doc: dict[str, Any] = {"bucket": durations.format(bucket)}
    if availability is not None:
        doc["availability"] = [
            {
                "start": api.rfc3339(availability.start + i * bucket),
                "total": int(total),
                "bad": int(bad),
            }
            for i, (total, bad) in enumerate(zip(availability.total, availability.bad, strict=True))
            if not (math.isnan(total) or math.isnan(bad))
        ]
    if latency is not None:
        doc["latency"] = {
            "bounds": [*latency.bounds[:-1], "+Inf"],
            "buckets": [
                {
                    "start": api.rfc3339(latency.start + i * bucket),
                    "counts": [int(c) for c in row],
                }
                for i, row in enumerate(latency.cumulative)
                if not np.isnan(row).any()
            ],
        }
    return doc


def service_level(
    name: str,
    *,
    service: str,
    availability: bool | Mapping[str, object] | None = True,
    latency: bool | Mapping[str, object] | None = False,
    **spec: object,
) -> dict[str, Any]:
    """The one ServiceLevel builder: a manifest reading the synthetic series of ``service``
    (sources.synth), plus ``spec`` fields as given.

    ``availability``/``latency``: True for the synthetic selectors, a mapping for that field as
    written, False or None to leave the field out.
    """
    body: dict[str, object] = {"service": service}
    if isinstance(availability, Mapping):
        body["availability"] = dict(availability)
    elif availability:
        body["availability"] = {
            "totalQuery": f'http_requests_total{{service="{service}"}}',
            "errorQuery": f'http_requests_total{{service="{service}",code=~"5.."}}',
        }
    if isinstance(latency, Mapping):
        body["latency"] = dict(latency)
    elif latency:
        body["latency"] = {
            "histogram": f'http_request_duration_seconds_bucket{{service="{service}"}}',
            "percentile": "99",
        }
    body.update(spec)
    return {
        "apiVersion": "sloreco.dev/v1alpha1",
        "kind": "ServiceLevel",
        "metadata": {"name": name, "labels": {"team": "shop", "app.kubernetes.io/part-of": "x"}},
        "spec": {key: value for key, value in body.items() if value is not None},
    }


# --- Exact histories for the statistical core (no randomness unless a seed is given). ---------


def daily_availability(
    total: list[float] | np.ndarray,
    bad: list[float] | np.ndarray,
    *,
    bucket_seconds: int = 86400,
    start: int = EPOCH_2024_05_01,
) -> history.AvailabilityHistory:
    """One day per entry of ``total``/``bad``, spread evenly over the day's buckets.

    With daily buckets (the default) each entry is one bucket, which keeps tests fast; with
    hourly buckets each day's counts are divided by 24 (so counts may be fractional).
    """
    per_day = 86400 // bucket_seconds
    totals = np.repeat(np.asarray(total, dtype=np.float64) / per_day, per_day)
    bads = np.repeat(np.asarray(bad, dtype=np.float64) / per_day, per_day)
    return history.AvailabilityHistory(
        bucket_seconds=bucket_seconds,
        start=start,
        total=totals,
        bad=bads,
        excluded=np.zeros(len(totals), dtype=np.bool_),
    )


def drifting_shares(
    phi: float, days: int, *, series: int = 1, cv: float = 1.0, seed: int = 0
) -> np.ndarray:
    """Daily bad shares ``(series, days)`` around 0.1% that drift in spells: the lognormal of a
    stationary AR(1) of ``phi``, coefficient of variation ``cv`` (``bench.processes``' way)."""
    rng = np.random.default_rng(seed)
    level = np.empty((series, days))
    level[:, 0] = rng.standard_normal(series)
    for day in range(1, days):
        level[:, day] = phi * level[:, day - 1] + np.sqrt(1 - phi**2) * rng.standard_normal(series)
    sigma = np.sqrt(np.log1p(cv * cv))
    shares: np.ndarray = 0.001 * np.exp(sigma * level - sigma**2 / 2)
    return shares


def risen_shares(
    days: int, *, rise_days: int, factor: float, seed: int = 0, series: int = 1
) -> np.ndarray:
    """Daily bad shares ``(series, days)`` around 0.1% (gamma, coefficient of variation 0.5,
    ``bench.processes``' 'steady'), the last ``rise_days`` of them ``factor`` times higher."""
    rng = np.random.default_rng(seed)
    shares: np.ndarray = rng.gamma(4.0, 0.001 / 4.0, (series, days))
    shares[:, days - rise_days :] *= factor
    return shares


def creeping_shares(
    days: int, *, doubling_days: float, seed: int = 0, series: int = 1
) -> np.ndarray:
    """Daily bad shares ``(series, days)`` as ``risen_shares``', around a level that doubles
    every ``doubling_days`` days (halves, when negative) and is 0.1% on the last day."""
    rng = np.random.default_rng(seed)
    shares: np.ndarray = rng.gamma(4.0, 0.001 / 4.0, (series, days))
    return shares * np.exp2((np.arange(days) - (days - 1)) / doubling_days)


def daily_pool(
    shares: np.ndarray, *, requests_per_day: float = 48_000, seed: int = 1
) -> np.ndarray:
    """Background days ``(bad, total)`` with these daily bad shares, bad events Poisson: what
    ``evidence.Evidence.pool`` holds (48,000 requests a day: 2,000 an hour)."""
    total = np.full(len(shares), float(requests_per_day))
    bad = np.random.default_rng(seed).poisson(total * shares).astype(np.float64)
    return np.stack([bad, total], axis=1)


def hourly_availability(
    daily_shares: np.ndarray, *, requests_per_hour: float = 2000, seed: int = 1
) -> history.AvailabilityHistory:
    """Hourly buckets, ``requests_per_hour`` each, bad events Poisson at each day's share."""
    total = np.full(len(daily_shares) * 24, float(requests_per_hour))
    rng = np.random.default_rng(seed)
    bad = rng.poisson(total * np.repeat(daily_shares, 24)).astype(np.float64)
    return history.AvailabilityHistory(
        bucket_seconds=3600,
        start=EPOCH_2024_05_01,
        total=total,
        bad=bad,
        excluded=np.zeros(len(total), dtype=np.bool_),
    )


def steady_availability(
    days: int,
    *,
    requests_per_day: float = 100_000,
    error_ratio: float = 0.001,
    bucket_seconds: int = 86400,
    seed: int | None = None,
    start: int = EPOCH_2024_05_01,
) -> history.AvailabilityHistory:
    """Constant traffic; errors exactly ``error_ratio`` of it, or binomial if ``seed`` is set."""
    total = np.full(days, float(requests_per_day))
    if seed is None:
        bad = np.round(total * error_ratio)
    else:
        rng = np.random.default_rng(seed)
        bad = rng.binomial(total.astype(np.int64), error_ratio).astype(np.float64)
    return daily_availability(total, bad, bucket_seconds=bucket_seconds, start=start)


def with_incident(
    hist: history.AvailabilityHistory, *, first: int, buckets: int, error_ratio: float
) -> history.AvailabilityHistory:
    """A copy of ``hist`` whose buckets ``[first, first + buckets)`` fail at ``error_ratio``."""
    bad = hist.bad.copy()
    bad[first : first + buckets] = np.round(hist.total[first : first + buckets] * error_ratio)
    return dataclasses.replace(hist, bad=bad)


def with_buckets(
    hist: history.AvailabilityHistory, indices: list[int], *, total: float, bad: float
) -> history.AvailabilityHistory:
    """A copy of ``hist`` with the given buckets' counts replaced (NaN, Inf, negatives...)."""
    totals, bads = hist.total.copy(), hist.bad.copy()
    totals[indices], bads[indices] = total, bad
    return dataclasses.replace(hist, total=totals, bad=bads)


def steady_latency(
    days: int,
    *,
    requests_per_day: float = 100_000,
    shares: tuple[float, ...] = (0.5, 0.9, 0.99, 0.999),
    bounds: tuple[float, ...] = (0.1, 0.25, 0.5, 1.0),
    bucket_seconds: int = 86400,
    start: int = EPOCH_2024_05_01,
    seed: int | None = None,
) -> history.LatencyHistory:
    """Each bucket's cumulative counts at ``bounds`` are ``shares`` of its requests (+Inf: all).

    With ``seed``, each bucket's requests are drawn multinomially around those shares instead.
    """
    buckets = days * (86400 // bucket_seconds)
    per_bucket = requests_per_day * bucket_seconds / 86400
    edges = np.array([*shares, 1.0])
    if seed is None:
        cumulative = np.tile(np.round(edges * per_bucket), (buckets, 1))
    else:
        rng = np.random.default_rng(seed)
        probabilities = np.diff(edges, prepend=0.0)
        counts = rng.multinomial(int(per_bucket), probabilities, size=buckets)
        cumulative = np.cumsum(counts, axis=1).astype(np.float64)
    return history.LatencyHistory(
        bucket_seconds=bucket_seconds,
        start=start,
        bounds=(*bounds, math.inf),
        cumulative=cumulative,
        excluded=np.zeros(buckets, dtype=np.bool_),
    )


def with_slow_incident(
    hist: history.LatencyHistory, *, first: int, buckets: int, slow_share: float
) -> history.LatencyHistory:
    """A copy of ``hist`` whose buckets ``[first, first + buckets)`` have ``slow_share`` of
    their requests slower than every finite bound."""
    cumulative = hist.cumulative.copy()
    rows = slice(first, first + buckets)
    cumulative[rows, :-1] = np.round(cumulative[rows, :-1] * (1.0 - slow_share))
    return dataclasses.replace(hist, cumulative=cumulative)


def recommend_availability(
    data: history.AvailabilityHistory,
    *,
    window_seconds: int,
    seed: int,
    settings: method.MethodSettings = base.DEFAULT_SETTINGS,
    dependencies: Sequence[inputs.Dependency] = (),
    current_objective: Decimal | None = None,
    prior: priors.Prior = priors.DEFAULT,
    observe: bool = False,
) -> results.SliResult:
    """The availability kind's recommendation, with the request spelled as keywords."""
    request = base.Request(
        window_seconds=window_seconds,
        seed=seed,
        settings=settings,
        dependencies=tuple(dependencies),
        objective_availability=current_objective,
        priors=(prior,),
        observe=observe,
    )
    return slis.get("availability").recommend(data, request)


def recommend_latency(
    data: history.LatencyHistory,
    *,
    percentile: Decimal,
    window_seconds: int,
    seed: int,
    settings: method.MethodSettings = base.DEFAULT_SETTINGS,
    current_objective: results.LatencyObjective | None = None,
    prior: priors.Prior = priors.DEFAULT,
    observe: bool = False,
) -> results.SliResult:
    """The latency kind's recommendation, with the request spelled as keywords."""
    request = base.Request(
        window_seconds=window_seconds,
        seed=seed,
        settings=settings,
        percentile=percentile,
        objective_latency=current_objective,
        priors=(prior,),
        observe=observe,
    )
    return slis.get("latency").recommend(data, request)


def tier(name: str, target: str, *, interval: tuple[str, str] | None = None) -> results.Tier:
    """A tier at ``target`` percent, its interval ``interval`` (none wide: the target itself)."""
    lower, upper = interval or (target, target)
    return results.Tier(
        name=name,
        confidence=0.99,
        target=Decimal(target),
        breach_probability=0.01,
        confidence_interval=results.Interval(0.9, Decimal(lower), Decimal(upper)),
        error_budget=results.ErrorBudget(0, Decimal(0)),
    )


def facts(target: str, **fields: Any) -> evidence.Facts:
    """What the engine hands the explanation for one balanced tier at ``target`` percent, 90
    days of hourly data with no incident and no dependency; ``fields`` replace any of it."""
    hours = 90 * 24
    base_fields: dict[str, Any] = {
        "kind": slis.get("availability").traits,
        "start": EPOCH_2024_05_01,
        "end": EPOCH_2024_05_01 + hours * 3600,
        "bucket_seconds": 3600,
        "window_seconds": 28 * 86400,
        "seed": 1,
        "block_days": 5,
        "tiers": (tier("balanced", target),),
        "evaluations": 0,
        "breaches": (0,),
        "windows": np.ones(3),
        "from_history": True,
        "present": np.ones(hours, dtype=np.bool_),
        "excluded": np.zeros(hours, dtype=np.bool_),
        "traffic": 1e6,
        "incidents": (),
        "incident_share": 0.0,
        "uncapped": (Decimal(target),),
    }
    return evidence.Facts(**(base_fields | fields))
