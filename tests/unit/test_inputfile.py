"""The CLI's offline input format: round trips, gaps on the grid, and errors that name the path."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sloreco import errors
from sloreco.core import history
from sloreco.sources import inputfile
from tests import factories

T0 = "2024-05-01T00:00:00Z"
T1 = "2024-05-01T01:00:00Z"
T2 = "2024-05-01T02:00:00Z"


def _loads(doc: Any) -> inputfile.Document:
    return inputfile.loads(json.dumps(doc))


def _error(doc: Any) -> errors.InputError:
    text = doc if isinstance(doc, str) else json.dumps(doc)
    with pytest.raises(errors.InputError) as info:
        inputfile.loads(text)
    return info.value


def test_round_trip_of_synthetic_histories() -> None:
    avail = factories.synthetic_availability(days=3, gaps=(5, 6, 40))
    lat = factories.synthetic_latency(days=2, requests_per_bucket=50, gaps=(0, 47))
    doc = _loads(factories.cli_input_document(availability=avail, latency=lat))
    assert doc.bucket_seconds == 3600
    assert doc.availability is not None
    assert doc.latency is not None
    assert doc.availability.start == avail.start
    np.testing.assert_array_equal(doc.availability.total, avail.total)
    np.testing.assert_array_equal(doc.availability.bad, avail.bad)
    assert not doc.availability.excluded.any()
    # The first latency bucket is a gap, so the grid starts one bucket later and loses none.
    assert doc.latency.start == lat.start + 3600
    assert doc.latency.bounds == lat.bounds
    np.testing.assert_array_equal(doc.latency.cumulative, lat.cumulative[1:-1])


def test_buckets_in_any_order_with_gaps_land_on_the_grid() -> None:
    doc = _loads(
        {
            "availability": [
                {"start": T2, "total": 10, "bad": 1},
                {"start": T0, "total": 5, "bad": 0},
            ]
        }
    )
    assert doc.availability is not None
    assert doc.availability.start == factories.EPOCH_2024_05_01
    np.testing.assert_array_equal(doc.availability.total, [5, np.nan, 10])
    np.testing.assert_array_equal(doc.availability.bad, [0, np.nan, 1])
    assert doc.latency is None


def test_bucket_size_and_offsets() -> None:
    doc = _loads(
        {
            "bucket": "30m",
            "availability": [
                {"start": "2024-05-01T02:30:00+02:00", "total": 1, "bad": 0},
                {"start": "2024-05-01T01:00:00Z", "total": 2, "bad": 0},
            ],
        }
    )
    assert doc.bucket_seconds == 1800
    assert doc.availability is not None
    assert doc.availability.start == factories.EPOCH_2024_05_01 + 1800  # 02:30+02:00 = 00:30Z
    np.testing.assert_array_equal(doc.availability.total, [1, 2])


def test_latency_only() -> None:
    doc = _loads(
        {
            "latency": {
                "bounds": [0.1, 1, "+Inf"],
                "buckets": [{"start": T1, "counts": [3, 3, 4]}],
            }
        }
    )
    assert doc.availability is None
    assert doc.latency is not None
    assert doc.latency.bounds == (0.1, 1.0, math.inf)
    np.testing.assert_array_equal(doc.latency.cumulative, [[3, 3, 4]])


_OK_AVAIL = {"start": T0, "total": 10, "bad": 1}
_OK_LAT = {"bounds": [0.1, "+Inf"], "buckets": [{"start": T0, "counts": [1, 2]}]}


@pytest.mark.parametrize(
    ("doc", "field", "words"),
    [
        ("{", "input", "invalid JSON at line 1, column 2"),
        ([], "input", "must be an object"),
        ({}, "input", 'needs "availability", "latency" or both'),
        ({"availabilty": []}, "availabilty", "unknown field"),
        ({"bucket": 3600, "availability": [_OK_AVAIL]}, "bucket", "duration string"),
        ({"bucket": "1x", "availability": [_OK_AVAIL]}, "bucket", "invalid duration '1x'"),
        ({"bucket": "7m", "availability": [_OK_AVAIL]}, "bucket", "does not divide a day"),
        ({"availability": {}}, "availability", "must be a list"),
        ({"availability": []}, "availability", "must not be empty"),
        ({"availability": [_OK_AVAIL, 3]}, "availability[1]", "must be an object, got 3"),
        ({"availability": [{"start": T0, "total": 1}]}, "availability[0].bad", "is required"),
        (
            {"availability": [_OK_AVAIL, {**_OK_AVAIL, "start": T1, "extra": 1}]},
            "availability[1].extra",
            "unknown field",
        ),
        (
            '{"availability": [{"start": "' + T0 + '", "total": 1, "bad": 0, "total": 2}]}',
            "availability[0].total",
            "appears more than once",
        ),
        (
            {"availability": [_OK_AVAIL, {**_OK_AVAIL, "total": -1}]},
            "availability[1].total",
            "must be a non-negative integer, got -1",
        ),
        (
            {"availability": [{**_OK_AVAIL, "total": 1.5}]},
            "availability[0].total",
            "must be a non-negative integer, got 1.5",
        ),
        (
            {"availability": [{**_OK_AVAIL, "total": "10"}]},
            "availability[0].total",
            'must be a non-negative integer, got "10"',
        ),
        (
            {"availability": [{**_OK_AVAIL, "total": True}]},
            "availability[0].total",
            "must be a non-negative integer, got true",
        ),
        (
            {"availability": [{**_OK_AVAIL, "total": None}]},
            "availability[0].total",
            "must be a non-negative integer, got null",
        ),
        (
            '{"availability": [{"start": "' + T0 + '", "total": NaN, "bad": 0}]}',
            "availability[0].total",
            "got NaN",
        ),
        (
            {"availability": [{**_OK_AVAIL, "total": 2**60}]},
            "availability[0].total",
            "must be a non-negative integer",
        ),
        (
            {"availability": [{**_OK_AVAIL, "bad": 11}]},
            "availability[0].bad",
            "must not exceed total (11 > 10)",
        ),
        (
            {"availability": [{**_OK_AVAIL, "start": "2024-05-01"}]},
            "availability[0].start",
            "RFC 3339",
        ),
        (
            {"availability": [{**_OK_AVAIL, "start": "2024-05-01T00:00:00"}]},
            "availability[0].start",
            "RFC 3339",
        ),
        (
            {"availability": [{**_OK_AVAIL, "start": "2024-13-01T00:00:00Z"}]},
            "availability[0].start",
            "invalid time",
        ),
        (
            {"availability": [{**_OK_AVAIL, "start": 1714521600}]},
            "availability[0].start",
            "must be an RFC 3339 time string, got 1714521600",
        ),
        (
            {"availability": [{**_OK_AVAIL, "start": "2024-05-01T00:30:00Z"}]},
            "availability[0].start",
            "not aligned to the 1h bucket",
        ),
        (
            {"availability": [{**_OK_AVAIL, "start": "2024-05-01T00:00:00.5Z"}]},
            "availability[0].start",
            "whole second",
        ),
        (
            {"availability": [_OK_AVAIL, {**_OK_AVAIL, "start": T1}, _OK_AVAIL]},
            "availability[2].start",
            "duplicate bucket 2024-05-01T00:00:00Z, already at availability[0]",
        ),
        (
            {"availability": [_OK_AVAIL, {**_OK_AVAIL, "start": "2224-05-01T00:00:00Z"}]},
            "availability",
            "at most",
        ),
        ({"latency": []}, "latency", "must be an object"),
        ({"latency": {"bounds": [0.1, "+Inf"]}}, "latency.buckets", "is required"),
        ({"latency": {**_OK_LAT, "le": 1}}, "latency.le", "unknown field"),
        ({"latency": {**_OK_LAT, "bounds": [0.1, 1]}}, "latency.bounds[1]", '"+Inf"'),
        ({"latency": {**_OK_LAT, "bounds": ["+Inf"]}}, "latency.bounds", "at least one finite"),
        (
            {"latency": {**_OK_LAT, "bounds": [0.5, 0.1, "+Inf"]}},
            "latency.bounds[1]",
            "increase strictly (0.1 after 0.5)",
        ),
        (
            {"latency": {**_OK_LAT, "bounds": [-1, "+Inf"]}},
            "latency.bounds[0]",
            "non-negative number of seconds, got -1",
        ),
        (
            {"latency": {**_OK_LAT, "bounds": ["0.1", "+Inf"]}},
            "latency.bounds[0]",
            'got "0.1"',
        ),
        (
            {"latency": {**_OK_LAT, "buckets": [{"start": T0, "counts": [1]}]}},
            "latency.buckets[0].counts",
            "list of 2 cumulative counts",
        ),
        (
            {"latency": {**_OK_LAT, "buckets": [{"start": T0, "counts": [3, 2]}]}},
            "latency.buckets[0].counts[1]",
            "must not decrease (2 < 3)",
        ),
        (
            {"latency": {**_OK_LAT, "buckets": [{"start": T0, "counts": [1, -2]}]}},
            "latency.buckets[0].counts[1]",
            "non-negative integer",
        ),
        (
            {"latency": {**_OK_LAT, "buckets": [{"start": T0, "counts": [1, 2]}] * 2}},
            "latency.buckets[1].start",
            "duplicate bucket",
        ),
    ],
)
def test_bad_input_names_the_path(doc: Any, field: str, words: str) -> None:
    err = _error(doc)
    assert err.field == field
    assert words in err.reason
    assert str(err).startswith(f"{field}: ")


def test_parse_time_forms() -> None:
    assert inputfile.parse_time(T0, field="x") == factories.EPOCH_2024_05_01
    assert inputfile.parse_time("2024-05-01t00:00:00z", field="x") == factories.EPOCH_2024_05_01
    assert inputfile.parse_time("2024-05-01 03:00:00+03:00", field="x") == (
        factories.EPOCH_2024_05_01
    )
    assert inputfile.parse_time("2024-05-01T00:00:01.000Z", field="x") == (
        factories.EPOCH_2024_05_01 + 1
    )


@settings(max_examples=50, deadline=None)
@given(
    counts=st.lists(
        st.one_of(st.none(), st.tuples(st.integers(0, 10**12), st.integers(0, 10**12))),
        min_size=1,
        max_size=60,
    ),
    bucket=st.sampled_from([60, 300, 3600, 86400]),
)
def test_any_history_round_trips(counts: list[tuple[int, int] | None], bucket: int) -> None:
    """Whatever is written in the format reads back as the same grid (gaps included)."""
    rows = [None if c is None else (max(c), min(c)) for c in counts]
    total = np.array([math.nan if r is None else r[0] for r in rows])
    bad = np.array([math.nan if r is None else r[1] for r in rows])
    avail = history.AvailabilityHistory(
        bucket_seconds=bucket,
        start=factories.EPOCH_2024_05_01,
        total=total,
        bad=bad,
        excluded=np.zeros(len(rows), dtype=np.bool_),
    )
    doc = factories.cli_input_document(availability=avail)
    if not doc["availability"]:
        assert _error(doc).field == "availability"
        return
    parsed = _loads(doc).availability
    assert parsed is not None
    present = np.flatnonzero(~np.isnan(total))
    first, last = present[0], present[-1] + 1
    assert parsed.start == avail.start + first * bucket
    np.testing.assert_array_equal(parsed.total, total[first:last])
    np.testing.assert_array_equal(parsed.bad, bad[first:last])
