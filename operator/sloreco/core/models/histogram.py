"""Cumulative latency histograms, read as Prometheus reads them: ``histogram_quantile``, the
requests within a threshold, the bound at or above one.

Histograms are *cumulative* along the bounds (like Prometheus's ``le`` series) with the bounds on
axis 0, the layout ``latency`` keeps them in. Between bounds, requests are taken as spread evenly
inside their bucket, the assumption ``histogram_quantile`` makes, so the numbers match what users
see in Grafana.
"""

from __future__ import annotations

import math

import numpy as np

from sloreco.core import history

FloatArray = history.FloatArray
BoolArray = history.BoolArray

#: Relative slack when matching a threshold to a bound: interpolation that lands exactly on a
#: bound (rank equal to a cumulative count, common with whole counts) can come out one ulp
#: above it, and must still select that bound.
_BOUND_SLACK = 1e-9


def quantile(cumulative: FloatArray, bounds: FloatArray, q: float) -> tuple[FloatArray, BoolArray]:
    """``histogram_quantile(q)`` of cumulative histograms laid out ``(bounds, ...)``.

    Returns the values and whether each fell in the ``+Inf`` bucket (then the value is the
    highest finite bound, as Prometheus returns). Histograms must hold requests.
    """
    shape = cumulative.shape[1:]
    cum = cumulative.reshape(len(bounds), -1)
    rank = q * cum[-1]
    finite = len(bounds) - 1
    # First finite bucket whose cumulative count reaches the rank; ``finite`` means +Inf.
    index = np.count_nonzero(cum[:finite] < rank, axis=0)
    in_inf = index == finite
    safe = np.minimum(index, finite - 1)
    at = np.take_along_axis(cum, safe[None], 0)[0]
    below = np.where(safe > 0, np.take_along_axis(cum, np.maximum(safe - 1, 0)[None], 0)[0], 0.0)
    upper = bounds[safe]
    lower = np.where(safe > 0, bounds[np.maximum(safe - 1, 0)], 0.0)
    inside = at - below
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(inside > 0, (rank - below) / inside, 1.0)
    values = lower + (upper - lower) * share
    if bounds[0] <= 0:  # Prometheus: a first bucket ending at or below zero is returned as is
        values = np.where(safe == 0, bounds[0], values)
    values = np.where(in_inf, bounds[finite - 1], values)
    out: FloatArray = values.reshape(shape)
    return out, in_inf.reshape(shape)


def count_within(cumulative: FloatArray, bounds: FloatArray, seconds: float) -> FloatArray:
    """Requests at or under ``seconds`` per cumulative histogram laid out ``(bounds, ...)``.

    Exact at a bound; between bounds it assumes requests spread evenly inside the bucket, the
    assumption ``histogram_quantile`` makes. Beyond the highest finite bound nothing more can
    be known, so the count stops there. Linear in the histogram, so it can be summed.
    """
    last = len(bounds) - 1
    j = min(int(np.searchsorted(bounds, seconds * (1 - _BOUND_SLACK), side="left")), last)
    if j == last:
        at_highest: FloatArray = cumulative[last - 1]
        return at_highest
    if seconds >= bounds[j] * (1 - _BOUND_SLACK):
        at_bound: FloatArray = cumulative[j]
        return at_bound
    lower = bounds[j - 1] if j > 0 else 0.0
    below = cumulative[j - 1] if j > 0 else np.zeros_like(cumulative[j])
    within: FloatArray = below + (cumulative[j] - below) * (seconds - lower) / (bounds[j] - lower)
    return within


def fraction_within(cumulative: FloatArray, bounds: FloatArray, seconds: float) -> FloatArray:
    """Share of requests at or under ``seconds`` (``count_within``); NaN without requests."""
    total = cumulative[-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        share: FloatArray = np.where(
            total > 0, count_within(cumulative, bounds, seconds) / total, math.nan
        )
    return share


def bound_at_or_above(bounds: FloatArray, seconds: float) -> float:
    """The smallest finite histogram bound at or above ``seconds`` (the highest if none is)."""
    finite = bounds[:-1]
    j = int(np.searchsorted(finite, seconds * (1 - _BOUND_SLACK), side="left"))
    return float(finite[min(j, len(finite) - 1)])


def slow_within(counts: FloatArray, bounds: FloatArray, seconds: float) -> FloatArray:
    """Per history bucket (rows of non-cumulative ``counts``): requests over ``seconds``."""
    cumulative = np.cumsum(counts, axis=1).T
    slow: FloatArray = np.maximum(cumulative[-1] - count_within(cumulative, bounds, seconds), 0.0)
    return slow
