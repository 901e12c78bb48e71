"""The current objective's verdict: the history counts as well as the ceiling (issue 9, item 1).

One verdict (``core.objective``) feeds the explanation's ``achievable`` and the condition, so the
tests check the engine's result: an objective far above what the data supports is unachievable
with the cause named, one comfortably below is not.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from sloreco.core import inputs, objective, results
from sloreco.render import crd
from tests import factories

WINDOW = 7 * 86400


def recommend(**kwargs: object) -> results.SliResult:
    data = factories.steady_availability(90, seed=3)
    return factories.recommend_availability(data, window_seconds=WINDOW, seed=7, **kwargs)  # type: ignore[arg-type]


def test_an_objective_the_history_misses_is_unachievable_and_the_explanation_agrees() -> None:
    result = recommend(current_objective=Decimal("99.999"))
    report = result.explanation.current_objective
    assert report is not None
    assert report.breaches == report.evaluations > 0
    assert (report.achievable, report.cause, result.objective_unachievable) == (
        False,
        "backtest",
        True,
    )
    doc = crd.recommendation_spec(result)["explanation"]
    assert isinstance(doc, dict)
    assert doc["currentObjective"]["achievable"] is False
    assert doc["currentObjective"]["unachievableBecause"] == "backtest"
    assert "unachievable: most past windows missed it" in doc["summary"]


def test_an_objective_below_every_tier_is_achievable() -> None:
    result = recommend(current_objective=Decimal("90"))
    report = result.explanation.current_objective
    assert report is not None
    assert (report.achievable, report.cause, result.objective_unachievable) == (True, None, False)
    doc = crd.recommendation_spec(result)["explanation"]
    assert isinstance(doc, dict)
    assert "unachievableBecause" not in doc["currentObjective"]


def test_the_ceiling_comes_first() -> None:
    result = recommend(
        current_objective=Decimal("99.999"), dependencies=[inputs.Dependency("db", 0.999)]
    )
    assert result.explanation.current_objective is not None
    assert result.explanation.current_objective.cause == "ceiling"


@pytest.mark.parametrize(
    ("probability", "evaluations", "breaches", "expected"),
    [
        (0.0, 8, 5, "backtest"),  # most past windows missed, whatever the model says
        (0.0, 8, 4, None),  # half is not most
        (0.11, 0, 0, "predicted"),  # no backtest yet; more than twice the aggressive 5%
        (0.09, 0, 0, None),
    ],
)
def test_the_history_rules(
    probability: float, evaluations: int, breaches: int, expected: str | None
) -> None:
    assert (
        objective.unachievable_because(
            above_ceiling=False,
            breach_probability=probability,
            evaluations=evaluations,
            breaches=breaches,
            lowest_confidence=0.95,
        )
        == expected
    )
