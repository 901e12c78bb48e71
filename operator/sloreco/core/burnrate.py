"""Burn-rate conditions at every rule evaluation, computed only where they can hold.

The pager-cost replay (``core.alerting``) asks at which of a history's one-minute evaluations
(about 130,000 in 90 days) each tier's alert conditions hold. Computing every window at every
minute cost about 20 ms per recommendation, the largest single item in the operator's profile,
and almost every one of those minutes is far from any threshold.

Why skipping is exact. Cumulative counts are linear within a bucket (events arrive evenly), so a
window's count ``W(t) = C(t) - C(t - w)`` is piecewise linear in ``t``, with knots only at bucket
edges and at edges plus ``w``. Within one bucket's evaluations, ``(e_k, e_k+1]``, a condition's
margin ``g(t) = bad_w(t) - x * total_w(t)`` is therefore largest at ``e_k``, at ``e_k+1`` or at
the one knot ``e_k + (w mod bucket)`` between them. Where that largest value is below zero by more
than rounding can move it (:data:`SLACK`), the condition holds at no evaluation of the bucket, and
the bucket is skipped. Every other bucket is evaluated minute by minute with the arithmetic of the
full grid — the same interpolated cumulative counts, the same differences, the same comparison —
so the evaluations that hold are exactly the full grid's (``tests/unit/test_burnrate.py`` compares
the two on random and adversarial histories).

All budgets replayed over one history share its :class:`Grid` and are screened together.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from sloreco.core import history

IntArray = npt.NDArray[np.int64]
#: Bad and total events over a window ending at each bucket edge, then at each bucket's inner knot.
Knots = tuple[
    history.FloatArray, history.FloatArray, history.FloatArray | None, history.FloatArray | None
]

#: Rounding slack, relative to the largest cumulative counts: interpolation and differencing leave
#: the computed counts within a few ulps (about 1e-15 relative) of the exact piecewise-linear
#: values, so 1e-9 keeps six orders of magnitude between a skipped bucket and one that could hold.
SLACK = 1e-9
#: A window with less than a millionth of an event has no traffic, whatever rounding left in it.
EMPTY = 1e-6


@dataclasses.dataclass(frozen=True)
class Rule:
    """Both error ratios, over ``long`` and ``short`` seconds, above ``factor`` x the budget."""

    long: int
    short: int
    factor: float


@dataclasses.dataclass(frozen=True, eq=False)
class Grid:
    """One history's cumulative counts, prepared once for every budget replayed over it."""

    start: int
    step: int
    #: Evaluations, at ``start + step * (i + 1)`` for ``i`` in ``range(count)``.
    count: int
    #: Evaluations per bucket; 0 when buckets do not fall on evaluations (then nothing is skipped).
    per_bucket: int
    edges: history.FloatArray
    cum_bad: history.FloatArray
    cum_total: history.FloatArray
    #: Per window length: bad and total events over the window ending at each bucket edge, and
    #: at each bucket's inner knot (``None`` when the length is whole buckets).
    knots: dict[int, Knots]


class Counts(Protocol):
    """Bad and total events per bucket (``core.alerting.Events``)."""

    @property
    def start(self) -> int: ...
    @property
    def bucket_seconds(self) -> int: ...
    @property
    def total(self) -> history.FloatArray: ...
    @property
    def bad(self) -> history.FloatArray: ...


def prepare(counts: Counts, *, lengths: set[int], step: int) -> Grid:
    """Cumulative counts and, per window length, the window counts at every knot."""
    start, bucket_seconds, total, bad = (
        counts.start,
        counts.bucket_seconds,
        counts.total,
        counts.bad,
    )
    if any(w % step for w in lengths):
        raise ValueError(f"every alert window must be a whole number of {step}s steps")
    end = start + bucket_seconds * len(total)
    edges = start + bucket_seconds * np.arange(len(total) + 1, dtype=np.float64)
    cum_total = np.concatenate([[0.0], np.cumsum(total)])
    cum_bad = np.concatenate([[0.0], np.cumsum(bad)])
    aligned = bucket_seconds % step == 0 and bool(
        np.isfinite(cum_total[-1]) and np.isfinite(cum_bad[-1])
    )
    knots: dict[int, Knots] = {}
    if aligned:
        inner = edges[:-1]
        for w in lengths:
            rest = w % bucket_seconds
            bad_edges, total_edges = _counts(edges, w, edges, cum_bad, cum_total)
            if rest:
                knots[w] = (
                    bad_edges,
                    total_edges,
                    *_counts(inner + rest, w, edges, cum_bad, cum_total),
                )
            else:
                knots[w] = (bad_edges, total_edges, None, None)
    return Grid(
        start=start,
        step=step,
        count=(end - start) // step,
        per_bucket=bucket_seconds // step if aligned else 0,
        edges=edges,
        cum_bad=cum_bad,
        cum_total=cum_total,
        knots=knots,
    )


