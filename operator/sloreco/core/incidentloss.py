"""Incident losses of simulated windows: the share of each window its incidents cost, drawn
from the posteriors of their rate and size (``predictive.Posterior``).

The model, its assumptions and its references are ``predictive``'s; this module draws from it.
Under the default prior each pseudo-history draws its own parameters (``_tail``), and a history's
own incidents are joined by a clean history's above the size where its tail is the heavier
(``cleantail``); under a fleet prior every window draws them, and the pseudo-histories share the
predictive's windows (``_pooled_losses``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence

import numpy as np

from sloreco.core import cleantail, history
from sloreco.core.predictive import Posterior

FloatArray = history.FloatArray

#: The most one incident can cost: three days of full outage. A stated assumption: the
#: lognormal's tail is an extrapolation, and beyond a few days an outage is a disaster-recovery
#: event that no SLO tier plans for (the longest public cloud outages lasted hours to a few
#: days). Without a bound the 0.1% tier of a service with one large incident sat near 0%.
#: An assumption yields to evidence: where a fleet prior's services saw a larger incident,
#: its size is the bound (``cap``). Measured (held-out ``bench.sweep`` process 16: Pareto
#: durations of index 1.2 every week, whose fleet of 40 saw 5 of its 441 incidents above
#: three days, the largest 6.9 days): breach 2.91x / 1.96x / 0.96x the promises at three days,
#: 0.04x / 0.22x / 0.90x at seven, balanced budget 0.84x -> 1.39x the oracle's.
MAX_INCIDENT_MINUTES = 3 * 1440.0


def cap(posterior: Posterior, window_days: int) -> float:
    """The log of the most one incident can cost: three days, or the largest its fleet saw, and
    never more than the whole window."""
    most = max(MAX_INCIDENT_MINUTES, posterior.largest_minutes)
    return math.log(min(window_days * 1440.0, most))


def losses(
    posteriors: Sequence[Posterior],
    rng: np.random.Generator,
    *,
    outer: int,
    inner: int,
    window_days: int,
) -> FloatArray:
    """Share of each simulated window lost to incidents, ``(posteriors, outer, inner)``.

    Row ``o`` (a pseudo-history) draws its own rate and size parameters from the posterior, then
    each of its windows a Poisson count of incidents and their lognormal sizes. A size is capped
    at the whole window (an outage cannot cost more than all of it). Several posteriors at once
    (the backtest's origins): one set of calls, not one per origin.

    Under the default prior, one parameter draw per pseudo-history, not per window: tiers are
    read at the ``tolerance`` point across pseudo-histories (``Predictive.values``), a tier
    that still holds had the parameters been less kind; the default is an assumption, not the
    population the service comes from, and the pooled predictive under it put conservative
    tiers of incident-free services at 45 times the oracle's budget while breaching no less
    elsewhere (measured). Under a fleet prior (``prior.Prior.population``) the parameters are
    drawn per window (``_pooled_losses``): there the tolerance point on top of the fleet's
    parameter spread put balanced budgets at 1.5-2.9x the oracle's (measured; 1.0-1.5x
    pooled), and the pseudo-histories share the predictive's windows.
    """
    # One prior per call: every posterior shares its kind and size shape.
    if posteriors[0].larger is not None:
        # Two kinds of incident (``sizekinds``), independent: each window loses to both.
        smaller = [dataclasses.replace(p, larger=None) for p in posteriors]
        larger = [p.larger for p in posteriors if p.larger is not None]
        if len(larger) != len(posteriors):
            raise ValueError("posteriors of one prior know the same kinds of incident")
        kw = {"outer": outer, "inner": inner, "window_days": window_days}
        both = losses(smaller, rng, **kw) + losses(larger, rng, **kw)
        return np.minimum(both, 1.0)
    if posteriors[0].population:
        return _pooled_losses(posteriors, rng, outer=outer, inner=inner, window_days=window_days)
    rows = len(posteriors) * outer
    window_minutes = window_days * 1440.0
    largest = cap(posteriors[0], window_days)

    own = _tail(posteriors, rng, outer)
    # A row's windows are independent Poisson counts with one mean; the same in law, and far
    # cheaper: the row's total is Poisson, and each of its incidents falls in a uniformly drawn
    # window (Poisson splitting). One draw per incident instead of one per window.
    per_row = rng.poisson(own.rate * window_days * inner)
    count = int(per_row.sum())
    # Each incident's row once, then gathers: one repeat instead of three (measured on numpy 2:
    # 3.4 -> 2.7 ms for the incidents of 64,000 windows).
    row = np.repeat(np.arange(rows), per_row)
    # In place from here: each step is one pass over every incident of every window (about
    # 90,000 for the recommendation of ``make bench``), and a fresh array a pass costs more.
    window = rng.integers(0, inner, count)
    window += row * inner
    logs = own.draw(rng, row)
    minutes = _minutes(logs, largest)
    extra = _clean_floor(posteriors, rng, outer, window_days * inner)
    if extra is not None:
        window = np.concatenate(
            [window, extra.row * inner + rng.integers(0, inner, len(extra.row))]
        )
        minutes = np.concatenate([minutes, _minutes(extra.logs, largest)])
    # Not in place: with no incident drawn, ``bincount`` counts in integers.
    lost = np.bincount(window, weights=minutes, minlength=rows * inner) / window_minutes
    shaped: FloatArray = np.minimum(lost, 1.0, out=lost).reshape(len(posteriors), outer, inner)
    return shaped


def _minutes(logs: FloatArray, largest: float) -> FloatArray:
    """Full-outage minutes of incidents drawn as log sizes, each capped at ``largest`` (log
    minutes, ``cap``); in place, over an array of draws no one else holds."""
    minutes: FloatArray = np.exp(np.minimum(logs, largest, out=logs), out=logs)
    return minutes


def _clean_floor(
    posteriors: Sequence[Posterior], rng: np.random.Generator, outer: int, exposure: float
) -> cleantail.Incidents | None:
    """A clean history's incidents above each posterior's ``clean_from`` (None: none has one)."""
    if all(math.isinf(p.clean_from) for p in posteriors):
        return None
    clean = _tail([p.clean or p for p in posteriors], rng, outer)
    above = np.repeat([p.clean_from for p in posteriors], outer)
    return cleantail.joined(clean, above, rng, exposure=exposure)


def _tail(posteriors: Sequence[Posterior], rng: np.random.Generator, outer: int) -> cleantail.Tail:
    """Per pseudo-history (``outer`` per posterior; under a fleet prior, per column of
    windows), a draw of the rate and size parameters, each stratified (``_stratified``)."""
    posts = len(posteriors)

    def each(name: str, times: int = 1) -> FloatArray:
        return np.repeat(np.array([getattr(p, name) for p in posteriors]), outer * times)

    def gammas(name: str, times: int) -> FloatArray:
        shapes = {getattr(p, name) for p in posteriors}
        if len(shapes) == 1:  # one shape (always, outside the backtest): a third faster
            drawn: FloatArray = rng.gamma(shapes.pop(), size=posts * outer * times)
            return drawn
        return rng.gamma(each(name, times))

    rate = _stratified(lambda m: gammas("rate_shape", m), rng, posts, outer)
    rate /= each("rate_days")
    precision = _stratified(lambda m: gammas("shape", m), rng, posts, outer)
    spread = np.sqrt(each("scale") / precision)
    z = _stratified(lambda m: rng.standard_normal(posts * outer * m), rng, posts, outer)
    location = each("log_mean") + np.sqrt(each("log_mean_variance")) * z
    first = posteriors[0]
    return cleantail.Tail(rate, location, spread, (first.size_quantiles, first.size_tail))


#: ``_stratified`` draws each parameter's ``outer`` values from strata of this many times as
#: many draws. Measured (200 seeds, default prior): the balanced tier's error budget varied by
#: 17% of itself (standard deviation over mean) on 90 days of ``incidents`` with independent
#: draws, and by 13%, 12% and 11% with 4, 8 and 16; by 25%, and 21%, 21% and 20%, on a clean
#: history. A larger sample costs its draws and its sort (about 0.1 ms per parameter at 16).
STRATA_DRAWS = 8


def _stratified(
    draw: Callable[[int], FloatArray], rng: np.random.Generator, posts: int, outer: int
) -> FloatArray:
    """``outer`` draws per posterior of one parameter, one from each of ``outer`` equally
    likely strata of its distribution, in a random order: Latin hypercube sampling (McKay,
    Beckman & Conover 1979) across the parameters.

    A tier is read at the ``tolerance`` point across pseudo-histories, an order statistic of
    128 whose noise came mostly from where the parameter draws happened to fall (with 512
    pseudo-histories it halved; with 2,000 windows each instead of 500 it did not move): the
    same clean 45-day history gave balanced tiers from 90.6% to 97.4% over 40 seeds (the
    seed is a ServiceLevel's uid, so re-creating one moved its tiers that far), and a tier set
    too high by that noise costs more breaches than one set as much too low saves. Strata
    leave each parameter's distribution as it was and take away the noise of how many draws
    land in each part of it: over 200 seeds the balanced error budget's standard deviation
    fell from 17% of its mean to 12% on 90 days of ``incidents`` and from 25% to 21% on a
    clean history, at the same mean. What remains is how the parameters fall together, and
    the other draws of each pseudo-history. The strata are those of ``STRATA_DRAWS`` times
    as many draws sorted (a draw from each block of the sorted sample), which needs no
    inverse distribution function: numpy has none for the gamma.

    ``draw(m)`` returns ``posts * outer * m`` draws, each posterior's ``outer * m`` together.
    """
    width = outer * STRATA_DRAWS
    sample = draw(STRATA_DRAWS).reshape(posts, width)
    sample.sort(axis=1)
    # Slot j of a posterior's draws takes stratum ``order[j]`` (a random permutation), and a
    # random one of that stratum's sorted draws: one gather, in flat indices.
    order = np.argsort(rng.random((posts, outer)), axis=1)
    within = rng.integers(0, STRATA_DRAWS, (posts, outer))
    flat = np.arange(posts)[:, None] * width + order * STRATA_DRAWS + within
    picked: FloatArray = sample.ravel()[flat.ravel()]
    return picked


def _pooled_losses(
    posteriors: Sequence[Posterior],
    rng: np.random.Generator,
    *,
    outer: int,
    inner: int,
    window_days: int,
) -> FloatArray:
    """``losses`` under a population prior: the posterior predictive, shared by every row.

    ``outer * inner`` windows draw their rate and size parameters (one draw per column of
    ``outer`` windows) and their incidents; sorted, their ``inner`` stratum midpoints (the
    predictive's quantiles at ``(j + 1/2) / inner``) are every pseudo-history's incident
    losses, in one random order, so that a tier's order statistic reads the predictive at the
    tier's own level. Each pseudo-history scales them by its own draw of the fleet's
    estimation error (``Posterior.fleet_error``), and where that draw's rate runs high, holds
    an incident in more of its windows (``_more_often``): the ``tolerance`` point across
    pseudo-histories is then the caution of having seen only this history's background and
    only this fleet's incidents — a tier that still holds had either been luckier than the
    truth.

    Not independent windows per row: a row's 99% point is then the sixth worst of its 500
    windows, and the ``tolerance`` point across rows was a tenth of the way down the
    Monte-Carlo spread of that order statistic, which puts the balanced tier near the
    predictive's 99.5% point and the conservative near its 99.98% (binomial order
    statistics), the further the heavier the tail. Measured on the calibration suite, fleet
    prior: balanced budgets 1.62x and 1.95x the oracle's at that point, 1.20x and 1.17x at the
    median row (rare-large, pareto); a caution set by the number of simulated windows, not by
    what the service's or the fleet's history left uncertain.
    """
    posts = len(posteriors)
    window_minutes = window_days * 1440.0
    largest = cap(posteriors[0], window_days)
    columns = _tail(posteriors, rng, inner)  # one parameter draw per column of windows
    # Column j's windows share one rate: their total is Poisson, and each of its incidents
    # falls in a uniformly drawn one of them (Poisson splitting, as in ``losses``).
    per_column = rng.poisson(columns.rate * window_days * outer)
    count = int(per_column.sum())
    first = (np.arange(posts * inner) // inner) * outer * inner + np.arange(posts * inner) % inner
    column = np.repeat(np.arange(posts * inner), per_column)  # one repeat, then gathers
    window = rng.integers(0, outer, count)
    window *= inner
    window += first[column]  # in place, as in ``losses``
    logs = columns.draw(rng, column)
    minutes = _minutes(logs, largest)
    lost = np.bincount(window, weights=minutes, minlength=posts * outer * inner) / window_minutes
    ordered = np.sort(lost.reshape(posts, outer * inner), axis=1)
    order = rng.permutation(inner)
    strata = ordered[:, np.arange(inner) * outer + outer // 2][:, order]
    error = np.array([p.fleet_error for p in posteriors])
    z = rng.standard_normal((posts, outer))
    factor = np.exp(error[:, None] * z)
    shaped: FloatArray = np.minimum(factor[:, :, None] * strata[:, None, :], 1.0)
    rate_error = np.array([p.fleet_rate_error for p in posteriors])
    if rate_error.any():
        gain = np.maximum(np.exp(rate_error[:, None] * z), 1.0)
        _more_often(shaped, ordered, strata, (order + 0.5) / inner, gain)
    return shaped


def _more_often(
    shaped: FloatArray,
    ordered: FloatArray,
    strata: FloatArray,
    levels: FloatArray,
    gain: FloatArray,
) -> None:
    """Into ``shaped``, rows whose draw of the fleet's rate error runs high (``gain``, per
    posterior and row, at least 1): their windows without an incident, at the pooled losses
    (``ordered``, per posterior) of the levels that rate moves them to (``strata`` are the
    pooled quantiles at ``levels``). At ``gain`` times the fleet's rate a window's chance of an
    incident is ``gain`` times as large, so a row's loss at level ``q`` is the pooled one at
    ``1 - (1 - q) / gain`` (Poisson superposition; exact where a window holds one incident at
    most). Windows that hold one keep the row's loss factor, which counts the rate's error on
    the cautious side there (``predictive.estimation_error``).

    The factor cannot put an incident into a window that has none: where a tier hinges on
    whether a window holds one at all (an aggressive tier of a service with an outage every
    year or so), a fleet whose draw saw fewer outages than its process has left them out of
    it. Measured: ``very-reliable-30d`` (fleet prior, 100 histories x 20,000 windows; its fleet
    saw 3 outages where 8.2 were expected) aggressive 1.78x the promise -> 1.45x, its budget
    0.03x the oracle's -> 0.48x; a held-out random process, slowdowns once a year whose fleet
    saw 4 in 3,600 days, aggressive 1.62x -> 1.31x; every other suite row and random process
    within 0.02 of its breach and budget.
    """
    total = ordered.shape[1]
    for p in range(len(strata)):
        # The strata without an incident that the largest gain moves past the last window
        # without one.
        clean = np.searchsorted(ordered[p], 0.0, side="right") / total
        reach = 1.0 - (1.0 - clean) * float(gain[p].max())
        empty = np.flatnonzero((strata[p] == 0.0) & (levels >= reach))
        if not empty.size:
            continue
        moved = 1.0 - (1.0 - levels[empty][None, :]) / gain[p][:, None]
        index = np.minimum((moved * total).astype(np.int64), total - 1)
        rows = shaped[p]
        rows[:, empty] = ordered[p][index]
