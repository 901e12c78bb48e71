"""``controller.adopt``'s pure half: which objects the adopted tier becomes, and when an existing
object needs a write. The writes themselves run against the real apiserver in
``tests/integration/test_adopt.py``."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from sloreco import errors
from sloreco.controller import adopt, children
from sloreco.render import crd
from sloreco.spec import model as specs
from tests import factories

PARENT: dict[str, Any] = {
    "apiVersion": "sloreco.dev/v1alpha1",
    "kind": "ServiceLevel",
    "metadata": {"name": "web", "namespace": "shop", "uid": "uid-1"},
}


@pytest.fixture(scope="module")
def kids() -> dict[str, list[dict[str, Any]]]:
    """One Active child per SLI, as the operator writes them."""
    availability = factories.recommend_availability(
        factories.synthetic_availability(days=35), window_seconds=28 * 86400, seed=1
    )
    latency = factories.recommend_latency(
        factories.synthetic_latency(days=35, requests_per_bucket=200),
        percentile=Decimal(99),
        window_seconds=28 * 86400,
        seed=1,
    )
    out: dict[str, list[dict[str, Any]]] = {}
    for result in (availability, latency):
        spec = children.child_spec(
            parent_name="web",
            service="checkout",
            recommendation=crd.recommendation_spec(result),
            generated_at=1717200000,
            ttl_seconds=172800,
        )
        child = children.manifest(PARENT, spec=spec, generation=1, name=f"web-{result.sli}-abc")
        child["status"] = {"state": children.ACTIVE}
        out[result.sli] = [child]
    return out


def _spec(**adopt: Any) -> specs.ServiceLevelSpec:
    raw = factories.service_level("web", service="checkout", latency=True, adopt=adopt)["spec"]
    return specs.parse_service_level_spec(raw)


def test_each_kind_becomes_its_objects_named_after_the_servicelevel(
    kids: dict[str, list[dict[str, Any]]],
) -> None:
    spec = _spec(tier="balanced", publish=["ServiceLevelObjective", "PrometheusRule"])
    slos = adopt.objectives(spec, kids)
    wanted = adopt.desired(PARENT, spec, slos)
    assert [(kind, doc["metadata"]["name"]) for kind, doc in wanted] == [
        ("ServiceLevelObjective", "web-availability"),
        ("ServiceLevelObjective", "web-latency"),
        ("PrometheusRule", "web"),
    ]
    for _, doc in wanted:
        meta = doc["metadata"]
        assert meta["namespace"] == "shop"
        assert meta["labels"]["sloreco.dev/service-level"] == "web"
        [owner] = meta["ownerReferences"]
        assert (owner["uid"], owner["controller"]) == ("uid-1", True)
        assert adopt.owned_by(doc, PARENT)
    balanced = next(t for t in kids["availability"][0]["spec"]["tiers"] if t["name"] == "balanced")
    assert wanted[0][1]["spec"]["target"] == str(Decimal(balanced["target"]).normalize())


def test_without_adopt_or_an_active_child_nothing_is_wanted(
    kids: dict[str, list[dict[str, Any]]],
) -> None:
    plain = specs.parse_service_level_spec(factories.service_level("web", service="c")["spec"])
    assert adopt.objectives(plain, kids) == []
    spec = _spec(tier="balanced", publish=["PrometheusRule"])
    assert adopt.desired(PARENT, spec, adopt.objectives(spec, {})) == []


def test_a_write_is_needed_only_when_what_we_manage_differs(
    kids: dict[str, list[dict[str, Any]]],
) -> None:
    spec = _spec(tier="aggressive", publish=["PrometheusRule"])
    [(_, doc)] = adopt.desired(PARENT, spec, adopt.objectives(spec, kids))
    stored = copy.deepcopy(doc)
    stored["metadata"]["resourceVersion"] = "7"
    stored["metadata"]["labels"]["added-by-someone"] = "x"  # not ours: no reason to write
    assert not adopt._differs(stored, doc)
    stored["spec"]["groups"][0]["rules"][0]["expr"] = "vector(1)"
    assert adopt._differs(stored, doc)
    other = _spec(tier="balanced", publish=["PrometheusRule"])
    [(_, balanced)] = adopt.desired(PARENT, other, adopt.objectives(other, kids))
    assert adopt._differs(doc, balanced)


def test_a_kind_named_twice_is_refused() -> None:
    with pytest.raises(errors.InputError, match="must not name a kind twice"):
        _spec(tier="balanced", publish=["PrometheusRule", "PrometheusRule"])
