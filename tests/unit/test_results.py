"""results: the JSON rendering rules (strings for decimals, RFC 3339, stable shapes)."""

from __future__ import annotations

import decimal
from decimal import Decimal

import pytest

from sloreco.core import results
from sloreco.render import crd
from tests import factories


def test_times_are_rfc3339_utc() -> None:
    assert results.rfc3339(factories.EPOCH_2024_05_01 + 3661) == "2024-05-01T01:01:01Z"


def test_fixed_never_writes_negative_zero() -> None:
    assert results.fixed(-0.00001, 4) == "0.0000"


def test_fixed_keeps_trailing_zeros() -> None:
    assert results.fixed(0.001, 4) == "0.0010"


def test_seconds_keep_four_significant_digits() -> None:
    assert results.seconds(0.00123456) == Decimal("0.001235")


def test_seconds_round_up_when_asked() -> None:
    assert results.seconds(0.27341, decimal.ROUND_CEILING) == Decimal("0.2735")


def test_bounds_are_written_as_prometheus_3_writes_le() -> None:
    assert [results.bound(b) for b in (0.5, 1.0, 10.0)] == ["0.5", "1.0", "10.0"]


def test_decimals_never_use_exponents() -> None:
    assert results.number(Decimal("1E+2")) == "100"


def test_tier_lookup_by_name() -> None:
    result = factories.recommend_availability(
        factories.steady_availability(30, seed=1), window_seconds=28 * 86400, seed=1
    )

    assert result.tier("balanced") is result.tiers[1]


def test_unknown_tier_is_a_key_error() -> None:
    result = factories.recommend_availability(
        factories.steady_availability(30, seed=1), window_seconds=28 * 86400, seed=1
    )

    with pytest.raises(KeyError):
        result.tier("reckless")


def test_observed_availability_is_a_percent_with_four_places() -> None:
    result = factories.recommend_availability(
        factories.steady_availability(60, error_ratio=0.00123), window_seconds=28 * 86400, seed=1
    )

    observed = crd.recommendation_spec(result)["explanation"]["observed"]  # type: ignore[index]

    assert (observed["median"], observed["unit"], observed["source"]) == (
        "99.8770",
        "percent",
        "history",
    )


def test_method_names_itself_and_its_seed_as_a_string() -> None:
    result = factories.recommend_availability(
        factories.steady_availability(30, seed=1), window_seconds=28 * 86400, seed=2**63 + 5
    )

    assert crd.recommendation_spec(result)["method"] == {
        "name": "incident-predictive",
        "version": results.METHOD_VERSION,
        "resamples": 10_000,
        "blockDays": 5,
        "seed": str(2**63 + 5),
    }
