"""Where the incident detector reads a history: in buckets of an hour at least, and with runs
of flagged buckets merged across short dips.

Its own module because the detector's constants (``explain.incidents``) are an hour's, whatever
bucket a source or an input file gives: ``evidence`` sums finer buckets into hours here before
it splits a history into its background and its incidents.
"""

from __future__ import annotations

import numpy as np

from sloreco.core import history

FloatArray = history.FloatArray
BoolArray = history.BoolArray

#: Incidents are read in buckets of an hour at least: the detector's floor
#: (``explain.incidents``: ten times the normal ratio, beyond an hour's Poisson noise, three
#: bad events) and ``MERGE_GAP_BUCKETS`` are an hour's, so finer buckets
#: are summed into hours before they are read (``step``). The days the background is
#: read from are the same sums either way. Measured (the calibration suite read at five-minute
#: buckets, ``bench.calibrate --buckets-per-hour 12``, fleet prior, 100 histories): at 20
#: requests an hour a five-minute bucket holds under two requests, never the three bad events
#: an incident needs, so ``low-traffic``'s fleet saw 39 of the 95 incidents its histories read
#: hourly and breached balanced 2.37x its promise (0.38x hourly); read in hours, as hourly.
SECONDS = 3600
#: Flagged runs separated by at most this many unflagged buckets are one incident: an outage
#: whose error ratio dips for an hour is still one outage (counting it twice would double the
#: rate and halve the size). One bucket is an hour at the default resolution and at any finer
#: one (``SECONDS``).
MERGE_GAP_BUCKETS = 1


def step(bucket_seconds: int) -> int:
    """How many buckets the detector reads as one: as many as an hour holds (``SECONDS``) —
    fewer where that many would not divide a day — and one for buckets of an hour or longer."""
    per_day = history.buckets_per_day(bucket_seconds)
    buckets = max(SECONDS // bucket_seconds, 1)
    while per_day % buckets:
        buckets -= 1
    return buckets


def coarse(values: FloatArray, step: int) -> FloatArray:
    """``values`` summed over ``step`` buckets, anchored at the end (``history.daily_sums``)."""
    if step == 1:
        return values
    count = -(-len(values) // step)
    padded = np.concatenate([np.zeros(count * step - len(values)), values])
    summed: FloatArray = padded.reshape(count, step).sum(axis=1)
    return summed


def merged_runs(mask: BoolArray, gap: int) -> list[tuple[int, int]]:
    """``history.runs`` with runs at most ``gap`` buckets apart joined."""
    merged: list[tuple[int, int]] = []
    for first, end in history.runs(mask):
        if merged and first - merged[-1][1] <= gap:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((first, end))
    return merged
