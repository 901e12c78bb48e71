"""The shape of an incident's size: standardized log sizes, a tabulated body and a Pareto tail.

A ``core.prior.Prior`` places an incident's log size with a location and a scale; this module is
the shape of the standardized log size around them — its quantile function at fixed
probabilities (the body) and a generalized Pareto excess above the last of them (the tail) —
and draws from it. The default shape and the bounds a fleet's fitted shape is kept within live
here too, with where their values come from.
"""

from __future__ import annotations

import functools
import statistics

import numpy as np
import numpy.typing as npt

#: The standardized log size's quantile function is tabulated at these probabilities (5% to
#: 80%; a large fleet's further, ``LADDER``); above ``TAIL_FROM`` its excess is generalized
#: Pareto — peaks over a threshold (Coles 2001, ch. 4), on the log scale: a shape of zero is
#: an exponential excess, a Pareto tail of the size itself; a negative shape a bounded tail
#: (severities cannot pass 100%); a positive one a tail heavier still. 80% leaves a fifth of
#: the incidents in the tail: with the 40 pooled incidents a fleet needs
#: (``fleetpool.MIN_SHAPE_INCIDENTS``), eight exceedances.
SHAPE_PROBABILITIES: tuple[float, ...] = tuple(k / 20 for k in range(1, 17))
TAIL_FROM = SHAPE_PROBABILITIES[-1]
#: Where a fleet pooled enough incidents, its table goes on up this ladder past the body
#: (``fleetpool.MIN_TAIL_EXCEEDANCES``) and its tail starts at the last point tabulated: a
#: table of ``n`` quantiles covers ``LADDER[:n]``; the default's and a small fleet's, the
#: body's 16. Peaks over a threshold as high as the incidents allow: a tail fitted above the
#: 80% point of a fleet of blips with a rare outage among them read the climb from blips to
#: outages as a tail that runs on past the outages (calibration suite, fleet prior,
#: ``blips-and-outage``: balanced budget 2.7x the oracle's; 1.7x tabulated to the 95% point).
UPPER_PROBABILITIES: tuple[float, ...] = (0.85, 0.9, 0.95)
LADDER: tuple[float, ...] = SHAPE_PROBABILITIES + UPPER_PROBABILITIES
_NORMAL = statistics.NormalDist()
#: The default shape: the normal's body (the lognormal of ``prior.DEFAULT_LOG_SD``), and above
#: its 80% point a Pareto tail as heavy as the normal is there (its mean excess beyond the 80%
#: point, ``φ(z)/0.2 - z`` = 0.558 standard deviations) that never thins out as the normal's does. A
#: stated assumption, on the honest side: incident durations are heavy-tailed (the calibration
#: suite's Pareto profile; Davidovič 2021 on Google's incidents), and a lognormal fitted to a
#: handful of them has a tail that thins too fast.
DEFAULT_QUANTILES: tuple[float, ...] = tuple(_NORMAL.inv_cdf(p) for p in SHAPE_PROBABILITIES)
DEFAULT_TAIL = (
    _NORMAL.pdf(DEFAULT_QUANTILES[-1]) / (1 - TAIL_FROM) - DEFAULT_QUANTILES[-1],
    0.0,
)
#: The tail shape a fleet's estimate is kept within: beyond ±0.5 the probability-weighted
#: moments estimator is undefined (Hosking & Wallis 1987) and eight to twenty exceedances do
#: not tell such tails apart.
MAX_TAIL_SHAPE = 0.5
#: The thinnest tail a fleet may show: the normal's own, the generalized Pareto that the
#: probability-weighted moments fit to a normal's excesses over its 80% point (-0.23, computed
#: on two million draws). A thinner one claims a largest incident, which tens of exceedances
#: cannot support: for a fleet of 85 normal log sizes the estimate has a standard error near
#: 0.3 and falls below -0.5 in 23% of fleets (simulated), and a tail cut too short breaks the
#: tiers' promises (calibration, fleet prior: 14-day histories breached balanced 2.0x and
#: latency incidents 1.7x with fitted shapes at -0.5) while the cost of a tail a little too
#: heavy is budget. Bounded severities still show, in the quantiles of the body.
MIN_TAIL_SHAPE = -0.23


