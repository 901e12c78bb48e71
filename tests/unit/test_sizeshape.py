"""The shape of an incident's size: where a fleet's table ends and its tail begins."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sloreco import errors
from sloreco.core import fleetpool, priordoc, sizekinds, sizeshape
from sloreco.core import prior as priors
from tests import factories


def _fleet(logs: np.ndarray) -> priors.Prior:
    """A fleet of services with four incidents each, of these log sizes, read as one kind: the
    shape of a mixture, which a fleet that tells kinds apart (``sizekinds``) splits first."""
    with mock.patch.object(sizekinds, "split", return_value=None):
        return fleetpool.pool(factories.seen_sizes(logs.reshape(-1, 4)), origin="fleet:test")


def _blips_and_outages(rng: np.random.Generator) -> np.ndarray:
    """Blips of a few minutes and, one incident in seventeen, outages of hours."""
    blips = rng.normal(1.5, 0.6, 490)
    outages = rng.normal(5.5, 0.5, 30)
    return rng.permutation(np.concatenate([blips, outages]))


@pytest.mark.parametrize(("incidents", "points"), [(160, 16), (200, 17), (300, 18), (520, 19)])
def test_a_table_goes_up_the_ladder_while_enough_incidents_lie_beyond(
    incidents: int, points: int
) -> None:
    fleet = _fleet(np.random.default_rng(5).normal(3.0, 1.0, incidents))

    assert len(fleet.size_quantiles) == points


def test_the_tail_of_a_mixture_starts_where_its_incidents_stop_telling() -> None:
    # Peaks over a threshold as high as the fleet's incidents allow: above the body's 80% a
    # fit reads the climb from blips to outages as a tail that goes on past the outages.
    rng = np.random.default_rng(11)
    logs = _blips_and_outages(rng)
    z = (logs - logs.mean()) / logs.std()
    truth = float(np.quantile(z, 0.995))

    def far_point(fleet: priors.Prior) -> float:
        drawn = sizeshape.draw_shape(fleet.size_quantiles, fleet.size_tail, rng, 400_000)
        return float(np.quantile(drawn, 0.995))

    laddered = _fleet(logs)
    with mock.patch.object(fleetpool, "MIN_TAIL_EXCEEDANCES", len(logs) + 1):
        body_only = _fleet(logs)

    assert (len(laddered.size_quantiles), len(body_only.size_quantiles)) == (19, 16)
    # Standard deviations of log size over the fleet's own 99.5% point (measured: 0.27, 1.80).
    assert far_point(laddered) - truth < 0.4
    assert far_point(body_only) - truth > 1.0


def test_survival_reads_a_laddered_table_at_its_own_points_and_its_tail_beyond() -> None:
    fleet = _fleet(_blips_and_outages(np.random.default_rng(3)))
    shape = (fleet.size_quantiles, fleet.size_tail)
    points = np.array(fleet.size_quantiles)
    beyond = points[-1] + np.array([1e-9, 0.5, 1.0])

    at_points = sizeshape.survival(*shape, points)
    tail = sizeshape.survival(*shape, beyond)

    assert at_points == pytest.approx(1.0 - np.array(sizeshape.LADDER), abs=1e-9)
    assert tail[0] == pytest.approx(1.0 - sizeshape.LADDER[-1])
    assert tail[0] > tail[1] > tail[2] >= 0.0


def test_a_laddered_prior_round_trips_through_its_document() -> None:
    fleet = _fleet(_blips_and_outages(np.random.default_rng(3)))

    again = priordoc.loads(priordoc.dumps(fleet))

    assert len(again.size_quantiles) == len(sizeshape.LADDER)
    assert priordoc.document(again) == priordoc.document(fleet)


@pytest.mark.parametrize(
    "length", [len(sizeshape.SHAPE_PROBABILITIES) - 1, len(sizeshape.LADDER) + 1]
)
def test_a_table_off_the_ladder_is_rejected_by_field(length: int) -> None:
    quantiles = tuple(np.linspace(-1.5, 2.0, length))

    with pytest.raises(errors.InputError, match=r"prior\.size\.quantiles"):
        priors.Prior(1.0, 100.0, 3.0, 1.0, 3.0, 2.0, size_quantiles=quantiles)


@given(
    logs=st.lists(st.floats(-3.0, 9.0), min_size=40, max_size=800).filter(
        lambda v: len(v) % 4 == 0
    ),
)
def test_any_fleet_of_sizes_pools_into_a_valid_prior_that_round_trips(logs: list[float]) -> None:
    # Ties, clumps and outliers included: the table never decreases, stays on the ladder, and
    # the document reads back as the same prior.
    fleet = _fleet(np.asarray(logs))

    assert len(sizeshape.SHAPE_PROBABILITIES) <= len(fleet.size_quantiles) <= len(sizeshape.LADDER)
    assert priordoc.document(priordoc.loads(priordoc.dumps(fleet))) == priordoc.document(fleet)


@given(
    seed=st.integers(0, 2**32 - 1),
    points=st.integers(len(sizeshape.SHAPE_PROBABILITIES), len(sizeshape.LADDER)),
    scale=st.floats(0.05, 3.0),
    xi=st.floats(sizeshape.MIN_TAIL_SHAPE, sizeshape.MAX_TAIL_SHAPE),
)
def test_survival_never_rises_and_a_draw_above_a_point_lies_above_it(
    seed: int, points: int, scale: float, xi: float
) -> None:
    rng = np.random.default_rng(seed)
    quantiles = tuple(np.sort(rng.normal(0.0, 1.0, points)).tolist())
    z = np.linspace(quantiles[0] - 1.0, quantiles[-1] + 10.0, 400)

    exceeded = sizeshape.survival(quantiles, (scale, xi), z)
    drawn = sizeshape.draw_above(quantiles, (scale, xi), rng, exceeded)

    assert np.all(np.diff(exceeded) <= 1e-12)
    assert np.all((exceeded >= 0.0) & (exceeded <= 1.0))
    # Down to one draw in a billion: further out, 1 - u rounds in float64.
    reachable = exceeded > 1e-9
    assert np.all(drawn[reachable] >= z[reachable] - 1e-9)
