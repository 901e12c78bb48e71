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

import numpy as np
import numpy.typing as npt

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

    @property
    def end(self) -> int:
        return self.start + self.bucket_seconds * len(self.cumulative)


@dataclasses.dataclass(frozen=True)
class Exclusion:
    """A maintenance window removed from the history: ``[start, end)`` in epoch seconds."""

    start: int
    end: int
    reason: str = ""