#: ``draw_shape`` draws a cell of the quantile function's table, one of this many equally
#: likely cells (one integer and one gather per draw instead of a uniform, a search and a
#: logarithm: the size draws are most of a recommendation's incident cost), and draws the top
#: 1% of cells exactly, so the far tail the conservative tier reads is never flattened.
_CELLS = 8192
_EXACT_CELLS = _CELLS // 100


def draw_shape(
    quantiles: tuple[float, ...],
    tail: tuple[float, float],
    rng: np.random.Generator,
    count: int,
) -> npt.NDArray[np.float64]:
    """``count`` standardized log sizes: the tabulated body, then the generalized Pareto tail
    ``(scale, shape)`` of the excess over the last quantile."""
    cells = rng.integers(0, _CELLS, count)
    drawn: npt.NDArray[np.float64] = _table(quantiles, tail)[cells]
    far = np.flatnonzero(cells >= _CELLS - _EXACT_CELLS)
    uniforms = (cells[far] + rng.random(len(far))) / _CELLS
    drawn[far] = _quantile_function(quantiles, tail, uniforms)
    return drawn


@functools.lru_cache(maxsize=16)
def _table(quantiles: tuple[float, ...], tail: tuple[float, float]) -> npt.NDArray[np.float64]:
    """The quantile function at the middle of each cell (the exactly drawn cells' included)."""
    table = _quantile_function(quantiles, tail, (np.arange(_CELLS) + 0.5) / _CELLS)
    table.flags.writeable = False
    return table


def probabilities(quantiles: tuple[float, ...]) -> tuple[float, ...]:
    """The probabilities a quantile table is tabulated at; its tail starts at the last."""
    return LADDER[: len(quantiles)]


def _quantile_function(
    quantiles: tuple[float, ...], tail: tuple[float, float], uniforms: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    at = probabilities(quantiles)
    body = np.interp(uniforms, at, quantiles)
    log_beyond = np.log(np.maximum(1.0 - uniforms, 1e-300) / (1.0 - at[-1]))
    scale, xi = tail
    exponential = abs(xi) < 1e-9  # the shape's limit at zero
    excess = -scale * log_beyond if exponential else scale / xi * np.expm1(-xi * log_beyond)
    exact: npt.NDArray[np.float64] = np.where(uniforms > at[-1], quantiles[-1] + excess, body)
    return exact


def survival(
    quantiles: tuple[float, ...], tail: tuple[float, float], z: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """The share of ``draw_shape``'s draws above ``z``: the inverse of its quantile function
    (the body's piecewise-linear table, the generalized Pareto tail above it)."""
    at = probabilities(quantiles)
    body = 1.0 - np.interp(z, quantiles, at, left=0.0)
    scale, xi = tail
    beyond = np.maximum(z - quantiles[-1], 0.0) / scale
    exponential = abs(xi) < 1e-9  # the shape's limit at zero
    far = np.exp(-beyond) if exponential else np.maximum(1.0 + xi * beyond, 0.0) ** (-1.0 / xi)
    exceeded: npt.NDArray[np.float64] = np.where(z > quantiles[-1], (1 - at[-1]) * far, body)
    return exceeded


def draw_above(
    quantiles: tuple[float, ...],
    tail: tuple[float, float],
    rng: np.random.Generator,
    exceeded: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """One standardized log size per entry of ``exceeded``, drawn above the point that share of
    draws exceeds (``survival``): the quantile function at a uniform over its top share."""
    uniforms = 1.0 - exceeded * rng.random(len(exceeded))
    drawn: npt.NDArray[np.float64] = _quantile_function(quantiles, tail, uniforms)
    return drawn
