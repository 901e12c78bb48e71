"""What held each tier where it is (``results.Limit``), each with its evidence.

Every limit is a finding of this history, not a weight (SPEC §3.3): a dependency's cap, an
interval too wide for the budget, a counterfactual that moves the tier. The counterfactuals
are read on the same random draws as the tiers, so a difference between two of them is the
one thing changed:

* ``incidents``: the history replayed with its incident hours at the normal error ratio
  (``models.availability.without_incidents``); or, where that moves little, the model's
  windows without any incident loss, those the history did not show included
  (``forecast.Forecast.background_values``). A service whose 30 days held a few small
  incidents can have its tiers set by the outages its prior expects and it has not had yet;
  those tiers were once said to be held by "the steady error rate itself" (measured: a
  held-out random process under its twins' fleet prior, balanced 90.95% where its history
  replayed alone supports 99.31%);
* ``background``: the model's background alone against the history replayed as it was: what
  the forecast adds for a background that drifts beyond the days seen (``persistence``, its
  level, a creep);
* ``baseline``: nothing above held it.

A finding is named when it moves the tier by a quarter of its error budget or more (and by the
target's precision at least): smaller ones are within what the tiers' own rounding and
confidence interval already say.
"""

from __future__ import annotations

from decimal import Decimal

from sloreco.core import results
from sloreco.core.explain import evidence, wording

#: A counterfactual is named when it moves a tier by at least this share of its error budget.
BUDGET_SHARE = Decimal(1) / 4


def moved(gain: Decimal, target: Decimal, precision: Decimal) -> bool:
    """Whether a counterfactual that raises a tier at ``target`` by ``gain`` points is worth
    naming: by a quarter of the tier's error budget, and its precision, at least."""
    return gain >= max(precision, (Decimal(100) - target) * BUDGET_SHARE)


def limits(
    f: evidence.Facts, i: int, precision: Decimal, *, low_confidence: bool, low_traffic: bool
) -> tuple[results.Limit, ...]:
    """What held tier ``i`` where it is, each with its evidence."""
    tier = f.tiers[i]
    found = []
    if tier.capped and f.dependencies:
        name, value = min(f.dependencies, key=lambda d: (d[1], d[0]))
        found.append(
            results.Limit(
                "dependency",
                f"capped at {wording.pct(tier.target)}, what the hard dependencies allow "
                f"together (the data alone supports {wording.pct(f.uncapped[i])}); bottleneck "
                f"{name} at {wording.pct(value)}",
            )
        )
    if low_confidence:
        found.append(
            results.Limit(
                "history",
                f"{wording.days_text(f.data_days)} of data, less than one "
                f"{wording.window_text(f.window_seconds)} window",
            )
        )
    else:
        interval = tier.confidence_interval
        budget = Decimal(100) - tier.target
        if budget > 0 and interval.upper - interval.lower > budget / 2:
            found.append(
                results.Limit(
                    "history",
                    f"the interval {interval.lower}–{interval.upper} spans more than half of the "
                    f"{results.number(budget)}-point error budget; more history would narrow it",
                )
            )
    found.extend(_incidents(f, i, precision))
    found.extend(_background(f, i, precision))
    if f.tail_limited and f.tail_limited[i]:
        found.append(
            results.Limit(
                "tail",
                "the threshold sits at the highest finite bucket bound (+Inf bucket reached)",
            )
        )
    if low_traffic:
        found.append(
            results.Limit(
                "traffic",
                f"about {f.traffic:.0f} requests per window: single events move it visibly",
            )
        )
    if not found:
        what = f.kind.variability
        found.append(
            results.Limit("baseline", f"the service's steady {what} itself, outside any incident")
        )
    return tuple(found)


def _incidents(f: evidence.Facts, i: int, precision: Decimal) -> list[results.Limit]:
    """The incidents seen, replayed; else the incident model's, unseen ones included."""
    target = f.uncapped[i]
    if f.without_incidents is not None and f.incidents:
        better = f.without_incidents[i]
        if moved(better - target, target, precision):
            return [
                results.Limit(
                    "incidents",
                    f"without the incidents (holding {wording.share_text(f.incident_share)} of "
                    f"bad events) the data would support about {wording.pct(better)}",
                )
            ]
    elif f.without_incidents is None and f.incidents and f.incident_share >= 0.5:
        return [
            results.Limit(
                "incidents",
                f"incidents hold {wording.share_text(f.incident_share)} of the {f.kind.bad_events}",
            )
        ]
    if f.background_alone and moved(f.background_alone[i] - target, target, precision):
        return [
            results.Limit(
                "incidents",
                "the incidents the model expects, those the history did not show included: "
                f"without any, its forecast would support {wording.pct(f.background_alone[i])}",
            )
        ]
    return []


def _background(f: evidence.Facts, i: int, precision: Decimal) -> list[results.Limit]:
    """The model's background against the history replayed as it was."""
    if not (f.background_alone and f.replayed):
        return []
    if not moved(f.replayed[i] - f.background_alone[i], f.uncapped[i], precision):
        return []
    return [
        results.Limit(
            "background",
            f"the {f.kind.variability}'s drift beyond what {wording.days_text(f.data_days)} "
            "of data show (its level, spells longer than the resampled blocks, a creep): the "
            f"history replayed as it was supports {wording.pct(f.replayed[i])}, the forecast's "
            f"background alone {wording.pct(f.background_alone[i])}",
        )
    ]
