"""A generated service's history as readers see it: the ground truth a perfect reader returns,
and the counters a real Prometheus serves (OpenMetrics).

:mod:`.synth` generates per-step increments; this module renders them twice, and the two must
agree to the last request:

* bucketed into ``history.AvailabilityHistory`` / ``history.LatencyHistory``, what a reader of
  the real server must return;
* as OpenMetrics text for ``promtool tsdb create-blocks-from openmetrics``, so a real Prometheus
  serves exactly these counters.

Counters are sampled every ``step`` seconds from ``first`` (where every series is pre-created at
0, so ``increase()`` sees the first increment) to ``end``. Step ``k`` covers
``(first + k*step, first + (k+1)*step]``; a bucket ``[s, s+b)`` holds the steps whose end lies in
``(s, s+b]``, which is what ``increase(x[b])`` evaluated at ``s+b`` measures when samples sit on
the step grid (Prometheus 2.x range selectors are closed, so no extrapolation happens).

Kept apart from :mod:`.synth` so that the profiles (the shape of each service's traffic) read on
their own, and the bucket and counter arithmetic that every backend test leans on reads here.
Pure numpy and the standard library: no I/O besides the writer's file handles.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator
from typing import IO

import numpy as np
import numpy.typing as npt

from sloreco.core import history
from sloreco.sources.synth import BOUNDS, IntArray, Service, ServiceData, Timeline, generate

REQUESTS_METRIC = "http_requests"  # counter family; samples are ``http_requests_total``
LATENCY_METRIC = "http_request_duration_seconds"  # histogram family; we write ``_bucket`` only
CODES = ("200", "500")


# --- ground truth -------------------------------------------------------------------------


def _bucket_sums(
    data: ServiceData,
    increments: npt.NDArray[np.int64],
    *,
    start: int,
    end: int,
    bucket_seconds: int,
) -> npt.NDArray[np.float64]:
    """Sum per-step increments into the grid's buckets; NaN where the data does not cover the
    whole bucket (Prometheus sees fewer than two samples there, or would extrapolate)."""
    if bucket_seconds % data.step or (end - start) % bucket_seconds:
        raise ValueError("bucket must be a multiple of the step and divide [start, end)")
    n = (end - start) // bucket_seconds
    out = np.full((n, *increments.shape[1:]), math.nan)
    if data.first is None or (start - data.first) % data.step:
        return out
    last = data.first + data.steps * data.step
    # Buckets [lo, lo+b) wholly inside [first, last]: i from ceil((first-start)/b) while fits.
    lo_index = max(0, -((start - data.first) // bucket_seconds))
    hi_index = min(n, (last - start) // bucket_seconds)
    if hi_index <= lo_index:
        return out
    per = bucket_seconds // data.step
    k0 = (start + lo_index * bucket_seconds - data.first) // data.step
    chunk = increments[k0 : k0 + (hi_index - lo_index) * per]
    out[lo_index:hi_index] = chunk.reshape(hi_index - lo_index, per, *chunk.shape[1:]).sum(axis=1)
    return out


def availability_history(
    data: ServiceData, *, start: int, end: int, bucket_seconds: int
) -> history.AvailabilityHistory:
    """The exact per-bucket counts a perfect reader returns for ``data`` on ``[start, end)``."""
    total = _bucket_sums(
        data, data.ok + data.errors, start=start, end=end, bucket_seconds=bucket_seconds
    )
    bad = _bucket_sums(data, data.errors, start=start, end=end, bucket_seconds=bucket_seconds)
    return history.AvailabilityHistory(
        bucket_seconds=bucket_seconds,
        start=start,
        total=total,
        bad=bad,
        excluded=np.zeros(len(total), dtype=np.bool_),
    )


def latency_history(
    data: ServiceData, *, start: int, end: int, bucket_seconds: int
) -> history.LatencyHistory:
    """The exact cumulative per-``le`` counts per bucket (bounds are ``BOUNDS``)."""
    cumulative = np.cumsum(data.latency, axis=1) if data.steps else data.latency
    sums = _bucket_sums(data, cumulative, start=start, end=end, bucket_seconds=bucket_seconds)
    return history.LatencyHistory(
        bucket_seconds=bucket_seconds,
        start=start,
        bounds=BOUNDS,
        cumulative=sums,
        excluded=np.zeros(len(sums), dtype=np.bool_),
    )


# --- OpenMetrics ----------------------------------------------------------------------------


def _counter_values(increments: IntArray, restarts: npt.NDArray[np.bool_]) -> IntArray:
    """Counter values at ``first, first+step, …``: 0, then running sums that restart from the
    step's own increment after a process restart (what a real client library exports)."""
    values = np.cumsum(increments)
    for k in np.flatnonzero(restarts):
        values[k:] -= values[k - 1] if k else 0
    return np.concatenate(([0], values))


