"""Bucketed history: the one shape every source produces and the statistics consume.

A history is a regular grid of buckets (hourly by default) from ``start`` to ``end``. Bucket
``i`` covers ``[start + i*bucket, start + (i+1)*bucket)``. A missing bucket (no data, a scrape gap,
a value that was NaN/Inf/negative at the source) is ``NaN`` in every array, so coverage and gaps
are visible downstream; an *excluded* bucket (maintenance window) is marked in ``excluded`` and is
also ``NaN``. Sources (``prometheus``, the CLI's JSON input, ``synth``) build these; nothing in the
statistics ever sees a NaN/Inf/negative count as data.

Times are whole epoch seconds (UTC); the core never reads the clock.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import overload

import numpy as np
import numpy.typing as npt

from sloreco import errors

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclasses.dataclass(frozen=True, eq=False)
class AvailabilityHistory:
    """Per-bucket request counts: ``total`` and ``bad`` (errors), traffic-weighted by count."""

    bucket_seconds: int
    start: int
    total: FloatArray
    bad: FloatArray
    excluded: BoolArray

    @property
    def end(self) -> int:
        return self.start + self.bucket_seconds * len(self.total)

    def span(self, first: int, last: int | None = None) -> AvailabilityHistory:
        """Buckets ``[first, last)`` of this history, starting where the first of them does."""
        return dataclasses.replace(
            self,
            start=self.start + first * self.bucket_seconds,
            total=self.total[first:last],
            bad=self.bad[first:last],
            excluded=self.excluded[first:last],
        )


@dataclasses.dataclass(frozen=True, eq=False)
class LatencyHistory:
    """Per-bucket histogram increments, cumulative over ``bounds`` (Prometheus ``le``).

    ``cumulative[i, j]`` is the number of requests in bucket ``i`` that took at most
    ``bounds[j]`` seconds; ``bounds`` is strictly increasing and ends with ``inf``.
    """

    bucket_seconds: int
    start: int
    bounds: tuple[float, ...]
    cumulative: FloatArray
    excluded: BoolArray
    #: Bounds the source saw in only part of the history (its buckets changed) and left out,
    #: so that the rest of the history could be read whole; the result says so.
    partial_bounds: tuple[float, ...] = ()

    @property
    def end(self) -> int:
        return self.start + self.bucket_seconds * len(self.cumulative)

    def span(self, first: int, last: int | None = None) -> LatencyHistory:
        """Buckets ``[first, last)`` of this history, starting where the first of them does."""
        return dataclasses.replace(
            self,
            start=self.start + first * self.bucket_seconds,
            cumulative=self.cumulative[first:last],
            excluded=self.excluded[first:last],
        )


@dataclasses.dataclass(frozen=True)
class Exclusion:
    """A maintenance window removed from the history: ``[start, end)`` in epoch seconds."""

    start: int
    end: int
    reason: str = ""


# --- Pure functions over histories: exclusions, cleaning, coverage, gaps, days. ----------------

#: Seconds in a day: the unit the bootstrap resamples (SPEC §3.1, "moving-block bootstrap of days").
SECONDS_PER_DAY = 86400


def excluded_mask(
    *, start: int, bucket_seconds: int, buckets: int, exclusions: Sequence[Exclusion]
) -> BoolArray:
    """Buckets that overlap any exclusion ``[start, end)``, even partly.

    A bucket only partly inside a maintenance window still holds the maintenance's errors, so it
    goes as a whole: an exclusion removes exactly the buckets it touches, no more.
    """
    mask = np.zeros(buckets, dtype=np.bool_)
    for exclusion in exclusions:
        first = max(0, (exclusion.start - start) // bucket_seconds)
        last = min(buckets, -(-(exclusion.end - start) // bucket_seconds))  # ceil division
        if last > first:
            mask[first:last] = True
    return mask


@overload
def exclude(
    history: AvailabilityHistory, exclusions: Sequence[Exclusion]
) -> AvailabilityHistory: ...
@overload
def exclude(history: LatencyHistory, exclusions: Sequence[Exclusion]) -> LatencyHistory: ...
def exclude(
    history: AvailabilityHistory | LatencyHistory, exclusions: Sequence[Exclusion]
) -> AvailabilityHistory | LatencyHistory:
    """The history with the buckets that ``exclusions`` touch marked excluded and set to NaN."""
    if isinstance(history, AvailabilityHistory):
        mask = history.excluded | excluded_mask(
            start=history.start,
            bucket_seconds=history.bucket_seconds,
            buckets=len(history.total),
            exclusions=exclusions,
        )
        return dataclasses.replace(
            history,
            total=np.where(mask, np.nan, history.total),
            bad=np.where(mask, np.nan, history.bad),
            excluded=mask,
        )
    mask = history.excluded | excluded_mask(
        start=history.start,
        bucket_seconds=history.bucket_seconds,
        buckets=len(history.cumulative),
        exclusions=exclusions,
    )
    return dataclasses.replace(
        history, cumulative=np.where(mask[:, None], np.nan, history.cumulative), excluded=mask
    )


def clean_availability(history: AvailabilityHistory) -> tuple[FloatArray, FloatArray, BoolArray]:
    """``(total, bad, present)`` with every non-present bucket zeroed.

    A bucket is present when it is not excluded and both counts are finite and non-negative;
    sources should already have turned NaN/Inf/negative increases into gaps, but the statistics
    must never see one, so this checks again. ``bad`` is clipped to ``total``: ``increase()``
    extrapolates each counter separately, so a low-traffic bucket can show slightly more errors
    than requests, and "every request failed" is the most that can have happened.
    """
    total = np.asarray(history.total, dtype=np.float64)
    bad = np.asarray(history.bad, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        present = (
            ~np.asarray(history.excluded, dtype=np.bool_)
            & np.isfinite(total)
            & np.isfinite(bad)
            & (total >= 0)
            & (bad >= 0)
        )
    total = np.where(present, total, 0.0)
    bad = np.minimum(np.where(present, bad, 0.0), total)
    return total, bad, present


def clean_latency(history: LatencyHistory) -> tuple[FloatArray, BoolArray]:
    """``(counts, present)``: per-bucket, per-bound *non-cumulative* request counts.

    Column ``j`` counts requests in ``(bounds[j-1], bounds[j]]``. A bucket is present when it is
    not excluded and every cumulative count is finite and non-negative. Cumulative counts that
    decrease along ``le`` (``increase()`` extrapolates each series on its own) give negative
    differences; those are clipped to zero, the only count a bucket can really hold.
    """
    cumulative = np.asarray(history.cumulative, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        present = (
            ~np.asarray(history.excluded, dtype=np.bool_)
            & np.isfinite(cumulative).all(axis=1)
            & (cumulative >= 0).all(axis=1)
        )
    cumulative = np.where(present[:, None], cumulative, 0.0)
    counts = np.diff(cumulative, axis=1, prepend=0.0)
    return np.maximum(counts, 0.0), present


@dataclasses.dataclass(frozen=True)
class Lead:
    """The buckets before a history's first request, and how many of them held data (zeros)."""

    buckets: int
    present: int


