"""Synthetic service history: deterministic per-step increments, shaped by a service profile.

Tests, the demo and the benchmarks need months of realistic Prometheus data without a fleet of
services to scrape. This module generates it per *service profile* (``steady``, ``incidents``,
…), seeded by the service's name, so the same name always gives the same history: requests,
errors and latency bins per ``step``, and the steps where the process restarted.
:mod:`.synthseries` renders the same increments twice, as the ground truth a perfect reader
returns and as the OpenMetrics a real Prometheus serves.

Pure numpy and the standard library: no I/O.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]

PROFILES = (
    "steady",
    "incidents",
    "high-variance",
    "new-service",
    "low-traffic",
    "counter-restarts",
    "no-data",
)

#: client_golang's DefBuckets plus +Inf: the latency bounds most services export.
BOUNDS: tuple[float, ...] = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    math.inf,
)

#: Prometheus's usual scrape interval range ends at 15s-1m; 5 minutes keeps 90 days of a few
#: services small (about 26k samples per series) while still exercising multi-sample windows.
DEFAULT_STEP = 300

#: ``new-service`` has this much history only (less than a 28-day window, more than the 7-day
#: minimum of SPEC §3.1, so it exercises the low-confidence path).
NEW_SERVICE_DAYS = 10


@dataclasses.dataclass(frozen=True)
class Service:
    """One synthetic service: its ``service`` label value and the profile shaping its traffic."""

    name: str
    profile: str

    def __post_init__(self) -> None:
        if self.profile not in PROFILES:
            raise ValueError(f"unknown profile {self.profile!r}; choose one of {PROFILES}")


@dataclasses.dataclass(frozen=True)
class Timeline:
    """Samples every ``step`` seconds over the ``days`` before ``end`` (inclusive ends)."""

    end: int
    days: int
    step: int = DEFAULT_STEP

    def __post_init__(self) -> None:
        if self.step <= 0 or (self.days * 86400) % self.step or self.end % self.step:
            raise ValueError("end and days must be whole multiples of step")

    @property
    def start(self) -> int:
        return self.end - self.days * 86400


@dataclasses.dataclass(frozen=True, eq=False)
class ServiceData:
    """Per-step increments of one service (``first is None``: the service exports nothing)."""

    service: Service
    first: int | None
    step: int
    ok: IntArray  # (K,) increments of code="200"
    errors: IntArray  # (K,) increments of code="500"
    latency: IntArray  # (K, len(BOUNDS)) requests per latency bin (not cumulative)
    restarts: npt.NDArray[np.bool_]  # (K,) the process restarted during step k

    @property
    def steps(self) -> int:
        return len(self.ok)


def seed_of(service: Service) -> int:
    """A stable 64-bit seed from the profile and name (Python's ``hash`` is salted per run)."""
    digest = hashlib.sha256(f"{service.profile}/{service.name}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def generate(service: Service, timeline: Timeline) -> ServiceData:
    """Generate a service's per-step increments; same inputs, same arrays."""
    rng = np.random.default_rng(seed_of(service))
    first = timeline.start
    if service.profile == "no-data":
        empty = np.zeros(0, dtype=np.int64)
        return ServiceData(
            service,
            None,
            timeline.step,
            empty,
            empty,
            np.zeros((0, len(BOUNDS)), np.int64),
            np.zeros(0, np.bool_),
        )
    if service.profile == "new-service":
        first = max(first, timeline.end - NEW_SERVICE_DAYS * 86400)
    step = timeline.step
    ends = np.arange(first + step, timeline.end + 1, step, dtype=np.int64)
    hours = (ends % 86400) / 3600.0
    days = (ends - first) // 86400
    n_days = int(days[-1]) + 1
    # Diurnal load peaking at 14:00 UTC, quieter weekends (1970-01-01 was a Thursday), and a
    # day-to-day wobble: the shape every real service's traffic has.
    weekday = ((ends // 86400) + 3) % 7
    load = (1 + 0.6 * np.sin(2 * np.pi * (hours - 8) / 24)) * np.where(weekday >= 5, 0.75, 1.0)
    load *= rng.lognormal(0.0, 0.1, n_days)[days]
    base_rps = 0.003 if service.profile == "low-traffic" else float(rng.uniform(20, 120))
    requests = rng.poisson(base_rps * step * load)

    p_error = 10 ** rng.uniform(-4, -3) * rng.lognormal(0.0, 0.3, n_days)[days]
    slow = np.zeros(len(ends), dtype=np.bool_)  # steps inside an incident: slow and failing
    if service.profile == "incidents":
        candidates = max(n_days - 1, 1)
        for day in rng.choice(candidates, size=min(4, candidates), replace=False):
            begin = first + int(day) * 86400 + int(rng.integers(0, 20)) * 3600
            hit = (ends > begin) & (ends <= begin + int(rng.integers(2, 7)) * 3600)
            p_error = np.where(hit, rng.uniform(0.2, 0.9), p_error)
            slow |= hit
    elif service.profile == "high-variance":
        p_error = p_error * rng.lognormal(0.0, 1.2, len(ends))
    errors = rng.binomial(requests, np.minimum(p_error, 1.0))

    latency = _latency_bins(rng, requests, hours=hours, slow=slow)
    restarts = np.zeros(len(ends), dtype=np.bool_)
    if service.profile == "counter-restarts":
        restarts = _restarts(rng, requests - errors, errors, latency, count=n_days)
    return ServiceData(service, first, step, requests - errors, errors, latency, restarts)


def _latency_bins(
    rng: np.random.Generator,
    requests: IntArray,
    *,
    hours: npt.NDArray[np.float64],
    slow: npt.NDArray[np.bool_],
) -> IntArray:
    """Split each step's requests over the latency bins: log-normal, slower at peak and in
    incidents. Only 48 distinct distributions (hour of day × incident), so the CDFs are few."""
    median = float(rng.uniform(0.04, 0.15))
    sigma = float(rng.uniform(0.5, 0.8))
    finite = np.array(BOUNDS[:-1])
    probs = np.empty((2, 24, len(BOUNDS)))
    for incident in (0, 1):
        for hour in range(24):
            mu = math.log(median * (1 + 0.3 * math.sin(2 * math.pi * (hour - 8) / 24)))
            mu += math.log(4.0) * incident
            z = (np.log(finite) - mu) / (sigma * math.sqrt(2))
            cdf = np.array([0.5 * math.erfc(-v) for v in z])
            probs[incident, hour] = np.diff(cdf, prepend=0.0, append=1.0)
    pvals = probs[slow.astype(np.int64), hours.astype(np.int64)]
    return rng.multinomial(requests, pvals).astype(np.int64)


def _restarts(
    rng: np.random.Generator, ok: IntArray, errors: IntArray, latency: IntArray, *, count: int
) -> npt.NDArray[np.bool_]:
    """Pick restart steps (about one deploy a day) that every backend recognises as resets.

    A reset is only visible when the new value (that step's increment) is below the old one;
    VictoriaMetrics takes a drop of less than an eighth of the old value for a partial reset
    and counts only the drop (``removeCounterResets``; VictoriaMetrics issue 2787), so the new
    value must be at most seven eighths of the old. A series still at 0 does not care.
    Candidates failing that for any series are dropped, so the ground truth stays what
    ``increase()`` computes. With ``<`` alone, a restart where the old value had barely grown
    came back short on VictoriaMetrics (one hour of ``counter-restarts`` read 86,040 requests
    for 93,480), depending on the hour the history ends.
    """
    series = np.column_stack([ok, errors, np.cumsum(latency, axis=1)])
    restarts = np.zeros(len(ok), dtype=np.bool_)
    candidates = np.sort(rng.choice(np.arange(1, len(ok)), size=count, replace=False))
    last = 0
    for k in candidates:
        if k <= last:
            continue
        before = series[last:k].sum(axis=0)
        if np.all((before == 0) | (8 * series[k] <= 7 * before)):
            restarts[k] = True
            last = int(k)
    return restarts
