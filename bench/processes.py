"""Process profiles for the calibration suite: services whose true behaviour is known.

A profile is a generative process at hourly resolution, the resolution sloreco reads:

* traffic: a daily level (lognormal day to day) times a diurnal shape, Poisson per hour;
* background bad events: each day its own bad share, drawn from a gamma distribution (its shape
  sets the day-to-day overdispersion: a coefficient of variation of ``1/sqrt(shape)``), Poisson
  per hour given the traffic;
* incidents: a compound process — starts at a Poisson rate, a duration in whole hours (lognormal
  or Pareto: heavy-tailed), and a severity (the share of requests that fail, or are slow, while
  it lasts; beta distributed). During an incident hour the bad share is the larger of the two.
  Optionally clustered: each incident is followed, with a fixed probability, by another that
  starts within a day of its end (a deploy, its rollback, the redeploy that fails again), which
  may itself be followed — a Poisson cluster process whose clusters hold ``1 / (1 - p)``
  incidents on average (the engine counts such a burst as one arrival:
  ``evidence.BURST_GAP_SECONDS``).
* a rise (optional): the background's level changed ``rise_days`` days before the history
  ended and stayed, a regression nobody rolled back (``history``); the future windows run at
  the new level.
* a creep (optional): the background doubles every ``doubling_days`` days, through the history
  and on through the future windows (a leak, a table that grows, and nobody fixes it); each
  stretch knows its first day relative to the history's end (``simulate``'s ``first_day``).

For latency the same process decides which requests are *slow*; fast requests follow a
lognormal latency, slow ones a slower lognormal, both binned into client_golang's default
histogram bounds (``synth.BOUNDS``). A window's histogram is the sum of its hours, so future
windows are split into buckets once per window (a sum of multinomials with the same
probabilities is multinomial), which is exact and cheap.

Histories and future windows come from the same function with independent generators, so the
"truth" a tier is judged against is this process (after a rise, the process it rose to), never
the history it was computed from.
Everything is seeded: the same profile and seed give the same arrays.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

HOURS = 24
#: The compliance window a profile is judged on unless asked otherwise: 28 days, the
#: ServiceLevel default.
WINDOW_DAYS = 28
#: client_golang's DefBuckets plus +Inf (the same bounds ``synth`` writes).
BOUNDS: tuple[float, ...] = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, math.inf,
)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Profile:
    """One service process. Rates are per day, shares are fractions of requests."""

    name: str
    description: str
    history_days: int = 90
    kind: str = "availability"  # or "latency"
    #: Mean requests per hour, and the diurnal swing (peak = 1 + amplitude times the mean).
    requests_per_hour: float = 2000.0
    diurnal_amplitude: float = 0.5
    #: Day-to-day traffic level: lognormal with this sigma (mean one).
    traffic_sigma: float = 0.1
    #: Background bad share: mean, and the gamma shape of its daily value (overdispersion).
    background: float = 0.001
    background_shape: float = 4.0
    #: Persistence of the daily background share from one day to the next: the AR(1)
    #: coefficient of its logarithm (0: independent days, gamma distributed). Above 0 the daily
    #: share is lognormal with the coefficient of variation the gamma shape gives, and a bad
    #: stretch lasts ``-1 / ln(persistence)`` days on average (0.9: about ten).
    background_persistence: float = 0.0
    #: Incidents per day (a Poisson process), and their duration in hours: lognormal with this
    #: median and sigma, or Pareto with this minimum and tail index when ``pareto_alpha`` > 0.
    incident_rate: float = 0.0
    #: Incident rates that differ from one stretch to the next (a quarter of many deploys, a
    #: quiet one): each history and each future window draws its own rate, gamma with this shape
    #: around ``incident_rate`` (0: the same rate everywhere).
    rate_shape: float = 0.0
    duration_median_hours: float = 2.0
    duration_sigma: float = 0.8
    pareto_alpha: float = 0.0
    #: Longest incident (hours): a week; nothing here lasts longer unnoticed.
    duration_max_hours: int = 168
    #: Clustering: the probability that an incident has a follow-up, which starts uniformly
    #: 1 to ``follow_up_hours`` hours after it ends (its own duration and severity drawn anew).
    follow_up_probability: float = 0.0
    follow_up_hours: int = 24
    #: Severity while an incident lasts: beta with this mean and concentration ``a + b``.
    severity_mean: float = 0.3
    severity_concentration: float = 4.0
    #: Latency: fast requests' median and log-sigma, slow requests' median and log-sigma.
    fast_median: float = 0.08
    fast_sigma: float = 0.6
    slow_median: float = 2.0
    slow_sigma: float = 0.5
    #: The compliance window its tiers are judged on, in days (``bench.calibrate --window-days``).
    window_days: int = WINDOW_DAYS
    #: A regression that stayed: the background rose this many times ``rise_days`` days
    #: before the history ended. ``background`` is the level since, which the future keeps;
    #: the history's earlier days ran at ``background / rise_factor``.
    rise_days: int = 0
    rise_factor: float = 1.0
    #: A creep: the background doubles every this many days (0: it does not), through the
    #: history and the future windows. ``background`` is its level where the history ends.
    doubling_days: float = 0.0

    #: Buckets a history is read at per hour (12: five-minute buckets; ``finer``). Only how the
    #: history is read: the process, and the future windows it is judged on, are the same.
    buckets_per_hour: int = 1
    #: Whether the history has gaps (``gaps``): hours the monitoring lost, which the history
    #: holds as missing counts. Like ``buckets_per_hour``, only how the history is read.
    gappy: bool = False
    #: A weekly rhythm (``weekly``): traffic on Saturdays and Sundays as a share of a weekday's
    #: (1: no rhythm), and whether incidents start only in working hours on weekdays (deploys).
    weekend_traffic: float = 1.0
    working_hours_incidents: bool = False

    #: Further incident processes on the same service (their incident fields only: rate,
    #: durations, follow-ups, severity), each independent of this one; where two overlap, the
    #: higher severity holds. Blips that a history shows many of, and outages it rarely does.
    also: tuple[Profile, ...] = ()

    def with_(self, **changes: object) -> Profile:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


def finer(counts: FloatArray, per: int, rng: np.random.Generator) -> FloatArray:
    """Hourly counts (rows; columns, if any, apart) spread over ``per`` buckets each, every
    request falling in one of an hour's at random (multinomial): the history at a finer step.

    Within the hour the process is flat, so a finer step shows more noise per bucket and no
    new detail: what it tests is whether the reading of incidents and background stands up to
    that noise. ``per`` of 1 returns ``counts`` itself.
    """
    if per == 1:
        return counts
    if 3600 % per:
        raise ValueError(f"an hour does not split into {per} whole-second buckets")
    split = rng.multinomial(counts.astype(np.int64), np.full(per, 1.0 / per))
    if counts.ndim == 1:  # (hours, per)
        return split.reshape(-1).astype(np.float64)
    spread: FloatArray = split.transpose(0, 2, 1).reshape(-1, counts.shape[1]).astype(np.float64)
    return spread  # (hours * per, columns)


#: A gappy history (``Profile.gappy``) misses this share of its hours at random (lost scrapes)
#: and one block of this many days (the monitoring down).
GAP_SHARE = 0.05
GAP_BLOCK_DAYS = 3


def gaps(hours: int, rng: np.random.Generator) -> npt.NDArray[np.bool_]:
    """Which of ``hours`` a gappy history misses (``GAP_SHARE``, ``GAP_BLOCK_DAYS``)."""
    missing: npt.NDArray[np.bool_] = rng.random(hours) < GAP_SHARE
    block = min(GAP_BLOCK_DAYS * HOURS, hours // 2)
    first = int(rng.integers(0, hours - block + 1))
    missing[first : first + block] = True
    return missing


#: Working hours (UTC) in which a ``working_hours_incidents`` profile's incidents start, Monday
#: to Friday: the hours deploys happen in, and the diurnal shape's busiest (it peaks at 15:00).
WORKING_HOURS = range(9, 17)
#: The history ends at midnight between a Sunday and a Monday, so day ``d`` relative to its
#: end is a weekend day when ``d % 7`` is 5 or 6; 28- and 7-day windows hold whole weeks.
WEEKEND = (5, 6)
#: ``bench.calibrate --weekly``'s weekend traffic: a business API's Saturday at 30% of its
#: weekday (a stated assumption; consumer services run the other way, and the reading of a
#: history does not care which days are the quiet ones).
WEEKEND_TRAFFIC = 0.3


def weekly(profile: Profile, first_day: int, days: int) -> FloatArray:
    """Per day of a stretch, its traffic relative to a weekday's (``weekend_traffic``)."""
    weekend = np.isin((first_day + np.arange(days)) % 7, WEEKEND)
    factor: FloatArray = np.where(weekend, profile.weekend_traffic, 1.0)
    return factor


