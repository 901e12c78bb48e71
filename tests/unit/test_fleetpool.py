"""fleetpool: how a fleet's incident sizes split between its services and within them."""

from __future__ import annotations

import numpy as np
import pytest

from sloreco.core import fleetpool
from sloreco.core import prior as priors


def _stats(sizes: list[list[float]]) -> list[priors.ServiceStats]:
    """One service per list of log sizes, each seen over 90 days."""
    return [
        priors.ServiceStats(
            len(s), 90.0, float(sum(s)), float(sum(x * x for x in s)), tuple(map(float, s))
        )
        for s in sizes
    ]


def test_a_few_services_with_two_incidents_do_not_set_every_services_spread() -> None:
    # One population (log sizes spread 1.2, as one rare incident each shows them), and two
    # services whose two incidents happened to agree: 2 degrees of freedom within services.
    rng = np.random.default_rng(3)
    singles = [[float(x)] for x in rng.normal(3.0, 1.2, 14)]
    fleet = _stats([*singles, [2.0, 2.1], [4.0, 4.1]])
    logs = np.array([x for s in fleet for x in s.log_sizes])

    pooled = fleetpool.pool(fleet, origin="rare")
    variance = pooled.size_scale / (pooled.size_shape - 1)

    # the fleet's total spread, not the 0.005 the two pairs show, and a service is its fleet:
    # its mean as strong as the fleet's incidents (below ``MAX_STRENGTH``)
    assert variance == pytest.approx(float(logs.var()))
    assert pooled.size_strength == len(logs)


def test_enough_services_with_several_incidents_keep_them_apart() -> None:
    # The same two agreeing pairs, and ten services more whose own two incidents agree while
    # their means spread: 12 degrees of freedom say the spread is between services.
    means = np.linspace(1.0, 5.0, 10)
    fleet = _stats([[2.0, 2.1], [4.0, 4.1], *[[m - 0.05, m + 0.05] for m in means]])

    pooled = fleetpool.pool(fleet, origin="apart")

    assert pooled.size_scale / (pooled.size_shape - 1) == pytest.approx(0.05)  # the floor
    assert pooled.size_strength < 1.0
