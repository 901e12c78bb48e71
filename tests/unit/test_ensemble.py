"""Peering and sharding settings (``runtime.ensemble``): parsed once, errors name the variable."""

from __future__ import annotations

import collections

import pytest

from sloreco.runtime import ensemble


def test_an_older_replica_always_outranks_a_younger_one() -> None:
    # kopf pauses the lower priority; equal priorities would pause both.
    older = [ensemble.load({}, now=1_800_000_000.000).priority for _ in range(50)]
    younger = [ensemble.load({}, now=1_800_000_000.001).priority for _ in range(50)]
    assert (min(older) > max(younger), max(older) < 2**53) == (True, True)


def test_every_namespace_has_exactly_one_shard_and_the_split_is_even() -> None:
    places = [ensemble.load({"SLORECO_SHARD": f"{k}/3"}) for k in range(3)]
    owners = collections.Counter(
        tuple(k for k, place in enumerate(places) if place.owns(f"team-{i}")) for i in range(3000)
    )
    assert set(owners) == {(0,), (1,), (2,)}
    assert min(owners.values()) > 900


def test_without_sharding_everything_is_owned() -> None:
    assert (ensemble.load({}).owns("anything"), ensemble.load({}).owns(None)) == (True, True)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SLORECO_SHARD": "2/2"}, "SLORECO_SHARD"),
        ({"SLORECO_SHARD": "1"}, "SLORECO_SHARD"),
        ({"SLORECO_SHARD": "-1/2"}, "SLORECO_SHARD"),
        ({"SLORECO_PEERING_LIFETIME": "0"}, "SLORECO_PEERING_LIFETIME"),
        ({"SLORECO_PEERING_LIFETIME": "1m"}, "SLORECO_PEERING_LIFETIME"),
    ],
)
def test_a_malformed_variable_is_named(env: dict[str, str], named: str) -> None:
    with pytest.raises(ensemble.EnsembleError, match=f"^{named}: "):
        ensemble.load(env)
