"""What a history says about its incidents: the evidence the incident model (``predictive``) reads.

A cleaned history is split into its background — each day's bad events with incident hours put
back at the normal ratio, which the block bootstrap resamples — and its incidents: contiguous
flagged runs (``explain.incidents``'s detector, read in hours: ``detection``), merged across
short dips, each sized in full-outage-equivalent minutes, and joined into bursts when they
follow each other within a day.
The burst is the arrival the rate counts and the size the posterior fits; the explanation counts
both. Split from ``predictive`` so that the model reads one value, and the fleet prior
(``fleetpool.pool``) pools the same per-service statistics the model fits.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from sloreco.core import busy, detection, history, persistence, prior, shift
from sloreco.core import trend as trend_
from sloreco.core.explain import incidents
from sloreco.core.fleettrend import FleetGrowth

FloatArray = history.FloatArray
BoolArray = history.BoolArray

#: Flagged runs that cost less than a minute of full outage (0.0025% of a 28-day window) are
#: left in the background, where the bootstrap replays them as they were: at high traffic a
#: handful of stray errors in one hour passes the detector's floor, and modelling such blips as
#: incidents would put a tenth-of-a-minute "incident" into the size fit and widen its tail by
#: orders of magnitude (measured on the calibration suite's very-reliable profile).
MIN_SIZE_MINUTES = 1.0
#: Incidents that start within a day of the previous one's end are one *burst*: the burst is
#: what arrives at the Poisson rate, and its size is the sum of its incidents'. A deploy, its
#: rollback and the redeploy that fails again are not independent arrivals; counted apart, a
#: clustered service's windows were modelled as far less dispersed than they are (measured:
#: the calibration suite's clustered profile, a follow-up within a day with probability 0.5,
#: fleet prior balanced breach 1.7x -> 0.2x). A day, because deploys and their follow-ups
#: run on a day's cadence. Joining two incidents that were in fact independent keeps every
#: window's loss and only overstates its spread (a compound Poisson of the sums has the larger
#: variance), the side a tier can afford.
BURST_GAP_SECONDS = 86400


@dataclasses.dataclass(frozen=True, slots=True)
class Outlook:
    """What a forecast reads a history with. The default: no window ahead and no fleet (a
    fleet's own statistics)."""

    #: How far past the history's end the forecast's window runs on average: half its length
    #: (``trend.rebase``).
    ahead_days: float = 0.0
    #: How the service's fleet creeps (``fleettrend``), which a creep is read with; None: the
    #: history alone.
    fleet_growth: FleetGrowth | None = None


@dataclasses.dataclass(frozen=True, eq=False)
class Evidence:
    """What a history says about its incidents, and its background without them."""

    #: Per day (``history.daily_sums`` grid): bad events with incident hours at the normal ratio.
    calm_daily: FloatArray
    #: Log of each burst's size (``BURST_GAP_SECONDS``) in full-outage minutes, in time order.
    log_sizes: FloatArray
    exposure_days: float
    #: Incidents seen, before those less than ``BURST_GAP_SECONDS`` apart were joined into
    #: bursts (what the explanation counts).
    incidents: int
    #: Per day: all events (the same grid as ``calm_daily``).
    daily_total: FloatArray
    #: Per bucket: the normal bad ratio the incidents stood out against (the history's, or
    #: after a ``rise`` the risen level since it).
    normal: FloatArray
    #: Per bucket: whether the detector flagged it (its hour, where buckets are finer:
    #: ``detection.SECONDS``). The explanation lists these incidents: those the model read.
    flagged: BoolArray
    #: The first bucket of a burst still under way when the history ends, if one is.
    open_from: int | None = None
    #: What the forecast reads the history with (``Outlook``).
    outlook: Outlook = Outlook()
    #: The busy hours' traffic over the mean (``busy.factor``): what a minute of an outage the
    #: history did not show costs, under a prior that assumes its size (``predictive``).
    busy: float = 1.0

    @property
    def ahead_days(self) -> float:
        return self.outlook.ahead_days

    @functools.cached_property
    def days(self) -> FloatArray:
        """The background's days with traffic as they were, ``(days, [bad, total])``."""
        keep = self.daily_total > 0
        days: FloatArray = np.stack([self.calm_daily[keep], self.daily_total[keep]], axis=1)
        return days

    @functools.cached_property
    def rise(self) -> shift.Rise | None:
        """A rise of the background in its last days that its drift does not explain."""
        return shift.find(self.days)

    @functools.cached_property
    def trend(self) -> trend_.Trend | None:
        """A creep of the background through the history (``trend``). Where a ``rise`` is read
        as well, the step where it fits clearly better (``trend.step_fits_better``) unless the
        fleet creeps (``trend.creeps``), else whichever leads higher: a creep reads as a step
        too, at the level of its last weeks."""
        found = trend_.find(self.days, self.outlook.fleet_growth)
        if found is None or self.rise is None:
            return found
        fleet_creeps = trend_.creeps(self.outlook.fleet_growth)
        if not fleet_creeps and trend_.step_fits_better(self.days, found.level, self.rise.days):
            return None
        step = shift.rebase(self.days, self.rise)
        curve = trend_.rebase(self.days, found, self.ahead_days)
        return found if float(curve[:, 0].sum()) > float(step[:, 0].sum()) else None

    @functools.cached_property
    def pool(self) -> FloatArray:
        """What the bootstrap resamples: the days, scaled to where a ``trend`` leads halfway
        through the window ahead (``trend.rebase``), or those before a ``rise`` to its level
        (``shift.rebase``)."""
        if self.trend is not None:
            return trend_.rebase(self.days, self.trend, self.ahead_days)
        return self.days if self.rise is None else shift.rebase(self.days, self.rise)

    @functools.cached_property
    def spells(self) -> persistence.Persistence | None:
        """How the background drifts from day to day (``persistence.Persistence.read``): the
        reading the forecast widens with and the fleet pools, read once, of the days as they
        were (a ``rise`` moves the level, not the spells around it)."""
        return persistence.Persistence.read(self.days)

    @property
    def count(self) -> int:
        """Bursts: the arrivals the rate counts and the sizes the posterior fits."""
        return len(self.log_sizes)

    def stats(self) -> prior.ServiceStats:
        """What a fleet prior pools from this service (``fleetpool.pool``)."""
        background = self.spells
        if not self.count and background is None:
            return _quiet(self.exposure_days)
        return prior.ServiceStats(
            incidents=self.count,
            exposure_days=self.exposure_days,
            log_sum=float(self.log_sizes.sum()),
            log_square_sum=float((self.log_sizes**2).sum()),
            log_sizes=tuple(float(v) for v in self.log_sizes),
            background=background,
            growth=trend_.read(self.days, None if self.rise is None else self.rise.days),
        )


@functools.lru_cache(maxsize=64)
def _quiet(exposure_days: float) -> prior.ServiceStats:
    """No incident and no bad event in this many days: one shared value, since the operator's
    fleet keeps a latency SLI's statistics at every bound, and most high bounds of most SLIs
    saw no slow request at all."""
    return prior.ServiceStats(incidents=0, exposure_days=exposure_days)


#: Splits of a history with a rise: the first judges every hour against the history's normal
#: ratio, and a tenfold rise of the background passes the detector's floor in about half its
#: hours, which that split takes for incidents and puts back at the normal ratio. Each further
#: split judges the days since the rise against the level the last one read. Measured (20
#: histories of 'steady' whose background rose tenfold 14 days before their end): one split
#: read a 4.7x rise and 10 incidents in 3.4 bursts; two, 9.7x and 0.8 incidents; three, 9.7x
#: and 0.5. Thirtyfold (``OPEN_BURST_DAYS``): one split, no rise and 2.9 incidents; two, 26x;
#: three, 28x and 0.8 incidents. Calibration harness, fleet prior, 60 histories risen tenfold:
#: aggressive breached 10.7x its promise after one split, 0.0x after three.
RISE_PASSES = 3


def of(
    bad: FloatArray,
    total: FloatArray,
    present: BoolArray,
    *,
    bucket_seconds: int,
    outlook: Outlook = Outlook(),
) -> Evidence:
    """Split a cleaned history (``history.clean_availability``'s arrays) into its two parts,
    read with ``outlook`` (``Outlook``; the default's without).

    After a ``rise`` the split is made again with the days since judged against their own
    normal level (``RISE_PASSES``).
    """
    hours = _Hours.of(bad, total, present, bucket_seconds=bucket_seconds, outlook=outlook)
    baseline = incidents.baseline_ratio(
        history.daily_sums(bad, bucket_seconds=bucket_seconds), hours.daily_total
    )
    read = len(hours.total)
    found = _split(hours, np.full(read, baseline))
    for _ in range(RISE_PASSES - 1):
        level = _risen(found, hours)
        if level is None:
            break
        normal = np.full(read, baseline)
        normal[level[0] :] *= level[1]
        again = _split(hours, normal)
        if again.rise is None:
            break
        settled = again.rise == found.rise
        found = again
        if settled:
            break
    step = hours.bucket_seconds // bucket_seconds  # the caller's buckets in one read
    if step == 1:
        return found
    # Back to the caller's buckets: each of an hour's the hour's normal ratio and flag.
    return dataclasses.replace(
        found,
        normal=np.repeat(found.normal, step)[-len(total) :],
        flagged=np.repeat(found.flagged, step)[-len(total) :],
        open_from=None,  # an index into the hours, read only by ``_risen`` above
    )


#: A burst still under way that has lasted this long is the level the service runs at now, not
#: an incident: a week, ``shift.MIN_RECENT_DAYS``, the shortest stretch a rise is read from. A
#: thirtyfold rise of the background passes the detector's floor in nearly every hour, so the
#: first split holds no rise to read, only one long incident that has not ended (measured:
#: 'steady' risen thirtyfold 14 days before its end, fleet prior, 60 histories: aggressive
#: breached 3.9x its promise; read as the level now, 0.33x, at a balanced budget 6.0x the
#: oracle's, since the spells are read of the days as they were, step included).
OPEN_BURST_DAYS = shift.MIN_RECENT_DAYS


@dataclasses.dataclass(frozen=True, eq=False)
class _Hours:
    """A cleaned history, in the buckets the detector reads (``detection.step``), and what
    every split of it shares, computed once."""

    bad: FloatArray
    total: FloatArray
    bucket_seconds: int
    daily_total: FloatArray
    exposure_days: float
    #: Requests a minute while data was present (an incident's size in full-outage minutes).
    per_minute: float
    outlook: Outlook
    busy: float

    @classmethod
    def of(
        cls,
        bad: FloatArray,
        total: FloatArray,
        present: BoolArray,
        *,
        bucket_seconds: int,
        outlook: Outlook,
    ) -> _Hours:
        daily_total = history.daily_sums(total, bucket_seconds=bucket_seconds)
        # Exposure is the time the service served: a whole day without a request (a month
        # failed over to another region, a service idle between launches) could not show an
        # incident, and read as a day without one it would lower the rate by its share. The
        # days are those the background's pool keeps (``Evidence.pool``: traffic above zero).
        per_day = history.buckets_per_day(bucket_seconds)
        day = (np.arange(len(total)) + len(daily_total) * per_day - len(total)) // per_day
        served = present & (daily_total > 0)[day]
        present_buckets = int(np.count_nonzero(served))
        exposure = present_buckets * bucket_seconds / history.SECONDS_PER_DAY
        per_minute = (
            float(total.sum()) / (present_buckets * bucket_seconds / 60) if exposure else 0.0
        )
        step = detection.step(bucket_seconds)
        hourly = detection.coarse(total, step)
        served_hours = detection.coarse(served.astype(np.float64), step) > 0
        return cls(
            detection.coarse(bad, step),
            hourly,
            bucket_seconds * step,
            daily_total,
            exposure,
            per_minute,
            outlook,
            busy.factor(hourly, served_hours, bucket_seconds=bucket_seconds * step),
        )


def _risen(found: Evidence, hours: _Hours) -> tuple[int, float] | None:
    """Where the next split's normal level rises, and by how much: from the rise ``found``
    read, or else from a burst under way for ``OPEN_BURST_DAYS`` (its own ratio over the
    normal one)."""
    total = hours.total
    if found.rise is not None:
        first = _first_bucket(hours.daily_total, found.rise.days, len(total), hours.bucket_seconds)
        return first, found.rise.factor
    start = found.open_from
    if (
        start is None
        or (len(total) - start) * hours.bucket_seconds < OPEN_BURST_DAYS * history.SECONDS_PER_DAY
    ):
        return None
    normal = float(found.normal[start])
    since = float(hours.bad[start:].sum()) / float(total[start:].sum())
    if normal <= 0 or since <= normal:
        return None
    return start, since / normal


def _first_bucket(daily_total: FloatArray, days: int, buckets: int, bucket_seconds: int) -> int:
    """The first bucket of the last ``days`` days with traffic (``history.daily_sums``' days,
    anchored at the end)."""
    per_day = history.buckets_per_day(bucket_seconds)
    pad = len(daily_total) * per_day - buckets
    first_day = int(np.flatnonzero(daily_total > 0)[-days])
    return max(first_day * per_day - pad, 0)


def _split(hours: _Hours, normal: FloatArray) -> Evidence:
    """Incidents: buckets that stand out against their ``normal`` ratio; the rest background."""
    bad, total, bucket_seconds = hours.bad, hours.total, hours.bucket_seconds
    per_minute = hours.per_minute
    mask = incidents.incident_mask(bad, total, normal)
    expected = normal * total
    excess = np.maximum(bad - expected, 0.0)
    sizes: list[float] = []
    seen, kept_mask, last_end, burst = 0, np.zeros_like(mask), None, 0
    for first, end in (
        detection.merged_runs(mask, detection.MERGE_GAP_BUCKETS) if per_minute > 0 else []
    ):
        size = float(excess[first:end].sum()) / per_minute
        if size >= MIN_SIZE_MINUTES:
            if last_end is not None and (first - last_end) * bucket_seconds <= BURST_GAP_SECONDS:
                sizes[-1] += size  # the same burst
            else:
                sizes.append(size)
                burst = first
            kept_mask[first:end] = mask[first:end]
            last_end = end
            seen += 1
    calm = np.where(kept_mask, np.minimum(expected, bad), bad)
    kept = np.asarray(sizes, dtype=np.float64)
    return Evidence(
        calm_daily=history.daily_sums(calm, bucket_seconds=bucket_seconds),
        log_sizes=np.log(kept),
        exposure_days=hours.exposure_days,
        incidents=seen,
        daily_total=hours.daily_total,
        normal=normal,
        flagged=mask,
        open_from=burst
        if last_end is not None and last_end >= len(total) - detection.MERGE_GAP_BUCKETS
        else None,
        outlook=hours.outlook,
        busy=hours.busy,
    )
