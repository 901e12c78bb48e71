"""Prometheus query results as sloreco histories: fast matrix decoding, then the bucket grid.

Pure (numpy, json): ``prometheus`` does the HTTP, this module turns bodies into ``history``
objects — which is where NaN, ±Inf, negative counts and absent series become missing buckets.

Decoding ``/api/v1/query_range`` matrices: numpy over the points, ``json`` for the rest.

Why not just ``json.loads``: a matrix is mostly ``[1717200000,"1234"]`` pairs, and CPython's
decoder builds a list, an int and a str for each (measured ~650 ns per point here, plus
~200 ns to turn them into arrays). Reading 1,000 services' 90-day hourly latency histograms
is 26 million points — over 20 s of decoding alone. So each ``"values":[…]`` array is cut out
of the body and replaced by its index; ``json`` parses the small remainder (labels, status),
and the points are parsed with vectorised numpy on the raw bytes: the timestamps and integer
counts Prometheus writes for exact data (all digits, ≤ 15 of them, so exact in float64) cost a
few ns each, anything else (fractions, ``NaN``, ``+Inf``) goes through Python's ``float``.

The fast path is an optimisation only: any body it cannot cut cleanly (unexpected spacing, a
malformed pair) is decoded by ``json`` as a whole, and the tests check both paths agree.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from sloreco import errors
from sloreco.core import history

FloatArray = npt.NDArray[np.float64]
_U8 = npt.NDArray[np.uint8]
_Ints = npt.NDArray[np.intp]

_VALUES = re.compile(rb'"values":\[')
#: Up to 15 decimal digits an integer is below 2**53, so summing digit × 10**k is exact.
_FAST_DIGITS = 15
_QUOTE, _COMMA, _OPEN, _CLOSE, _ZERO = (ord(c) for c in '",[]0')
_PAD = b" " * _FAST_DIGITS


@dataclasses.dataclass(frozen=True, eq=False)
class Series:
    """One series of a matrix: its labels and its points (times in epoch seconds)."""

    labels: Mapping[str, str]
    times: FloatArray
    values: FloatArray


def decode_matrix(body: bytes, *, step: int | None = None) -> list[Series]:
    """The series of a successful range-query response; ``ValueError`` if it is not one.

    With the query's ``step``, a series whose points are contiguous (last - first equals
    (count - 1) * step: strictly increasing step-grid times admit nothing else) gets its times
    computed instead of parsed — they are most of the bytes.
    """
    segments: list[bytes] = []
    parts: list[bytes] = []
    pos = 0
    for match in _VALUES.finditer(body):
        first = match.end()
        end = body.find(b"]]", first)
        if body.startswith(b"]", first) or end < 0:
            continue  # empty or odd: leave this one to json
        parts += [body[pos : first - 1], str(len(segments)).encode()]
        segments.append(body[first : end + 1])
        pos = end + 2
    parts.append(body[pos:])
    try:
        doc = json.loads(b"".join(parts))
    except ValueError:
        doc, segments = json.loads(body), []
    points = _decode_all(segments, step)
    return [_series(item, segments, points) for item in _result(doc)]


_Points = tuple[FloatArray, FloatArray]


def _decode_all(segments: list[bytes], step: int | None) -> list[_Points | None]:
    """Decode every segment in one pass over their concatenation: numpy's per-call overhead
    would otherwise dominate for the usual few thousand points per series."""
    if not segments:
        return []
    parsed = _Parsed.of(b",".join(segments))
    if parsed is None:  # some segment is odd: find it by decoding them one by one
        return [_decode_points(segment, step) for segment in segments]
    sizes = np.array([segment.count(b"[") for segment in segments])
    times = parsed.times(sizes, step)
    bounds = np.cumsum(sizes)[:-1]
    return list(zip(np.split(times, bounds), np.split(parsed.values, bounds), strict=True))


def _decode_points(segment: bytes, step: int | None) -> _Points | None:
    """Parse one ``[t,"v"],[t,"v"],…``; ``None`` if the bytes are not exactly that shape."""
    parsed = _Parsed.of(segment)
    if parsed is None:
        return None
    return parsed.times(np.array([len(parsed.values)]), step), parsed.values


def _result(doc: Any) -> list[dict[str, Any]]:
    data = doc.get("data") if isinstance(doc, dict) else None
    if doc.get("status") != "success" or not isinstance(data, dict):
        raise ValueError("not a successful Prometheus API response")
    if data.get("resultType") != "matrix" or not isinstance(data.get("result"), list):
        raise ValueError(f"expected a matrix result, got {data.get('resultType')!r}")
    return data["result"]  # type: ignore[no-any-return]


def _series(
    item: dict[str, Any],
    segments: list[bytes],
    points: list[tuple[FloatArray, FloatArray] | None],
) -> Series:
    labels = item.get("metric", {})
    raw = item.get("values", [])
    if isinstance(raw, int) and not isinstance(raw, bool):
        decoded = points[raw]
        if decoded is not None:
            return Series(labels, *decoded)
        raw = json.loads(b"[" + segments[raw] + b"]")
    times = np.array([float(t) for t, _ in raw], dtype=np.float64)
    values = np.array([float(v) for _, v in raw], dtype=np.float64)
    return Series(labels, times, values)


@dataclasses.dataclass(frozen=True, eq=False)
class _Parsed:
    """Points ``[t,"v"],…`` located in ``text``: values parsed, timestamps on demand."""

    text: bytes
    buf: _U8
    time_ends: _Ints
    time_widths: _Ints
    values: FloatArray

    @classmethod
    def of(cls, segment: bytes) -> _Parsed | None:
        padded = _PAD + segment  # lets every number be read as a right-aligned window
        buf = np.frombuffer(padded, dtype=np.uint8)
        opens = np.flatnonzero(buf == _OPEN)
        quotes = np.flatnonzero(buf == _QUOTE)
        if len(quotes) != 2 * len(opens) or not len(opens):
            return None
        left, right = quotes[0::2], quotes[1::2]
        after = np.minimum(right + 1, len(buf) - 1)
        if (
            np.any(buf[left - 1] != _COMMA)
            or np.any(buf[after] != _CLOSE)
            or np.any(after == right)  # a quote as the very last byte
            or np.any(left - opens < 3)  # "[", at least one digit, ","
        ):
            return None
        values = _numbers(padded, buf, right, right - left - 1)
        return cls(padded, buf, left - 1, left - opens - 2, values)

    def times(self, sizes: _Ints, step: int | None) -> FloatArray:
        """Timestamps of consecutive runs of ``sizes`` points (one run per series)."""
        if step:
            starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
            ends = starts + sizes - 1
            first = _numbers(self.text, self.buf, self.time_ends[starts], self.time_widths[starts])
            last = _numbers(self.text, self.buf, self.time_ends[ends], self.time_widths[ends])
            if np.all(first == np.floor(first)) and np.all(last - first == (sizes - 1) * step):
                offsets = np.arange(int(sizes.sum())) - np.repeat(starts, sizes)
                computed: FloatArray = np.repeat(first, sizes) + offsets * float(step)
                return computed
        return _numbers(self.text, self.buf, self.time_ends, self.time_widths)


def _numbers(text: bytes, buf: _U8, ends: _Ints, widths: _Ints) -> FloatArray:
    """The decimal numbers ``text[ends[i] - widths[i] : ends[i]]``.

    All-digit numbers of at most 15 digits are read together: a right-aligned window of the
    widest such number per row, bytes before the number's start zeroed, then Horner's rule
    column by column (no per-width passes, no (n, width) float matrix).
    """
    out = np.empty(len(ends), dtype=np.float64)
    if not len(ends):
        return out
    span = min(int(widths.max()), _FAST_DIGITS)
    window = sliding_window_view(buf, span)[ends - span] - np.uint8(_ZERO)  # wraps if no digit
    inside = np.arange(span) >= (span - widths)[:, None]
    done = ((window <= 9) | ~inside).all(axis=1) & (widths > 0) & (widths <= _FAST_DIGITS)
    window[~inside] = 0
    acc = window[:, 0].astype(np.float64)
    for column in range(1, span):
        acc *= 10.0
        acc += window[:, column]
    out[:] = acc
    for i in np.flatnonzero(~done):  # fractions, signs, NaN, ±Inf, very long numbers
        out[i] = float(text[ends[i] - widths[i] : ends[i]])
    return out


# --- placing series on the bucket grid ------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Grid:
    """The bucket grid ``[start, end)``; value at ``start + (i+1)*bucket`` is bucket ``i``."""

    start: int
    bucket: int
    size: int

    @classmethod
    def of(cls, start: int, end: int, bucket: int) -> Grid:
        if bucket <= 0 or end <= start or (end - start) % bucket:
            raise ValueError(f"[{start}, {end}) is not a whole number of {bucket}s buckets")
        return cls(start, bucket, (end - start) // bucket)

    def query(self) -> dict[str, int]:
        return {
            "start": self.start + self.bucket,
            "end": self.start + self.size * self.bucket,
            "step": self.bucket,
        }

    def place(self, series: Iterable[Series]) -> tuple[history.FloatArray, history.BoolArray]:
        """Sum the series' points per bucket, as ``sum`` would; also return where any was."""
        values = np.zeros(self.size)
        present = np.zeros(self.size, dtype=np.bool_)
        for one in series:
            index = np.rint((one.times - self.start) / self.bucket).astype(np.int64) - 1
            inside = (index >= 0) & (index < self.size)
            values[index[inside]] += one.values[inside]  # indices are unique within a series
            present[index[inside]] = True
        return values, present


