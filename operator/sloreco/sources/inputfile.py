"""The CLI's offline input: bucketed counts as a JSON document, parsed strictly into histories.

``sloreco recommend --input FILE`` lets people try sloreco on history they exported, without a
Prometheus, and lets the tests check that the live path and the offline path agree on the same
buckets. The format mirrors what the operator reads from Prometheus::

    {"bucket": "1h",
     "availability": [{"start": "2024-05-01T00:00:00Z", "total": 1200, "bad": 3}, ...],
     "latency": {"bounds": [0.005, 0.01, ..., "+Inf"],
                 "buckets": [{"start": "2024-05-01T00:00:00Z", "counts": [4, 9, ..., 1200]}]}}

Both ``availability`` and ``latency`` are optional (at least one is needed); ``bucket`` defaults to
``1h``. Buckets may come in any order and may be missing (a gap becomes ``NaN`` on the regular
grid, exactly like a scrape gap from Prometheus), but each must be aligned to the bucket size and
appear once. ``counts`` are cumulative per bound, like Prometheus's ``le`` series.

Parsing is strict because a bucket that is silently dropped or coerced changes a recommendation
without anyone noticing: every value either becomes data or an ``InputError`` whose ``field`` is
its JSON path (``availability[3].total``). Duplicate keys in an object are errors for the same
reason (``json`` would otherwise keep the last one).
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from sloreco import api, errors
from sloreco.core import durations, history

#: Largest grid we build, in buckets: two years of one-minute buckets. A typo in one ``start``
#: (a year off) would otherwise allocate an enormous, almost empty grid before anything is checked.
MAX_BUCKETS = 2 * 366 * 24 * 60

#: Counts are held as float64; above 2**53 not every integer is representable, so a count there
#: would silently change value.
MAX_COUNT = 2**53

#: RFC 3339 ``date-time``: a full date, a time, optional fractional seconds and a required offset.
#: ``datetime.fromisoformat`` alone also accepts dates without a time or an offset.
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$",
)

_TOP_KEYS = ("availability", "bucket", "latency")
_AVAILABILITY_KEYS = ("bad", "start", "total")
_LATENCY_KEYS = ("bounds", "buckets")
_LATENCY_BUCKET_KEYS = ("counts", "start")


@dataclasses.dataclass(frozen=True)
class Document:
    """A parsed input document: one history per SLI it contains, on one bucket grid size."""

    bucket_seconds: int
    availability: history.AvailabilityHistory | None
    latency: history.LatencyHistory | None


class _Object(dict[str, Any]):
    """A JSON object that remembers keys it saw twice, so the error can carry the object's path."""

    duplicates: tuple[str, ...] = ()


def _object_pairs(pairs: list[tuple[str, Any]]) -> _Object:
    obj = _Object()
    seen: list[str] = []
    for key, value in pairs:
        if key in obj:
            seen.append(key)
        obj[key] = value
    obj.duplicates = tuple(seen)
    return obj


def parse_time(text: str, *, field: str) -> int:
    """Return an RFC 3339 time (``2024-05-01T00:00:00Z``) as whole epoch seconds."""
    if not _RFC3339.match(text):
        raise errors.InputError(
            f"invalid time {text!r}: use RFC 3339 with an offset, like 2024-05-01T00:00:00Z",
            field=field,
        )
    try:
        parsed = datetime.datetime.fromisoformat(text.upper().replace(" ", "T"))
    except ValueError as exc:  # the shape matched, the values did not (month 13, hour 25)
        raise errors.InputError(f"invalid time {text!r}: {exc}", field=field) from exc
    seconds = parsed.timestamp()
    if seconds != math.floor(seconds):
        raise errors.InputError(f"time {text!r} must be a whole second", field=field)
    return int(seconds)


