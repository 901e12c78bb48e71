"""The fast matrix decoder must agree with ``json`` on every body, on both of its paths."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sloreco.sources import promjson


def body(result: list[dict[str, Any]], *, indent: int | None = None) -> bytes:
    doc = {"status": "success", "data": {"resultType": "matrix", "result": result}}
    separators = (",", ":") if indent is None else None  # Prometheus writes compact JSON
    return json.dumps(doc, indent=indent, separators=separators).encode()


def reference(raw: bytes) -> list[tuple[dict[str, str], list[float], list[float]]]:
    """What plain ``json`` makes of a body (NaN as a string so that NaN == NaN)."""
    result = json.loads(raw)["data"]["result"]
    return [
        (r["metric"], [float(t) for t, _ in r["values"]], [float(v) for _, v in r["values"]])
        for r in result
    ]


def decoded(raw: bytes, step: int | None = None) -> list[Any]:
    return [
        (dict(s.labels), s.times.tolist(), s.values.tolist())
        for s in promjson.decode_matrix(raw, step=step)
    ]


def comparable(items: list[Any]) -> str:
    return json.dumps(items, default=str).replace("NaN", '"nan"')


def number_text(value: float) -> str:
    """Prometheus's formatting: shortest round-trip, no exponent, NaN and ±Inf spelled out."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


label_text = st.text(max_size=12)
counts = st.integers(min_value=0, max_value=10**18).map(str)
floats = st.floats(allow_nan=True, allow_infinity=True).map(number_text)
series = st.fixed_dictionaries(
    {
        "metric": st.dictionaries(st.from_regex(r"[a-z_]{1,6}", fullmatch=True), label_text),
        "values": st.lists(
            st.tuples(st.integers(1_600_000_000, 1_800_000_000), st.one_of(counts, floats)),
            min_size=1,
            max_size=30,
            unique_by=lambda p: p[0],
        ).map(lambda ps: [[t, v] for t, v in sorted(ps)]),
    }
)


@given(st.lists(series, max_size=5))
def test_fast_path_agrees_with_json(result: list[dict[str, Any]]) -> None:
    raw = body(result)
    assert comparable(reference(raw)) == comparable(decoded(raw))


@given(st.lists(series, max_size=5), st.sampled_from([1, 60, 3600]))
def test_computed_timestamps_agree_with_parsed_ones(
    result: list[dict[str, Any]], step: int
) -> None:
    raw = body(result)
    assert comparable(reference(raw)) == comparable(decoded(raw, step=step))


def test_contiguous_series_get_their_times_from_the_step() -> None:
    raw = body([{"metric": {}, "values": [[3600, "1"], [7200, "2"], [10800, "3"]]}])
    assert decoded(raw, step=3600) == [({}, [3600.0, 7200.0, 10800.0], [1.0, 2.0, 3.0])]


def test_series_with_gaps_keep_their_parsed_times() -> None:
    raw = body([{"metric": {}, "values": [[3600, "1"], [10800, "3"]]}])
    assert decoded(raw, step=3600) == [({}, [3600.0, 10800.0], [1.0, 3.0])]


def test_bodies_the_fast_path_cannot_cut_fall_back_to_json() -> None:
    result = [{"metric": {"a": '"values":[[1,"2"]]'}, "values": [[1, "2.5"], [2, "NaN"]]}]
    raw = body(result, indent=2)
    assert comparable(reference(raw)) == comparable(decoded(raw))


def test_values_beyond_fifteen_digits_are_parsed_exactly() -> None:
    raw = body([{"metric": {}, "values": [[1, "12345678901234567"], [2, "0.1"]]}])
    assert decoded(raw) == [({}, [1.0, 2.0], [12345678901234567.0, 0.1])]


def test_an_error_body_is_not_a_matrix() -> None:
    with pytest.raises(ValueError, match="not a successful"):
        promjson.decode_matrix(b'{"status":"error","errorType":"bad_data","error":"x"}')


def test_a_vector_result_is_not_a_matrix() -> None:
    raw = b'{"status":"success","data":{"resultType":"vector","result":[]}}'
    with pytest.raises(ValueError, match="expected a matrix"):
        promjson.decode_matrix(raw)