def _usable(values: history.FloatArray, present: history.BoolArray) -> history.BoolArray:
    """Buckets holding a real count: present, finite and not negative."""
    with np.errstate(invalid="ignore"):
        return present & np.isfinite(values) & (values >= 0)


def availability(
    grid: Grid, total: Sequence[Series], bad: Sequence[Series]
) -> history.AvailabilityHistory:
    total_values, total_present = grid.place(total)
    bad_values, bad_present = grid.place(bad)
    ok = _usable(total_values, total_present)
    # No error series at all is the normal state of a healthy service (many clients create the
    # 5xx series lazily), so an absent error count is 0; an unusable one spoils the bucket.
    ok &= ~bad_present | _usable(bad_values, bad_present)
    bad_values = np.where(bad_present, bad_values, 0.0)
    _check_subset(np.where(ok, total_values, 0.0), np.where(ok, bad_values, 0.0))
    # Separate queries extrapolate separately; a 100%-error bucket must not lose its outage.
    bad_values = np.minimum(bad_values, total_values)
    return history.AvailabilityHistory(
        bucket_seconds=grid.bucket,
        start=grid.start,
        total=np.where(ok, total_values, math.nan),
        bad=np.where(ok, bad_values, math.nan),
        excluded=np.zeros(grid.size, dtype=np.bool_),
    )


