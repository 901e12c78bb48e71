"""report: the text people read (``sloreco recommend --output table``)."""

from __future__ import annotations

from decimal import Decimal

from sloreco.core import inputs
from sloreco.render import report
from tests import factories


def test_tiers_are_side_by_side_with_their_targets() -> None:
    result = factories.recommend_availability(
        factories.steady_availability(40, seed=1), window_seconds=28 * 86400, seed=1
    )

    row = next(
        line for line in report.render_text(result).splitlines() if line.startswith("target")
    )

    assert row.split() == ["target", *(f"{t.target}%" for t in result.tiers)]


def test_latency_targets_show_their_bucket_bound() -> None:
    result = factories.recommend_latency(
        factories.steady_latency(40, seed=1),
        percentile=Decimal("99"),
        window_seconds=28 * 86400,
        seed=1,
    )

    text = report.render_text(result)

    assert f"{result.tiers[0].target}% ≤ {result.tiers[0].bucket_bound}s" in text


def test_capped_tiers_are_marked() -> None:
    result = factories.recommend_availability(
        factories.steady_availability(40, error_ratio=0.00001, seed=1),
        window_seconds=28 * 86400,
        seed=1,
        dependencies=[inputs.Dependency("db", 0.999)],
        prior=factories.QUIET_PRIOR,
    )

    row = next(
        line for line in report.render_text(result).splitlines() if line.startswith("capped")
    )

    assert row.split() == ["capped", "yes", "yes", "no"]


def test_the_explanation_closes_the_report() -> None:
    result = factories.recommend_availability(
        factories.steady_availability(40, seed=1), window_seconds=28 * 86400, seed=1
    )

    text = report.render_text(result)

    assert " ".join(text.split()).endswith(" ".join(result.explanation.summary.split()))


def test_the_summary_reads_as_short_lines_most_important_first() -> None:
    """Issue 9: it was one 1,100-character paragraph in ``kubectl describe``."""
    result = factories.recommend_availability(
        factories.steady_availability(40, seed=1),
        window_seconds=7 * 86400,
        seed=1,
        current_objective=Decimal("99.999"),
        dependencies=[inputs.Dependency("db", 0.9995)],
    )
    lines = result.explanation.summary.splitlines()
    balanced, conservative, aggressive = (
        result.tier(name).target for name in ("balanced", "conservative", "aggressive")
    )
    assert lines[0] == (
        f"Recommended for 7d windows: balanced {balanced}%, conservative {conservative}%, "
        f"aggressive {aggressive}%."
    )
    assert lines[1].startswith("The current objective 99.999% would be missed")
    assert lines[2].startswith("Hard dependencies allow at most 99.95% together")
    assert lines[3].startswith("Based on 40.0 days of data")
    assert max(len(line) for line in lines) < 300
    text = report.render_text(result)
    assert "\nRecommended for 7d windows: balanced" in text, "the report keeps the line breaks"
