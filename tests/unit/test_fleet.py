"""controller.fleet: the fleet priors — per source, fleet and scope, on a schedule, restorable."""

from __future__ import annotations

import math

from sloreco.controller import fleet as fleets
from sloreco.core import prior as priors
from sloreco.core import priordoc

AVAILABILITY = priors.scope_of("availability")
HALF_SECOND = priors.scope_of("latency", 0.5)
FIVE_SECONDS = priors.scope_of("latency", 5.0)


def stats(incidents: int, minutes: float = 40.0) -> priors.ServiceStats:
    log = math.log(minutes)
    return priors.ServiceStats(incidents, 90.0, incidents * log, incidents * log**2)


def observed(
    fleet: fleets.Fleet,
    source: str,
    count: int,
    seen: tuple[str, priors.ServiceStats],
    *,
    named: str | None = None,
) -> None:
    """``count`` services of ``source`` (in fleet ``named``), keyed by it: no two calls collide."""
    sli = "availability" if seen[0] == AVAILABILITY else "latency"
    for i in range(count):
        key = f"ns/{named or 'svc'}-{i}"
        fleet.observe(source, key, sli, (seen,), fleet=named)


def by_scope(fleet: fleets.Fleet, source: str) -> dict[str, priors.Prior]:
    return {p.scope: p for p in fleet.priors(source)}


def test_a_fresh_operator_gives_no_prior_so_every_sli_takes_the_default() -> None:
    assert fleets.Fleet().priors("default") == ()


def test_too_small_a_fleet_keeps_the_default() -> None:
    fleet = fleets.Fleet()
    observed(fleet, "default", fleets.MIN_SERVICES - 1, (AVAILABILITY, stats(2)))

    assert fleet.learn() == {}
    assert fleet.priors("default") == ()


def test_each_source_learns_from_its_own_services_only() -> None:
    fleet = fleets.Fleet()
    observed(fleet, "busy", fleets.MIN_SERVICES, (AVAILABILITY, stats(3)))
    for i in range(fleets.MIN_SERVICES):
        fleet.observe("quiet", f"other/svc-{i}", "availability", ((AVAILABILITY, stats(0)),))

    learned = fleet.learn()

    busy, quiet = learned["busy", AVAILABILITY], learned["quiet", AVAILABILITY]
    assert busy.rate_per_day > 10 * quiet.rate_per_day
    assert (busy.origin, busy.scope, busy.services) == (
        "fleet:busy",
        AVAILABILITY,
        fleets.MIN_SERVICES,
    )
    assert fleet.priors("busy") == (busy,)


def test_latency_slis_pool_per_bound_apart_from_availability() -> None:
    fleet = fleets.Fleet()
    observed(fleet, "default", fleets.MIN_SERVICES, (AVAILABILITY, stats(1)))
    for i in range(fleets.MIN_SERVICES):
        at_both = ((HALF_SECOND, stats(2, minutes=300.0)), (FIVE_SECONDS, stats(2, minutes=3.0)))
        fleet.observe("default", f"lat/svc-{i}", "latency", at_both)

    fleet.learn()

    learned = by_scope(fleet, "default")
    assert sorted(learned) == sorted([AVAILABILITY, HALF_SECOND, FIVE_SECONDS])
    assert learned[HALF_SECOND].median_minutes > 50 * learned[FIVE_SECONDS].median_minutes
    assert learned[AVAILABILITY].incidents == fleets.MIN_SERVICES


def test_an_sli_observed_again_replaces_all_its_scopes() -> None:
    fleet = fleets.Fleet()
    observed(fleet, "default", fleets.MIN_SERVICES, (HALF_SECOND, stats(1)))
    fleet.observe("default", "ns/svc-0", "latency", ((FIVE_SECONDS, stats(1)),))

    fleet.learn()

    assert by_scope(fleet, "default") == {}  # four left at 0.5 s, one at 5 s: neither pools


