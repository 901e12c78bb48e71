"""Is the team's current objective achievable? One verdict, used by the explanation and the
``ObjectiveUnachievable`` condition alike, so the two can never disagree (issue 9).

SPEC §3.1: an objective is unachievable when it is above the hard dependencies' ceiling, or when
the history says it is missed far more often than the user's tolerance — most past windows
breached out of sample, or a predictive breach probability well above what the aggressive tier
accepts. The verdict names the first of these that holds; the caller words it with the numbers.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from sloreco.core import results

Cause = Literal["ceiling", "backtest", "predicted"]

#: "Most past windows breached": more than half of the out-of-sample evaluations.
MOST = 0.5
#: "Well above the aggressive tier's": the riskiest tier accepts a miss in ``1 - confidence`` of
#: windows (5% by default); an objective predicted to miss more than twice that is beyond what
#: any recommended tier would accept.
WELL_ABOVE = 2.0


def likely_limit(lowest_confidence: float) -> float:
    """The predicted breach probability above which an objective counts as unachievable."""
    return WELL_ABOVE * (1.0 - lowest_confidence)


def unachievable_because(
    *,
    above_ceiling: bool,
    breach_probability: float,
    evaluations: int,
    breaches: int,
    lowest_confidence: float,
) -> Cause | None:
    """Why the objective is unachievable, or None when nothing in the data says so."""
    if above_ceiling:
        return "ceiling"
    if evaluations > 0 and breaches > MOST * evaluations:
        return "backtest"
    if breach_probability > likely_limit(lowest_confidence):
        return "predicted"
    return None


def report(
    *,
    availability: Decimal | None,
    latency: results.LatencyObjective | None,
    above_ceiling: bool,
    breach_probability: float,
    evaluations: int,
    breaches: int,
    lowest_confidence: float,
) -> results.ObjectiveReport:
    """The current objective's what-if, carrying the verdict the condition also shows."""
    cause = unachievable_because(
        above_ceiling=above_ceiling,
        breach_probability=breach_probability,
        evaluations=evaluations,
        breaches=breaches,
        lowest_confidence=lowest_confidence,
    )
    return results.ObjectiveReport(
        availability=availability,
        latency=latency,
        breach_probability=breach_probability,
        evaluations=evaluations,
        breaches=breaches,
        achievable=cause is None,
        cause=cause,
    )