#: How far the error count may exceed the request count over the whole lookback before the
#: selectors are called inconsistent. The two queries extrapolate separately, so a service that
#: failed every request can show a few errors more than requests; 1 % more is a selector that
#: counts other requests (issue 10 saw 0.00 % tiers, Ready=True, from such a pair).
EXCESS_TOLERANCE = 0.01


def _check_subset(total: FloatArray, bad: FloatArray) -> None:
    """Refuse an error selector that counts more than the total selector (never a 0 % target)."""
    total_sum, bad_sum = float(total.sum()), float(bad.sum())
    if bad_sum > total_sum * (1 + EXCESS_TOLERANCE) + 1:
        raise errors.InconsistentDataError(
            f"counts {bad_sum:.0f} failed requests against {total_sum:.0f} requests in all "
            "over the lookback; it must select a subset of totalQuery's requests",
            role="errors",
        )


def latency(grid: Grid, series: Sequence[Series]) -> history.LatencyHistory:
    by_bound: dict[float, list[Series]] = {}
    for one in series:
        le = one.labels.get("le")
        if le is None:
            # Prometheus answered: the data is wrong for a histogram, not the source.
            raise errors.InputError(
                "matched series without an 'le' label: select a classic histogram's _bucket series",
                field="histogram",
            )
        try:
            by_bound.setdefault(float(le), []).append(one)  # "1" and "1.0" are one bound
        except ValueError as exc:
            raise errors.QueryError(f"histogram series has a non-numeric le={le!r}") from exc
    if not by_bound:
        # Nothing at all: one +Inf column of NaN keeps the type's invariant (bounds end with
        # +Inf) and makes every bucket visibly missing.
        return history.LatencyHistory(
            bucket_seconds=grid.bucket,
            start=grid.start,
            bounds=(math.inf,),
            cumulative=np.full((grid.size, 1), math.nan),
            excluded=np.zeros(grid.size, dtype=np.bool_),
        )
    bounds = tuple(sorted(by_bound))
    if not math.isinf(bounds[-1]):
        raise errors.QueryError(
            'the histogram selector matched no le="+Inf" bucket: select all of a histogram\'s '
            "_bucket series (do not filter on le)"
        )
    placed = {bound: grid.place(by_bound[bound]) for bound in bounds}
    counted = {bound: _usable(*placed[bound]) for bound in bounds}
    # A histogram's bounds are scraped together, so a bound missing where +Inf holds a count is
    # a layout that changed inside the lookback: a bucket added at a new threshold, one dropped.
    # Kept, such a bound would make every bucket without it missing and lose the history before
    # the change (or after it); so the history keeps the bounds it holds throughout, and says
    # which it left out (``LatencyHistory.partial_bounds``).
    whole = counted[math.inf]
    partial = tuple(b for b in bounds if not (counted[b] | ~whole).all())
    kept = tuple(b for b in bounds if b not in partial)
    usable = np.logical_and.reduce([counted[b] for b in kept])
    cumulative = np.column_stack([placed[b][0] for b in kept])
    cumulative[~usable] = math.nan  # a bucket with any bound missing is not a histogram
    return history.LatencyHistory(
        bucket_seconds=grid.bucket,
        start=grid.start,
        bounds=kept,
        cumulative=cumulative,
        excluded=np.zeros(grid.size, dtype=np.bool_),
        partial_bounds=partial,
    )
