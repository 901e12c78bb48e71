"""The background's spells beyond the bootstrap's blocks (``core.persistence``)."""

from __future__ import annotations

import numpy as np
import pytest

from sloreco.core import persistence, spelldraw

DAYS = 90
TRAFFIC = 48_000.0  # a day of 2,000 requests an hour


def pool_of(shares: np.ndarray, seed: int = 1) -> np.ndarray:
    """Days ``(bad, total)`` with these daily bad shares, bad events Poisson."""
    total = np.full(len(shares), TRAFFIC)
    bad = np.random.default_rng(seed).poisson(total * shares).astype(np.float64)
    return np.stack([bad, total], axis=1)


def fit_of(pool: np.ndarray) -> persistence.Persistence | None:
    """What the forecast widens with: the days' reading, when it has a variance to add."""
    return persistence.widening(persistence.Persistence.read(pool))


def ar_shares(phi: float, days: int, seed: int, *, mean: float = 0.001) -> np.ndarray:
    rng = np.random.default_rng(seed)
    level = np.empty(days)
    level[0] = rng.standard_normal()
    for day in range(1, days):
        level[day] = phi * level[day - 1] + np.sqrt(1 - phi**2) * rng.standard_normal()
    sigma = np.sqrt(np.log(2.0))  # coefficient of variation 1
    return mean * np.exp(sigma * level - sigma**2 / 2)


@pytest.mark.parametrize("phi", [0.5, 0.8])
def test_the_fit_reads_the_day_to_day_persistence(phi: float) -> None:
    fits = [fit_of(pool_of(ar_shares(phi, 400, s), s)) for s in range(8)]

    read = np.mean([f.phi for f in fits if f is not None])
    # The lognormal of an AR(1) of ``phi`` correlates a little less than ``phi`` from day to day.
    assert phi - 0.15 < read < phi + 0.05


def test_long_spells_are_read_without_the_sample_autocorrelations_bias() -> None:
    # Gaussian AR(1) shares (coefficient of variation 0.1) at a billion requests a day, so that
    # neither skew nor Poisson noise moves the reading: what is left is the lag-one sample
    # autocorrelation's bias, -(1 + 4 phi) / n (Marriott & Pope 1954). Corrected by Kendall's
    # -(1 + 3 phi) / n instead, 400 histories of 90 days read 0.885 for 0.9; by this, 0.895
    # (standard error 0.003).
    phi, histories = 0.9, 400
    rng = np.random.default_rng(9)
    level = np.empty((histories, DAYS))
    level[:, 0] = rng.standard_normal(histories)
    for day in range(1, DAYS):
        level[:, day] = phi * level[:, day - 1] + np.sqrt(1 - phi**2) * rng.standard_normal(
            histories
        )
    total = np.full(DAYS, 1e9)
    reads = [
        persistence.Persistence.read(
            np.stack([rng.poisson(total * 0.001 * (1 + 0.1 * row)).astype(np.float64), total], 1)
        )
        for row in level
    ]

    assert abs(np.mean([r.phi for r in reads if r is not None]) - phi) < 0.01


def test_independent_days_read_as_little_persistence() -> None:
    rng = np.random.default_rng(3)
    fit = fit_of(pool_of(0.001 * rng.gamma(2.0, 0.5, DAYS)))

    assert fit is not None
    assert fit.phi < 0.25


def test_poisson_noise_alone_is_not_read_as_persistence() -> None:
    fits = [fit_of(pool_of(np.full(DAYS, 0.001), s)) for s in range(8)]

    assert all(f is None or f.variance < 0.01 for f in fits)


def test_too_few_days_fit_nothing() -> None:
    assert fit_of(pool_of(ar_shares(0.9, 10, 1))) is None


def test_blocks_that_outlast_the_correlation_miss_nothing() -> None:
    fit = persistence.Persistence(days=DAYS, variance=0.5, phi=0.0)

    missed = fit.missed(np.array([0.0, 0.1]), span=28, block_days=5)

    assert missed[0] == 0.0
    # Only the few junctions between blocks: under a tenth of the window mean's own variance.
    assert missed[1] < 0.1 * 0.5 / 28


def test_longer_spells_leave_more_to_add() -> None:
    fit = persistence.Persistence(days=DAYS, variance=0.5, phi=0.5)

    missed = fit.missed(np.array([0.3, 0.6, 0.9]), span=28, block_days=5)

    assert missed[0] < missed[1] < missed[2]


def test_widening_spreads_windows_around_the_same_level() -> None:
    rng = np.random.default_rng(5)
    windows = 1.0 - 0.001 * rng.gamma(20.0, 0.05, (128, 500))
    fit = persistence.Persistence(days=DAYS, variance=0.6, phi=0.85)

    wide = spelldraw.widen(windows, fit, window_days=28, block_days=5, rng=np.random.default_rng(6))

    assert wide.shape == windows.shape
    assert (1 - wide).mean() == pytest.approx((1 - windows).mean(), rel=0.05)
    assert (1 - wide).std() > 1.5 * (1 - windows).std()
    assert ((wide >= 0) & (wide <= 1)).all()


def test_no_fit_leaves_the_windows_as_they_are() -> None:
    windows = np.full((4, 10), 0.999)

    same = spelldraw.widen(
        windows, None, window_days=28, block_days=5, rng=np.random.default_rng(1)
    )

    assert same is windows


def test_the_same_draws_give_the_same_bytes() -> None:
    windows = np.full((16, 50), 0.999)
    fit = persistence.Persistence(days=DAYS, variance=0.6, phi=0.85)

    first, second = (
        spelldraw.widen(windows, fit, window_days=28, block_days=5, rng=np.random.default_rng(9))
        for _ in range(2)
    )

    assert first.tobytes() == second.tobytes()


def test_the_shortfall_is_the_squared_ratio_of_the_history_to_its_resamples_spread() -> None:
    fit = persistence.Persistence(days=DAYS, variance=0.5, phi=0.5)
    rng = np.random.default_rng(2)
    plain = 0.001 + 0.0002 * rng.standard_normal(4000)
    nested = 0.001 + 0.00016 * rng.standard_normal((64, 4000))

    corrected = fit.corrected(plain, nested)

    assert corrected.shortfall == pytest.approx((0.0002 / 0.00016) ** 2, rel=0.05)


def test_resamples_that_spread_wider_than_the_history_are_left_alone() -> None:
    fit = persistence.Persistence(days=DAYS, variance=0.5, phi=0.5)
    rng = np.random.default_rng(2)

    corrected = fit.corrected(0.0001 * rng.standard_normal(1000), rng.standard_normal((8, 1000)))

    assert corrected.shortfall == 1.0