@overload
def since_first_request(history: AvailabilityHistory) -> tuple[AvailabilityHistory, Lead]: ...
@overload
def since_first_request(history: LatencyHistory) -> tuple[LatencyHistory, Lead]: ...
def since_first_request(
    history: AvailabilityHistory | LatencyHistory,
) -> tuple[AvailabilityHistory | LatencyHistory, Lead]:
    """The history from the bucket of its first request on, and what came before it.

    Before its first request a service was not there to fail: a launch inside the lookback, a
    counter exported before traffic reached it, a lookback longer than the data kept. Read as
    history, days of zeros would count as days without an incident, and the incident rate would
    come out low by their share (measured, ``rare-outage`` with 60 such days before 30 served,
    fleet prior: aggressive breach 2.78x the promise), and the bootstrap had too few days with
    requests for the blocks it drew at some backtest origins. A bucket the user excluded ends
    the lead (it stays, counted as excluded); a history without a request is returned whole,
    for the guards to say so.
    """
    if isinstance(history, AvailabilityHistory):
        total, _, present = clean_availability(history)
    else:
        counts, present = clean_latency(history)
        total = counts.sum(axis=1)
    if not (total > 0).any():
        return history, Lead(0, 0)
    first = int(np.flatnonzero((total > 0) | np.asarray(history.excluded, dtype=np.bool_))[0])
    lead = Lead(first, int(np.count_nonzero(present[:first])))
    return (history.span(first) if first else history), lead


def buckets_per_day(bucket_seconds: int) -> int:
    """How many buckets make a day; the bucket must divide a day evenly."""
    if bucket_seconds <= 0 or SECONDS_PER_DAY % bucket_seconds:
        raise errors.InputError(
            f"bucket of {bucket_seconds}s does not divide a day evenly", field="bucket"
        )
    return SECONDS_PER_DAY // bucket_seconds


def daily_sums(values: FloatArray, *, bucket_seconds: int) -> FloatArray:
    """Sum ``values`` (buckets along axis 0) into days that end at the history's end.

    Days are anchored at the end, so the most recent day is complete and the data end (aligned
    to the bucket) decides them, not the calendar; a partial first day is padded with zeros.
    """
    per_day = buckets_per_day(bucket_seconds)
    days = -(-len(values) // per_day)
    pad = days * per_day - len(values)
    padded = np.concatenate([np.zeros((pad, *values.shape[1:])), values])
    summed: FloatArray = padded.reshape(days, per_day, *values.shape[1:]).sum(axis=1)
    return summed


def runs(mask: BoolArray) -> list[tuple[int, int]]:
    """Maximal runs of ``True`` as ``(first, end)`` index pairs (``end`` exclusive)."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    return [(int(a), int(b)) for a, b in zip(starts, ends, strict=True)]


def gaps(present: BoolArray, excluded: BoolArray) -> list[tuple[int, int]]:
    """Runs of missing buckets (neither present nor excluded), as bucket index pairs."""
    return runs(~present & ~excluded)


def coverage(present: BoolArray, excluded: BoolArray) -> float:
    """Share of the non-excluded buckets that hold data (exclusions are intended, not missing)."""
    expected = int(np.count_nonzero(~excluded))
    return float(np.count_nonzero(present)) / expected if expected else 0.0