def _counts(
    at: history.FloatArray,
    length: int,
    edges: history.FloatArray,
    cum_bad: history.FloatArray,
    cum_total: history.FloatArray,
) -> tuple[history.FloatArray, history.FloatArray]:
    """Bad and total events over ``[t - length, t]`` for each ``t`` in ``at`` (none before
    the history: ``np.interp`` holds the first cumulative value, 0, to the left)."""
    before = at - length
    return (
        np.interp(at, edges, cum_bad) - np.interp(before, edges, cum_bad),
        np.interp(at, edges, cum_total) - np.interp(before, edges, cum_total),
    )


def holds(
    grid: Grid, severities: Mapping[str, Sequence[Rule]], budgets: Sequence[float]
) -> list[dict[str, IntArray]]:
    """Per budget and severity, the evaluations (indices, ascending) where the condition holds:
    some rule's error ratios over both its windows above its factor times the budget."""
    maybe = candidates(grid, severities, budgets)
    step = grid.step
    exact: dict[int, tuple[history.FloatArray, history.FloatArray, history.BoolArray]] = {}
    lengths = {w for rules in severities.values() for r in rules for w in (r.long, r.short)}
    # The full grid's arithmetic at the candidates only: the cumulative counts interpolated at
    # grid index ``i + 1`` (evaluation ``i``) and ``lag`` steps earlier (index 0, the history's
    # start, at the beginning), then differenced.
    at = maybe + 1
    now = grid.start + step * at.astype(np.float64)
    total_now = np.interp(now, grid.edges, grid.cum_total)
    bad_now = np.interp(now, grid.edges, grid.cum_bad)
    for length in lengths:
        then = grid.start + step * np.maximum(at - length // step, 0).astype(np.float64)
        total = total_now - np.interp(then, grid.edges, grid.cum_total)
        bad = bad_now - np.interp(then, grid.edges, grid.cum_bad)
        exact[length] = (bad, total, total > EMPTY)
    found: list[dict[str, IntArray]] = []
    for budget in budgets:
        per_severity: dict[str, IntArray] = {}
        for name, rules in severities.items():
            fires = np.zeros(len(maybe), dtype=np.bool_)
            for rule in rules:
                threshold = rule.factor * budget
                holding = np.ones(len(maybe), dtype=np.bool_)
                for length in (rule.long, rule.short):
                    bad, total, has = exact[length]
                    holding &= has & (bad > threshold * total)
                fires |= holding
            per_severity[name] = maybe[fires]
        found.append(per_severity)
    return found


def candidates(
    grid: Grid, severities: Mapping[str, Sequence[Rule]], budgets: Sequence[float]
) -> IntArray:
    """Evaluations in the buckets where some budget's condition may hold (all of them when the
    buckets do not fall on evaluations)."""
    if not grid.per_bucket:
        return np.arange(grid.count, dtype=np.int64)
    scale_bad = float(np.max(np.abs(grid.cum_bad)))
    scale_total = float(np.max(np.abs(grid.cum_total)))
    # With no negative counts the cumulative total never falls, so a window whose total is 0 at
    # every knot of a bucket spans equal cumulative values only, and every evaluation in the
    # bucket computes exactly 0 for it: not ``> EMPTY``, so no condition on it holds. Without
    # this, the empty months before a new service's first request (margin exactly 0, not below
    # it) were all evaluated minute by minute (measured: 38 ms instead of 1.4 ms).
    counts_only_grow = bool(np.all(np.diff(grid.cum_total) >= 0))
    maybe = np.zeros(len(grid.edges) - 1, dtype=np.bool_)
    for rules in severities.values():
        for rule in rules:
            thresholds = np.array([rule.factor * b for b in budgets])[:, None]
            slack = SLACK * (scale_bad + np.abs(thresholds) * scale_total)
            both = np.ones((len(budgets), len(maybe)), dtype=np.bool_)
            for length in (rule.long, rule.short):
                bad_edges, total_edges, bad_inner, total_inner = grid.knots[length]
                margin = bad_edges - thresholds * total_edges
                largest = np.maximum(margin[:, :-1], margin[:, 1:])
                if bad_inner is not None and total_inner is not None:
                    np.maximum(largest, bad_inner - thresholds * total_inner, out=largest)
                both &= largest > -slack
                if counts_only_grow:
                    traffic = np.maximum(total_edges[:-1], total_edges[1:])
                    if total_inner is not None:
                        np.maximum(traffic, total_inner, out=traffic)
                    both &= traffic > 0
            maybe |= both.any(axis=0)
    buckets = np.flatnonzero(maybe)
    per = grid.per_bucket
    return (buckets[:, None] * per + np.arange(per)).ravel().astype(np.int64)


def run_count(on: IntArray) -> int:
    """Maximal runs of consecutive evaluations in ``on`` (ascending indices): one alert each."""
    return int(np.count_nonzero(np.diff(on) > 1)) + 1 if len(on) else 0