def start_hours(profile: Profile, first_day: int, days: int) -> npt.NDArray[np.intp]:
    """The hours of a stretch an incident may start in: every hour, or working hours only."""
    hours = np.arange(days * HOURS)
    if not profile.working_hours_incidents:
        return hours
    day, hour = hours // HOURS, hours % HOURS
    working = ~np.isin((first_day + day) % 7, WEEKEND) & np.isin(hour, WORKING_HOURS)
    return hours[working]


def diurnal() -> FloatArray:
    """Relative traffic per hour of the day, mean one (a sine peaking mid-afternoon UTC)."""
    hours = np.arange(HOURS)
    shape: FloatArray = 1.0 + np.sin(2 * np.pi * (hours - 9) / HOURS)
    return shape


def simulate(
    profile: Profile, rng: np.random.Generator, series: int, days: int, first_day: int = 0
) -> tuple[FloatArray, FloatArray]:
    """``(total, bad)`` per hour for ``series`` independent stretches of ``days`` days, the
    first of them ``first_day`` days after the history's end (negative: within the history).

    Shapes ``(series, days * 24)``. For latency ``bad`` counts the slow requests.
    """
    p = profile
    hours = days * HOURS
    level = rng.lognormal(-(p.traffic_sigma**2) / 2, p.traffic_sigma, (series, days))
    shape = 1.0 + p.diurnal_amplitude * (diurnal() - 1.0)
    level = level * weekly(p, first_day, days)[None, :]
    mean = (p.requests_per_hour * level)[:, :, None] * shape[None, None, :]
    total = rng.poisson(mean.reshape(series, hours)).astype(np.float64)
    ratio = np.minimum(daily_background(p, rng, series, days) * creep(p, first_day, days), 1.0)
    per_hour = np.repeat(ratio, HOURS, axis=1)
    bad = np.minimum(rng.poisson(total * per_hour).astype(np.float64), total)
    severity = incident_severity(p, rng, series, hours, first_day)
    for also in p.also:  # on the service's own weekly rhythm
        other = also.with_(working_hours_incidents=p.working_hours_incidents)
        severity = np.maximum(severity, incident_severity(other, rng, series, hours, first_day))
    hit = severity > 0
    if hit.any():
        share = np.maximum(severity[hit], per_hour[hit])
        bad[hit] = rng.binomial(total[hit].astype(np.int64), share).astype(np.float64)
    return total, bad