def loads(text: str) -> Document:
    """Parse and validate a whole input document (see the module docstring for the format)."""
    try:
        raw = json.loads(text, object_pairs_hook=_object_pairs)
    except json.JSONDecodeError as exc:
        raise errors.InputError(
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", field="input"
        ) from exc
    top = _expect_object(raw, path="input", keys=_TOP_KEYS, field_prefix="")
    bucket_text = top.get("bucket", api.DEFAULT_BUCKET)
    if not isinstance(bucket_text, str):
        raise errors.InputError("must be a duration string like 1h", field="bucket")
    bucket = durations.parse(bucket_text, field="bucket")
    history.buckets_per_day(bucket)  # the bootstrap resamples whole days of buckets
    if "availability" not in top and "latency" not in top:
        raise errors.InputError('needs "availability", "latency" or both', field="input")
    availability = (
        _availability(top["availability"], bucket=bucket) if "availability" in top else None
    )
    latency = _latency(top["latency"], bucket=bucket) if "latency" in top else None
    return Document(bucket_seconds=bucket, availability=availability, latency=latency)


def _availability(raw: object, *, bucket: int) -> history.AvailabilityHistory:
    items = _expect_list(raw, path="availability")
    starts: list[int] = []
    rows: list[tuple[int, int]] = []
    for i, item in enumerate(items):
        path = f"availability[{i}]"
        obj = _expect_object(item, path=path, keys=_AVAILABILITY_KEYS, required=_AVAILABILITY_KEYS)
        starts.append(_start(obj["start"], path=f"{path}.start", bucket=bucket))
        total = _count(obj["total"], path=f"{path}.total")
        bad = _count(obj["bad"], path=f"{path}.bad")
        if bad > total:
            raise errors.InputError(f"must not exceed total ({bad} > {total})", field=f"{path}.bad")
        rows.append((total, bad))
    first, span, slots = _grid(starts, path="availability", bucket=bucket)
    total_arr = np.full(span, np.nan)
    bad_arr = total_arr.copy()
    for slot, (total, bad) in zip(slots, rows, strict=True):
        total_arr[slot] = total
        bad_arr[slot] = bad
    return history.AvailabilityHistory(
        bucket_seconds=bucket,
        start=first,
        total=total_arr,
        bad=bad_arr,
        excluded=np.zeros(len(total_arr), dtype=np.bool_),
    )


def _latency(raw: object, *, bucket: int) -> history.LatencyHistory:
    top = _expect_object(
        raw, path="latency", keys=_LATENCY_KEYS, required=_LATENCY_KEYS, field_prefix="latency."
    )
    bounds = _bounds(top["bounds"])
    items = _expect_list(top["buckets"], path="latency.buckets")
    starts: list[int] = []
    rows: list[list[int]] = []
    for i, item in enumerate(items):
        path = f"latency.buckets[{i}]"
        obj = _expect_object(
            item, path=path, keys=_LATENCY_BUCKET_KEYS, required=_LATENCY_BUCKET_KEYS
        )
        starts.append(_start(obj["start"], path=f"{path}.start", bucket=bucket))
        raw_counts = obj["counts"]
        if not isinstance(raw_counts, list) or len(raw_counts) != len(bounds):
            raise errors.InputError(
                f"must be a list of {len(bounds)} cumulative counts, one per bound",
                field=f"{path}.counts",
            )
        counts = [_count(c, path=f"{path}.counts[{j}]") for j, c in enumerate(raw_counts)]
        for j in range(1, len(counts)):
            if counts[j] < counts[j - 1]:
                raise errors.InputError(
                    f"cumulative counts must not decrease ({counts[j]} < {counts[j - 1]})",
                    field=f"{path}.counts[{j}]",
                )
        rows.append(counts)
    first, span, slots = _grid(starts, path="latency.buckets", bucket=bucket)
    cumulative = np.full((span, len(bounds)), np.nan)
    for slot, counts in zip(slots, rows, strict=True):
        cumulative[slot, :] = counts
    return history.LatencyHistory(
        bucket_seconds=bucket,
        start=first,
        bounds=bounds,
        cumulative=cumulative,
        excluded=np.zeros(len(cumulative), dtype=np.bool_),
    )


