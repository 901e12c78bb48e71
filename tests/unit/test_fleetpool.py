"""fleetpool: how a fleet's incident sizes split between its services and within them."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest

from sloreco.core import fleetpool, priordoc, sizeshape
from sloreco.core import prior as priors
from tests import factories


def _posterior(variance: float, freedom: int) -> float:
    """A fleet's size variance read with ``freedom`` degrees of freedom, with the default's
    spread as its prior (``fleetpool.FALLBACK_FREEDOM``)."""
    default = priors.DEFAULT_LOG_SD**2
    weight = fleetpool.FALLBACK_FREEDOM
    return (weight * default + freedom * variance) / (weight + freedom)


def _variance(prior: priors.Prior) -> float:
    return prior.size_scale / (prior.size_shape - 1)


def test_a_few_services_with_two_incidents_do_not_set_every_services_spread() -> None:
    # One population (log sizes spread 1.2, as one rare incident each shows them), and two
    # services whose two incidents happened to agree: 2 degrees of freedom within services.
    rng = np.random.default_rng(3)
    singles = [[float(x)] for x in rng.normal(3.0, 1.2, 14)]
    fleet = factories.seen_sizes([*singles, [2.0, 2.1], [4.0, 4.1]])
    logs = np.array([x for s in fleet for x in s.log_sizes])

    pooled = fleetpool.pool(fleet, origin="rare")

    # the fleet's total spread (18 incidents, 17 degrees of freedom), not the 0.005 the two
    # pairs show, and a service is its fleet: its mean as strong as the fleet's incidents
    # (below ``MAX_STRENGTH``)
    assert _variance(pooled) == pytest.approx(_posterior(float(logs.var()), len(logs) - 1))
    assert pooled.size_strength == len(logs)


def test_enough_services_with_several_incidents_keep_them_apart() -> None:
    # The same two agreeing pairs, and ten services more whose own two incidents agree while
    # their means spread: 12 degrees of freedom say the spread is between services.
    means = np.linspace(1.0, 5.0, 10)
    fleet = factories.seen_sizes([[2.0, 2.1], [4.0, 4.1], *[[m - 0.05, m + 0.05] for m in means]])

    pooled = fleetpool.pool(fleet, origin="apart")

    # the floor's within variance, from 24 incidents in 12 services
    assert _variance(pooled) == pytest.approx(_posterior(0.05, 24 - 12))
    assert pooled.size_strength < 1.0


def test_a_fleets_few_alike_incidents_keep_much_of_the_defaults_spread() -> None:
    # Four incidents that happened to be alike (a quiet fleet's whole record) say little about
    # how the next ones spread; four hundred say it.
    rng = np.random.default_rng(5)
    few = fleetpool.pool(factories.seen_sizes([[3.0], [3.1], [3.2], [3.3]]), origin="few")
    many = fleetpool.pool(
        factories.seen_sizes([[float(x)] for x in rng.normal(3.0, 0.3, 400)]), origin="many"
    )

    assert _variance(few) > 0.5 * priors.DEFAULT_LOG_SD**2
    assert _variance(many) == pytest.approx(0.09, rel=0.2)


def test_a_fleets_median_is_its_own_however_few_its_incidents() -> None:
    # Its error is drawn already (``Prior.estimate_variances``); the default's 40 minutes is
    # an assumption about one service, not evidence about a fleet of eight-hour outages.
    fleet = fleetpool.pool(factories.seen_sizes([[6.2], [6.2], [6.2]]), origin="three")

    assert fleet.size_log_mean == pytest.approx(6.2)


def test_a_fleet_records_its_largest_incident_and_its_document_keeps_it() -> None:
    fleet = fleetpool.pool(factories.seen_sizes([[3.0, 9.5], [4.0]]), origin="big")

    again = priordoc.loads(priordoc.dumps(fleet))

    assert fleet.largest_minutes == pytest.approx(math.exp(9.5))
    assert again.largest_minutes == fleet.largest_minutes
    assert "largest" not in priordoc.document(priors.DEFAULT)["size"]  # none recorded: none written


def _point(prior: priors.Prior, probability: float) -> float:
    """The fleet's standardized log size at ``probability`` (a point of its table)."""
    return prior.size_quantiles[sizeshape.LADDER.index(probability)]


def test_a_fleet_whose_means_differ_takes_its_shape_around_each_services_mean() -> None:
    # Two groups of services, means 2 and 6, sizes normal around them (sd 0.5): the pooled
    # sizes are two humps a standard deviation either side of the fleet's mean, while each
    # service's own are the normal's shape, which is what its posterior places and spreads.
    rng = np.random.default_rng(7)
    fleet = factories.seen_sizes(
        [list(rng.normal(2.0 if k % 2 else 6.0, 0.5, 8)) for k in range(40)]
    )

    pooled = fleetpool.pool(fleet, origin="two-groups")

    normal = statistics.NormalDist()
    for p in (0.3, 0.7):
        assert _point(pooled, p) == pytest.approx(normal.inv_cdf(p), abs=0.1)


def test_a_fleet_of_one_population_takes_its_shape_from_every_incident() -> None:
    # One incident per service: no service's own sizes show a shape, the fleet's together do
    # (log sizes exponential: the median 0.31 standard deviations below the mean).
    rng = np.random.default_rng(8)
    fleet = factories.seen_sizes([[float(x)] for x in rng.exponential(1.0, 200)])

    pooled = fleetpool.pool(fleet, origin="singles")

    assert _point(pooled, 0.5) == pytest.approx(math.log(2.0) - 1.0, abs=0.1)