def history(
    profile: Profile, rng: np.random.Generator, series: int
) -> tuple[FloatArray, FloatArray]:
    """``(total, bad)`` per hour for ``series`` histories of ``history_days`` days: with a
    rise, its earlier days at the level before it."""
    p = profile
    if p.rise_days <= 0:
        return simulate(p, rng, series, p.history_days, -p.history_days)
    before = p.with_(background=p.background / p.rise_factor, rise_days=0)
    old_total, old_bad = simulate(
        before, rng, series, p.history_days - p.rise_days, -p.history_days
    )
    total, bad = simulate(p, rng, series, p.rise_days, -p.rise_days)
    return np.concatenate([old_total, total], axis=1), np.concatenate([old_bad, bad], axis=1)


def creep(profile: Profile, first_day: int, days: int) -> FloatArray:
    """Per day of a stretch, the factor on the background's level: one where the history
    ends, doubling every ``doubling_days`` days (all ones without a creep)."""
    if profile.doubling_days <= 0:
        return np.ones(days)
    factor: FloatArray = np.exp2((first_day + np.arange(days)) / profile.doubling_days)
    return factor


def daily_background(
    profile: Profile, rng: np.random.Generator, series: int, days: int
) -> FloatArray:
    """The background's bad share of each day: independent gammas, or a persistent AR(1).

    A persistent series starts in its stationary distribution, so a history and a future
    window are both stretches of the same stationary process.
    """
    p = profile
    if p.background_persistence == 0.0:
        independent: FloatArray = rng.gamma(
            p.background_shape, p.background / p.background_shape, (series, days)
        )
        return independent
    sigma = math.sqrt(math.log1p(1.0 / p.background_shape))
    phi = p.background_persistence
    shocks = rng.standard_normal((series, days))
    level = np.empty((series, days))
    level[:, 0] = shocks[:, 0]
    innovation = math.sqrt(1.0 - phi * phi)
    for day in range(1, days):
        level[:, day] = phi * level[:, day - 1] + innovation * shocks[:, day]
    persistent: FloatArray = p.background * np.exp(sigma * level - sigma * sigma / 2)
    return persistent


