"""incidentloss._stratified: one draw from each equally likely stratum, in a random order."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from sloreco.core import incidentloss

M = incidentloss.STRATA_DRAWS


def _ranks(posts: int, outer: int, seed: int) -> np.ndarray:
    """The stratified picks of a pool whose values are their own ranks: value ``v`` is the
    ``v``-th smallest of its posterior's pool, so its stratum is ``v // M``."""
    pool_rng = np.random.default_rng(seed)

    def draw(m: int) -> np.ndarray:
        ranks = [pool_rng.permutation(outer * m) for _ in range(posts)]
        return np.concatenate(ranks).astype(np.float64)

    picks = incidentloss._stratified(draw, np.random.default_rng(seed + 1), posts, outer)
    return picks.reshape(posts, outer)


@given(
    posts=st.integers(1, 4),
    outer=st.integers(2, 64),
    seed=st.integers(0, 2**32 - 1),
)
def test_each_posterior_gets_one_draw_from_every_stratum(posts: int, outer: int, seed: int) -> None:
    picks = _ranks(posts, outer, seed)

    for row in picks:
        assert sorted((row // M).astype(int).tolist()) == list(range(outer))


def test_the_strata_come_in_a_random_order_not_sorted() -> None:
    # Sorted picks would pair every parameter's low draws with the others' low draws: the
    # rate, the spread and the location would all be extreme in the same pseudo-histories.
    picks = _ranks(1, 128, seed=7)[0]

    strata = picks // M
    assert not np.array_equal(strata, np.sort(strata))
    assert abs(np.corrcoef(strata, np.arange(128))[0, 1]) < 0.3


def test_the_draws_keep_the_distribution_they_stratify() -> None:
    # 200 posteriors x 128 stratified gamma(0.5) draws: the mean and the upper decile are the
    # distribution's (0.5; the 90% point of chi-square(1) / 2 = 1.3528), within a few
    # standard errors of 25,600 draws.
    rng = np.random.default_rng(11)
    posts, outer = 200, 128

    drawn = incidentloss._stratified(
        lambda m: rng.gamma(np.full(posts * outer * m, 0.5)), rng, posts, outer
    )

    assert abs(drawn.mean() - 0.5) < 0.02
    assert abs(np.quantile(drawn, 0.9) - 1.3528) < 0.04