def _bounds(raw: object) -> tuple[float, ...]:
    items = _expect_list(raw, path="latency.bounds")
    if items[-1] != "+Inf":
        raise errors.InputError(
            'the last bound must be "+Inf" (as in Prometheus\'s le label)',
            field=f"latency.bounds[{len(items) - 1}]",
        )
    if len(items) < 2:
        raise errors.InputError(
            'needs at least one finite bound before "+Inf"', field="latency.bounds"
        )
    bounds: list[float] = []
    for j, item in enumerate(items[:-1]):
        path = f"latency.bounds[{j}]"
        if not _is_number(item) or not math.isfinite(item) or item < 0:
            raise errors.InputError(
                f"must be a non-negative number of seconds, got {_show(item)}", field=path
            )
        if bounds and item <= bounds[-1]:
            raise errors.InputError(
                f"bounds must increase strictly ({item} after {bounds[-1]})", field=path
            )
        bounds.append(float(item))
    return (*bounds, math.inf)


def _grid(starts: Sequence[int], *, path: str, bucket: int) -> tuple[int, int, list[int]]:
    """Place bucket starts on a regular grid: return its first start, its length, each slot."""
    first_at: dict[int, int] = {}
    for i, start in enumerate(starts):
        if start in first_at:
            raise errors.InputError(
                f"duplicate bucket {api.rfc3339(start)}, already at {path}[{first_at[start]}]",
                field=f"{path}[{i}].start",
            )
        first_at[start] = i
    first = min(starts)
    span = (max(starts) - first) // bucket + 1
    if span > MAX_BUCKETS:
        raise errors.InputError(
            f"buckets span {span} x {durations.format(bucket)} from first to last; "
            f"at most {MAX_BUCKETS} are supported",
            field=path,
        )
    return first, span, [(start - first) // bucket for start in starts]


def _start(raw: object, *, path: str, bucket: int) -> int:
    if not isinstance(raw, str):
        raise errors.InputError(f"must be an RFC 3339 time string, got {_show(raw)}", field=path)
    start = parse_time(raw, field=path)
    if start % bucket:
        raise errors.InputError(
            f"{raw} is not aligned to the {durations.format(bucket)} bucket", field=path
        )
    return start


def _count(raw: object, *, path: str) -> int:
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 0 or raw > MAX_COUNT:
        raise errors.InputError(f"must be a non-negative integer, got {_show(raw)}", field=path)
    return raw


def _expect_list(raw: object, *, path: str) -> list[Any]:
    if not isinstance(raw, list):
        raise errors.InputError(f"must be a list, got {_show(raw)}", field=path)
    if not raw:
        raise errors.InputError("must not be empty", field=path)
    return raw


def _expect_object(
    raw: object,
    *,
    path: str,
    keys: Sequence[str],
    required: Sequence[str] = (),
    field_prefix: str | None = None,
) -> _Object:
    """Check ``raw`` is an object with only ``keys`` and all of ``required``, each once.

    ``field_prefix`` is how the object's members are named in errors: ``availability[3].`` for
    an item, ``""`` for the top level (its members are ``bucket``, not ``input.bucket``).
    """
    prefix = f"{path}." if field_prefix is None else field_prefix
    if not isinstance(raw, _Object):
        raise errors.InputError(f"must be an object, got {_show(raw)}", field=path)
    if raw.duplicates:
        raise errors.InputError("appears more than once", field=prefix + raw.duplicates[0])
    for key in raw:
        if key not in keys:
            raise errors.InputError(
                f"unknown field; expected {', '.join(keys)}", field=prefix + key
            )
    for key in required:
        if key not in raw:
            raise errors.InputError("is required", field=prefix + key)
    return raw


def _is_number(raw: object) -> bool:
    return isinstance(raw, int | float) and not isinstance(raw, bool)


def _show(raw: object) -> str:
    """A short rendering of a bad value for an error message (JSON spelling, truncated)."""
    if isinstance(raw, dict):
        return "an object"
    if isinstance(raw, list):
        return "a list"
    if isinstance(raw, float) and not math.isfinite(raw):
        return str(raw).replace("inf", "Infinity").replace("nan", "NaN")
    text = json.dumps(raw)
    return text if len(text) <= 40 else text[:37] + "..."