def test_a_service_counts_once_with_its_latest_statistics() -> None:
    fleet = fleets.Fleet()
    observed(fleet, "default", fleets.MIN_SERVICES, (AVAILABILITY, stats(1)))
    fleet.observe("default", "ns/svc-0", "availability", ((AVAILABILITY, stats(4)),))

    assert fleet.learn()["default", AVAILABILITY].incidents == 4 + (fleets.MIN_SERVICES - 1)


def test_a_forgotten_service_leaves_the_next_prior() -> None:
    fleet = fleets.Fleet()
    observed(fleet, "default", fleets.MIN_SERVICES + 1, (AVAILABILITY, stats(1)))
    fleet.forget("ns/svc-0")

    assert fleet.learn()["default", AVAILABILITY].services == fleets.MIN_SERVICES


def test_the_configmap_keys_availability_by_source_and_latency_by_scope() -> None:
    fleet = fleets.Fleet()
    observed(fleet, "default", fleets.MIN_SERVICES, (AVAILABILITY, stats(2)))
    observed(fleet, "eu", fleets.MIN_SERVICES, (HALF_SECOND, stats(2)))
    fleet.learn()

    keys = sorted(fleet.configmap("sloreco-system")["data"])

    assert keys == ["default.json", "eu.latency-0.5s.json"]


def test_the_configmap_restores_the_learned_priors() -> None:
    fleet = fleets.Fleet()
    observed(fleet, "default", fleets.MIN_SERVICES, (AVAILABILITY, stats(2)))
    observed(fleet, "default", fleets.MIN_SERVICES, (HALF_SECOND, stats(3)))
    fleet.learn()
    body = fleet.configmap("sloreco-system")

    restored = fleets.Fleet()
    restored.restore(body)

    assert body["metadata"]["name"] == fleets.CONFIGMAP
    documents = [priordoc.document(p) for p in restored.priors("default")]
    assert documents == [priordoc.document(p) for p in fleet.priors("default")]
    assert len(documents) == 2


def test_a_configmap_entry_whose_key_is_not_its_scope_is_skipped() -> None:
    fleet = fleets.Fleet()
    observed(fleet, "default", fleets.MIN_SERVICES, (HALF_SECOND, stats(2)))
    fleet.learn()
    latency = priordoc.dumps(fleet.priors("default")[0])

    restored = fleets.Fleet()
    restored.restore({"data": {"default.json": latency}})

    assert restored.priors("default") == ()


def test_a_damaged_configmap_entry_is_skipped() -> None:
    fleet = fleets.Fleet()

    fleet.restore({"data": {"default.json": "{not json", "README": "x"}})

    assert fleet.priors("default") == ()


def test_a_named_fleet_pools_apart_and_its_members_take_its_prior() -> None:
    fleet = fleets.Fleet()
    observed(
        fleet, "default", fleets.MIN_SERVICES, (AVAILABILITY, stats(2, 600.0)), named="databases"
    )
    observed(fleet, "default", fleets.MIN_SERVICES, (AVAILABILITY, stats(2, 10.0)))

    learned = fleet.learn()

    databases, everyone = (
        learned["default_databases", AVAILABILITY],
        learned["default", AVAILABILITY],
    )
    assert (databases.origin, databases.services) == (
        "fleet:default/databases",
        fleets.MIN_SERVICES,
    )
    assert everyone.services == 2 * fleets.MIN_SERVICES  # the source's pool holds every fleet
    assert databases.median_minutes > 2 * everyone.median_minutes
    assert fleet.priors("default", "databases") == (databases,)
    assert fleet.priors("default") == (everyone,)


def test_a_fleet_too_small_takes_its_sources_prior() -> None:
    fleet = fleets.Fleet()
    observed(fleet, "default", fleets.MIN_SERVICES - 1, (AVAILABILITY, stats(2)), named="databases")
    observed(fleet, "default", fleets.MIN_SERVICES, (AVAILABILITY, stats(2)))

    learned = fleet.learn()

    assert sorted(learned) == [("default", AVAILABILITY)]
    assert fleet.priors("default", "databases") == (learned["default", AVAILABILITY],)


