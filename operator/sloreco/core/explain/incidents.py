"""Incident detection: the hours whose bad events stood far above the service's normal.

Its own module because more than the wording depends on it: the engine flags incident buckets
for both SLIs (errors for availability, slow requests for latency), the availability
counterfactual reruns the tiers with exactly those buckets at the normal ratio
(``availability.without_incidents``), and the explanation lists the largest. An incident's
weight is its share of all bad events — computed from the data (SPEC §3.3), never a fixed weight
presented as attribution.
"""

from __future__ import annotations

import numpy as np

from sloreco.core import history, results

FloatArray = history.FloatArray
BoolArray = history.BoolArray

#: An hour is part of an incident when its error ratio is at least ten times (one order of
#: magnitude) the normal ratio…
INCIDENT_FACTOR = 10.0
#: …and its excess over the normal count is beyond Poisson noise: 4 standard deviations, a
#: 3-in-100,000 chance per hour, so a steady service shows a false incident once in ~3.5 years
#: of hourly buckets (and at high traffic the tenfold factor binds first anyway).
INCIDENT_SIGMAS = 4.0
#: …and it holds at least this many bad events: a single failed request is never an incident.
INCIDENT_MIN_EVENTS = 3.0
#: Incidents listed in the explanation, the largest first (the rest still count in the share).
INCIDENTS_LISTED = 5


def baseline_ratio(bad: FloatArray, total: FloatArray) -> float:
    """The service's normal bad-event ratio: the traffic-weighted median of daily ratios.

    A median, so incidents do not raise what counts as normal; of days rather than hours, so
    that at low traffic it is not zero just because most hours see no error at all.
    """
    keep = total > 0
    if not keep.any():
        return 0.0
    ratios, weights = bad[keep] / total[keep], total[keep]
    order = np.argsort(ratios, kind="stable")
    cumulative = np.cumsum(weights[order])
    middle = int(np.searchsorted(cumulative, cumulative[-1] / 2))
    return float(ratios[order][middle])


def incident_mask(bad: FloatArray, total: FloatArray, baseline: float | FloatArray) -> BoolArray:
    """Buckets whose bad events stand well above ``baseline`` (see the constants above): one
    normal ratio, or one per bucket (``core.evidence`` after a rise)."""
    expected = baseline * total
    floor = np.maximum(
        np.maximum(INCIDENT_FACTOR * expected, expected + INCIDENT_SIGMAS * np.sqrt(expected)),
        INCIDENT_MIN_EVENTS,
    )
    flagged: BoolArray = (total > 0) & (bad >= floor)
    return flagged


def incidents(
    bad: FloatArray, total: FloatArray, mask: BoolArray, *, start: int, bucket_seconds: int
) -> tuple[tuple[results.Incident, ...], float]:
    """The largest incidents (runs of flagged buckets) and the share of all bad events in any."""
    all_bad = float(bad.sum())
    if all_bad <= 0:
        return (), 0.0
    found = []
    for first, end in history.runs(mask):
        events = float(bad[first:end].sum())
        ratios = bad[first:end] / np.maximum(total[first:end], 1e-300)
        found.append(
            results.Incident(
                start=start + first * bucket_seconds,
                end=start + end * bucket_seconds,
                bad_events=events,
                share=events / all_bad,
                peak_ratio=float(ratios.max()),
            )
        )
    found.sort(key=lambda i: (-i.bad_events, i.start))
    return tuple(found[:INCIDENTS_LISTED]), float(bad[mask].sum()) / all_bad