def incident_severity(
    profile: Profile, rng: np.random.Generator, series: int, hours: int, first_day: int = 0
) -> FloatArray:
    """Per hour the severity of the incident under way (0 outside incidents).

    Incidents start at ``incident_rate`` a day on average however the hours they may start in
    are restricted (``start_hours``): a deploy-only service has the same incidents a week, all
    of them in working hours.
    """
    p = profile
    severity = np.zeros((series, hours))
    if p.incident_rate <= 0:
        return severity
    rate = np.full(series, p.incident_rate)
    if p.rate_shape > 0:
        rate = rate * rng.gamma(p.rate_shape, 1.0 / p.rate_shape, series)
    counts = rng.poisson(rate * hours / HOURS)
    n = int(counts.sum())
    if n == 0:
        return severity
    rows = np.repeat(np.arange(series), counts)
    allowed = start_hours(p, first_day, hours // HOURS)
    starts = allowed[rng.integers(0, len(allowed), n)]
    durations = incident_durations(p, rng, n)
    if p.follow_up_probability > 0:
        rows, starts, durations = follow_ups(p, rng, rows, starts, durations)
        n = len(rows)
    a = p.severity_mean * p.severity_concentration
    b = (1.0 - p.severity_mean) * p.severity_concentration
    sizes = rng.beta(a, b, n) if p.severity_mean < 1 else np.ones(n)
    offsets = np.arange(int(durations.max()))
    cols = starts[:, None] + offsets[None, :]
    keep = (offsets[None, :] < durations[:, None]) & (cols < hours)
    r = np.broadcast_to(rows[:, None], cols.shape)[keep]
    s = np.broadcast_to(sizes[:, None], cols.shape)[keep]
    np.maximum.at(severity, (r, cols[keep]), s)
    return severity


def follow_ups(
    profile: Profile,
    rng: np.random.Generator,
    rows: npt.NDArray[np.intp],
    starts: npt.NDArray[np.intp],
    durations: npt.NDArray[np.intp],
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """The incidents with their follow-ups, generation by generation (a geometric cluster).

    A follow-up past the end of the stretch is kept in the arrays and clipped by the caller.
    """
    p = profile
    all_rows, all_starts, all_durations = [rows], [starts], [durations]
    while len(rows):
        spawn = rng.random(len(rows)) < p.follow_up_probability
        gaps = rng.integers(1, p.follow_up_hours + 1, int(spawn.sum()))
        rows, starts = rows[spawn], starts[spawn] + durations[spawn] + gaps
        durations = incident_durations(p, rng, len(rows))
        all_rows.append(rows)
        all_starts.append(starts)
        all_durations.append(durations)
    return np.concatenate(all_rows), np.concatenate(all_starts), np.concatenate(all_durations)


def incident_durations(profile: Profile, rng: np.random.Generator, n: int) -> npt.NDArray[np.intp]:
    """Whole hours, at least one, at most ``duration_max_hours``."""
    p = profile
    if p.pareto_alpha > 0:
        raw = p.duration_median_hours * (1.0 + rng.pareto(p.pareto_alpha, n))
    else:
        raw = rng.lognormal(math.log(p.duration_median_hours), p.duration_sigma, n)
    return np.clip(np.ceil(raw), 1, p.duration_max_hours).astype(np.intp)


def latency_split(
    profile: Profile, rng: np.random.Generator, total: FloatArray, slow: FloatArray
) -> FloatArray:
    """Cumulative histograms ``(..., bounds)`` of ``total`` requests, ``slow`` of them slow.

    Works per row of any shape: per hour for a history, per window for the future.
    """
    fast_p = _bucket_probabilities(profile.fast_median, profile.fast_sigma)
    slow_p = _bucket_probabilities(profile.slow_median, profile.slow_sigma)
    flat_total = total.reshape(-1).astype(np.int64)
    flat_slow = slow.reshape(-1).astype(np.int64)
    counts = rng.multinomial(flat_total - flat_slow, fast_p) + rng.multinomial(flat_slow, slow_p)
    cumulative: FloatArray = np.cumsum(counts, axis=1).astype(np.float64)
    return cumulative.reshape(*total.shape, len(BOUNDS))


def _bucket_probabilities(median: float, sigma: float) -> FloatArray:
    """Lognormal mass in each histogram bucket ``(bounds[j-1], bounds[j]]``."""
    finite = np.asarray(BOUNDS[:-1])
    z = (np.log(finite) - math.log(median)) / sigma
    cdf = np.array([0.5 * math.erfc(-float(v) / math.sqrt(2)) for v in z])
    mass: FloatArray = np.diff(np.concatenate([[0.0], cdf, [1.0]]))
    normalized: FloatArray = mass / mass.sum()
    return normalized


def future_windows(
    profile: Profile,
    rng: np.random.Generator,
    *,
    windows: int,
    window_days: int,
    chunk: int = 4000,
) -> Iterator[tuple[FloatArray, FloatArray]]:
    """Window sums ``(total, bad)`` of independent future windows, in chunks (memory bound)."""
    done = 0
    while done < windows:
        n = min(chunk, windows - done)
        total, bad = simulate(profile, rng, n, window_days)
        yield total.sum(axis=1), bad.sum(axis=1)
        done += n
