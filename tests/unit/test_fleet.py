"""controller.fleet: the operator's fleet prior — learned per source, on a schedule, restorable."""

from __future__ import annotations

import math

from sloreco.controller import fleet as fleets
from sloreco.core import prior as priors


def stats(incidents: int) -> priors.ServiceStats:
    log = math.log(40.0)
    return priors.ServiceStats(incidents, 90.0, incidents * log, incidents * log**2)


def test_a_fresh_operator_uses_the_default_prior() -> None:
    assert fleets.Fleet().prior("default") == priors.DEFAULT


def test_too_small_a_fleet_keeps_the_default() -> None:
    fleet = fleets.Fleet()
    for i in range(fleets.MIN_SERVICES - 1):
        fleet.observe("default", f"ns/svc-{i}", stats(2))

    assert fleet.learn() == {}
    assert fleet.prior("default") == priors.DEFAULT


def test_each_source_learns_from_its_own_services_only() -> None:
    fleet = fleets.Fleet()
    for i in range(fleets.MIN_SERVICES):
        fleet.observe("busy", f"ns/svc-{i}", stats(3))
        fleet.observe("quiet", f"ns/svc-{i}", stats(0))

    learned = fleet.learn()

    assert learned["busy"].rate_per_day > 10 * learned["quiet"].rate_per_day
    assert (learned["busy"].origin, learned["busy"].services) == ("fleet:busy", 5)
    assert fleet.prior("busy") == learned["busy"]


def test_a_service_counts_once_with_its_latest_statistics() -> None:
    fleet = fleets.Fleet()
    for i in range(fleets.MIN_SERVICES):
        fleet.observe("default", f"ns/svc-{i}", stats(1))
    fleet.observe("default", "ns/svc-0", stats(4))

    assert fleet.learn()["default"].incidents == 4 + (fleets.MIN_SERVICES - 1)


def test_the_configmap_restores_the_learned_priors() -> None:
    fleet = fleets.Fleet()
    for i in range(fleets.MIN_SERVICES):
        fleet.observe("default", f"ns/svc-{i}", stats(2))
    fleet.learn()
    body = fleet.configmap("sloreco-system")

    restored = fleets.Fleet()
    restored.restore(body)

    assert body["metadata"]["name"] == fleets.CONFIGMAP
    assert restored.prior("default").to_document() == fleet.prior("default").to_document()


def test_a_damaged_configmap_entry_is_skipped() -> None:
    fleet = fleets.Fleet()

    fleet.restore({"data": {"default.json": "{not json", "README": "x"}})

    assert fleet.prior("default") == priors.DEFAULT