def test_a_fleet_without_a_scope_takes_its_sources_prior_of_that_scope() -> None:
    fleet = fleets.Fleet()
    observed(fleet, "default", fleets.MIN_SERVICES, (AVAILABILITY, stats(2)), named="databases")
    observed(fleet, "default", fleets.MIN_SERVICES, (HALF_SECOND, stats(2)))

    fleet.learn()

    given = {p.scope: p.origin for p in fleet.priors("default", "databases")}
    assert given == {AVAILABILITY: "fleet:default/databases", HALF_SECOND: "fleet:default"}


def test_a_service_that_leaves_its_fleet_leaves_its_pool() -> None:
    fleet = fleets.Fleet()
    observed(fleet, "default", fleets.MIN_SERVICES, (AVAILABILITY, stats(2)), named="databases")
    fleet.observe("default", "ns/databases-0", "availability", ((AVAILABILITY, stats(2)),))

    learned = fleet.learn()

    assert ("default_databases", AVAILABILITY) not in learned  # four left: too few
    assert learned["default", AVAILABILITY].services == fleets.MIN_SERVICES


def test_a_named_fleets_prior_is_saved_under_its_own_key_and_restored() -> None:
    fleet = fleets.Fleet()
    observed(fleet, "default", fleets.MIN_SERVICES, (AVAILABILITY, stats(2)), named="databases")
    fleet.learn()
    body = fleet.configmap("sloreco-system")

    restored = fleets.Fleet()
    restored.restore(body)

    assert sorted(body["data"]) == ["default.json", "default_databases.json"]
    documents = [priordoc.document(p) for p in restored.priors("default", "databases")]
    assert documents == [priordoc.document(p) for p in fleet.priors("default", "databases")]


def test_a_fleet_not_yet_learned_says_which_prior_stands_in() -> None:
    fleet = fleets.Fleet()
    observed(fleet, "default", fleets.MIN_SERVICES, (AVAILABILITY, stats(2)))
    fleet.learn()

    source = fleet.unlearned("default", "databases", AVAILABILITY)
    default = fleet.unlearned("default", "databases", HALF_SECOND)

    assert source == (
        f"Fleet 'databases' has no availability prior yet (it needs {fleets.MIN_SERVICES} SLIs "
        "with history at this scope): the prior of source 'default' is used."
    )
    assert default is not None
    assert default.endswith(": the default prior is used.")


def test_a_learned_fleet_or_none_named_needs_no_note() -> None:
    fleet = fleets.Fleet()
    observed(fleet, "default", fleets.MIN_SERVICES, (AVAILABILITY, stats(2)), named="databases")
    fleet.learn()

    assert fleet.unlearned("default", "databases", AVAILABILITY) is None
    assert fleet.unlearned("default", None, AVAILABILITY) is None


def test_a_pools_members_are_the_service_levels_that_feed_it() -> None:
    fleet = fleets.Fleet()
    observed(fleet, "default", 2, (AVAILABILITY, stats(1)), named="db")  # ns/db-0, ns/db-1
    fleet.observe("other", "team/svc-0", "availability", ((AVAILABILITY, stats(1)),))

    assert fleet.members({fleets.pool("default", "db")}) == [("ns", "db-0"), ("ns", "db-1")]
    assert fleet.members({"default"}) == [("ns", "db-0"), ("ns", "db-1")]
    assert fleet.members({"other"}) == [("team", "svc-0")]


def test_the_priors_in_force_are_named_by_pool_and_scope() -> None:
    fleet = fleets.Fleet()
    observed(fleet, "default", fleets.MIN_SERVICES, (AVAILABILITY, stats(1)))
    before = fleet.in_force()
    fleet.learn()

    assert (before, fleet.in_force()) == (set(), {("default", AVAILABILITY)})


def test_a_named_fleets_prior_pools_more_narrowly_than_its_sources() -> None:
    fleet = fleets.Fleet()
    observed(fleet, "default", fleets.MIN_SERVICES, (AVAILABILITY, stats(1)), named="db")
    origins = sorted(p.origin for p in fleet.learn().values())

    assert [fleets.specificity(o) for o in ["default", *origins]] == [0, 1, 2]