def format_le(bound: float) -> str:
    """``le`` label text as Prometheus clients write it: ``0.005``, ``1``, ``+Inf``."""
    return "+Inf" if math.isinf(bound) else f"{bound:g}"


def _series(data: ServiceData, *, latency: bool = True) -> Iterator[tuple[str, str, IntArray]]:
    """(family, sample name with labels, values) for every series of one service."""
    name = data.service.name
    for code, increments in zip(CODES, (data.ok, data.errors), strict=True):
        yield (
            REQUESTS_METRIC,
            f'{REQUESTS_METRIC}_total{{service="{name}",code="{code}"}}',
            _counter_values(increments, data.restarts),
        )
    if not latency:
        return
    cumulative = np.cumsum(data.latency, axis=1)
    for j, bound in enumerate(BOUNDS):
        yield (
            LATENCY_METRIC,
            f'{LATENCY_METRIC}_bucket{{service="{name}",le="{format_le(bound)}"}}',
            _counter_values(cumulative[:, j], data.restarts),
        )


def write_openmetrics(
    out: IO[str],
    services: Iterable[Service],
    timeline: Timeline,
    *,
    spill: IO[str],
    latency: bool = True,
) -> int:
    """Stream every service's series to ``out`` as OpenMetrics; return the samples written.

    OpenMetrics forbids interleaving metric families, but generating each service once is what
    keeps memory flat, so histogram lines go to ``spill`` (a temporary file) first and are
    appended after the counters. Service names must be valid label values without quotes.
    ``latency=False`` writes only the request counters (a fleet benchmark reading availability
    needs a twelfth of the bytes).
    """
    written = 0
    out.write(f"# TYPE {REQUESTS_METRIC} counter\n")
    spill.write(f"# TYPE {LATENCY_METRIC} histogram\n")
    for service in services:
        if '"' in service.name or "\\" in service.name or "\n" in service.name:
            raise ValueError(f"service name {service.name!r} needs escaping; keep names plain")
        data = generate(service, timeline)
        if data.first is None:
            continue
        stamps = [
            f" {t}\n"
            for t in range(data.first, data.first + (data.steps + 1) * data.step, data.step)
        ]
        for family, head, values in _series(data, latency=latency):
            target = out if family == REQUESTS_METRIC else spill
            prefix = head + " "
            target.write(
                "".join(
                    [prefix + v + s for v, s in zip(map(str, values.tolist()), stamps, strict=True)]
                )
            )
            written += len(stamps)
    spill.flush()
    spill.seek(0)
    while chunk := spill.read(1 << 20):
        out.write(chunk)
    out.write("# EOF\n")
    return written


def write_openmetrics_file(
    path: str | os.PathLike[str],
    services: Iterable[Service],
    timeline: Timeline,
    *,
    latency: bool = True,
) -> int:
    """``write_openmetrics`` into ``path``, spilling histogram lines to a sibling file."""
    spill_path = f"{os.fspath(path)}.spill"
    try:
        with (
            open(path, "w", encoding="utf-8") as out,
            open(spill_path, "w+", encoding="utf-8") as spill,
        ):
            return write_openmetrics(out, services, timeline, spill=spill, latency=latency)
    finally:
        if os.path.exists(spill_path):
            os.unlink(spill_path)
