"""SloRecommendation manifests: names, labels, owner references (pure)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from sloreco import api
from sloreco.controller import children

PARENT: dict[str, Any] = {
    "apiVersion": "sloreco.dev/v1alpha1",
    "kind": "ServiceLevel",
    "metadata": {
        "name": "checkout",
        "namespace": "shop",
        "uid": "0b5c6a1e-1111-2222-3333-444455556666",
        "generation": 3,
        "labels": {"app.kubernetes.io/instance": "shop", "team": "payments"},
    },
}
RECOMMENDATION: dict[str, Any] = {
    "sli": "availability",
    "window": "28d",
    "tiers": [
        {"name": "conservative", "target": "99.50"},
        {"name": "balanced", "target": "99.80"},
        {"name": "aggressive", "target": "99.90"},
    ],
}


def make_spec(**overrides: Any) -> dict[str, Any]:
    return children.child_spec(
        parent_name="checkout",
        service="checkout",
        recommendation={**RECOMMENDATION, **overrides},
        generated_at=1_700_000_000 - 1_700_000_000 % 3600,
        ttl_seconds=7200,
    )


def test_same_content_gives_same_name() -> None:
    assert children.child_name("checkout", "availability", make_spec()) == children.child_name(
        "checkout", "availability", make_spec()
    )


def test_different_content_gives_different_name() -> None:
    assert children.child_name("checkout", "availability", make_spec()) != children.child_name(
        "checkout", "availability", make_spec(window="7d")
    )


def test_name_ignores_when_the_recommendation_was_made() -> None:
    later = {
        **make_spec(),
        "generatedAt": "2030-01-01T00:00:00Z",
        "expiresAt": "2030-01-03T00:00:00Z",
    }
    assert children.child_name("checkout", "availability", later) == children.child_name(
        "checkout", "availability", make_spec()
    )


def test_a_revision_gives_the_same_content_a_new_name() -> None:
    assert children.child_name("c", "latency", make_spec(), revision=1) != children.child_name(
        "c", "latency", make_spec()
    )


def test_name_has_parent_sli_and_hash() -> None:
    name = children.child_name("checkout", "availability", make_spec())
    assert name.startswith("checkout-availability-")
    assert len(name.rsplit("-", 1)[1]) == children.HASH_LENGTH


def test_long_parent_names_stay_within_the_dns_limit() -> None:
    name = children.child_name("a" * 253, "latency", make_spec())
    assert len(name) <= children.MAX_NAME


def test_expiry_is_generation_time_plus_ttl() -> None:
    spec = make_spec()
    assert children.expires_at({"spec": spec}) - children.generated_at({"spec": spec}) == 7200


def test_manifest_never_copies_parent_labels() -> None:
    labels = children.manifest(
        PARENT, spec=make_spec(), generation=3, name="checkout-availability-x"
    )["metadata"]["labels"]
    assert labels == {
        api.LABEL_SERVICE_LEVEL: "checkout",
        api.LABEL_SLI: "availability",
        api.LABEL_STATE: "Pending",
    }


def test_a_first_child_is_created_active() -> None:
    retired = {"status": {"state": children.SUPERSEDED}}
    siblings = [retired, {"status": {"state": children.EXPIRED}}]
    assert [children.first_state([]), children.first_state(siblings)] == ["Active", "Active"]


@pytest.mark.parametrize("live", [children.ACTIVE, children.PENDING])
def test_a_child_with_a_live_sibling_is_created_pending(live: str) -> None:
    assert children.first_state([{"status": {"state": live}}]) == children.PENDING


def test_a_child_created_pending_has_no_status() -> None:
    fresh = children.manifest(PARENT, spec=make_spec(), generation=3, name="checkout-a-x")
    child = children.entering(fresh, children.PENDING, now=1_714_521_600.0)
    assert (child["metadata"]["labels"][api.LABEL_STATE], "status" in child) == ("Pending", False)


def test_a_child_created_active_says_so_in_its_status_and_label() -> None:
    fresh = children.manifest(PARENT, spec=make_spec(), generation=3, name="checkout-a-x")
    child = children.entering(fresh, children.ACTIVE, now=1_714_521_600.0)
    assert (child["metadata"]["labels"][api.LABEL_STATE], child["status"]) == (
        "Active",
        {"state": "Active", "stateChangedAt": "2024-05-01T00:00:00Z"},
    )


def test_manifest_is_owned_by_its_parent_as_controller() -> None:
    owners = children.manifest(
        PARENT, spec=make_spec(), generation=3, name="checkout-availability-x"
    )["metadata"]["ownerReferences"]
    assert owners == [
        {
            "apiVersion": "sloreco.dev/v1alpha1",
            "kind": "ServiceLevel",
            "name": "checkout",
            "uid": PARENT["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]


def test_latency_tier_summary_is_the_share_within_the_bound() -> None:
    tier = {"target": "99.2", "threshold": "0.4218", "bucketBound": "0.5"}
    assert children.tier_summary("latency", tier, percentile="99") == "99.2% ≤ 500ms"


@pytest.mark.parametrize(
    ("bound", "text"), [("0.005", "5ms"), ("0.25", "250ms"), ("1", "1s"), ("2.5", "2.5s")]
)
def test_bounds_read_in_milliseconds_under_a_second(bound: str, text: str) -> None:
    assert children.bound_text(bound) == text


def test_newest_first_orders_by_data_end_then_name() -> None:
    old = {"metadata": {"name": "b"}, "spec": {"generatedAt": "2026-01-01T00:00:00Z"}}
    new_b = {"metadata": {"name": "b"}, "spec": {"generatedAt": "2026-01-02T00:00:00Z"}}
    new_a = {"metadata": {"name": "a"}, "spec": {"generatedAt": "2026-01-02T00:00:00Z"}}
    assert children.newest_first([old, new_b, new_a]) == [new_a, new_b, old]


def test_a_long_parent_name_gets_a_label_value_that_fits() -> None:
    """Issue 10: a ServiceLevel name over 63 characters made every list of its children a 400."""
    long = "a" * 60 + ".b" * 40  # a valid DNS subdomain of 140 characters
    short = "checkout"
    label = api.service_level_label(long)
    assert (len(label), label.startswith("a" * 40), api.service_level_label(short)) == (
        63,
        True,
        short,
    )
    assert api.service_level_label(long + "c") != label
    assert re.fullmatch(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]", label)


def test_a_child_records_the_prior_it_was_computed_under() -> None:
    used = children.PriorUsed("fleet:default", "latency-0.5s")
    fresh = children.manifest(
        PARENT, spec=make_spec(), generation=3, name="x", under=children.Under(prior=used)
    )
    assert children.computed_under_prior(fresh) == used


def test_a_child_without_a_recorded_prior_reads_as_none() -> None:
    fresh = children.manifest(PARENT, spec=make_spec(), generation=3, name="x")
    assert children.computed_under_prior(fresh) is None
