"""A recommendation as text for people (the CLI's ``--output table``).

Tiers side by side — target, interval, breach probability, backtest and budget in one column
each — then what the data looked like, then the explanation in words. Pure: a result in, a
string out; the CLI prints it.
"""

from __future__ import annotations

import textwrap

from sloreco.core import alerting, durations, method, results
from sloreco.render import crd

#: Wrap prose at the repository's line length: readable in a terminal and in CI logs.
WIDTH = 100
#: Width of the row labels and of each tier's column.
LABEL, COLUMN = 18, 22


def render_text(result: results.SliResult) -> str:
    """The result as a short report: tiers table, data quality, explanation."""
    spec = crd.recommendation_spec(result)
    lookback = spec["lookback"]
    assert isinstance(lookback, dict)
    what = (
        result.sli if result.percentile is None else f"latency p{results.number(result.percentile)}"
    )
    lines = [
        f"{what.capitalize()} SLO recommendation for a {durations.format(result.window_seconds)} "
        f"window (history {lookback['start']} to {lookback['end']})",
        "",
        _row("", [t.name for t in result.tiers]),
        _row("target", [_target(t) for t in result.tiers]),
    ]
    if any(t.threshold is not None for t in result.tiers):
        lines.append(_row("threshold", [f"{t.threshold}s" for t in result.tiers]))
    lines += [
        _row(
            f"interval ({_level(result)}%)",
            [f"{t.confidence_interval.lower}–{t.confidence_interval.upper}" for t in result.tiers],
        ),
        _row("breach chance", [f"{t.breach_probability * 100:.2f}%" for t in result.tiers]),
        _row(
            "backtest misses",
            [
                f"{b.breaches} of {b.evaluations}" if b.evaluations else "not run"
                for b in result.backtest.tiers
            ],
        ),
        _row(
            "budget / window",
            [
                f"{t.error_budget.bad_events_per_window} " + result.kind.budget_unit
                for t in result.tiers
            ],
        ),
        _row(
            "  as outage",
            [f"{t.error_budget.outage_minutes_per_window} min" for t in result.tiers],
        ),
    ]
    if all(t.alerting is not None for t in result.tiers):
        lines += _pager_rows(result)
    if any(t.capped for t in result.tiers):
        lines.append(_row("capped", ["yes" if t.capped else "no" for t in result.tiers]))
    quality = result.data_quality
    flags = [
        name
        for name, on in (
            ("LOW CONFIDENCE", quality.low_confidence),
            ("LOW TRAFFIC", quality.low_traffic),
        )
        if on
    ]
    lines += [
        "",
        f"Data: {quality.days_analysed:.1f} days analysed, {quality.coverage * 100:.2f}% coverage, "
        f"{plural(len(quality.gaps), 'gap')}, "
        f"{plural(quality.excluded_buckets, 'excluded bucket')}"
        + (f"; {', '.join(flags)}" if flags else "")
        + ".",
    ]
    if not any(b.evaluations for b in result.backtest.tiers):
        lines += _wrap(_no_backtest(result))
    lines.append("")
    for line in result.explanation.summary.splitlines():  # wrapped line by line, breaks kept
        lines += _wrap(line)
    return "\n".join(lines) + "\n"


def _wrap(text: str) -> list[str]:
    """Lines of at most ``WIDTH``, broken between words only: "full-outage minutes" stays whole
    (a break after its hyphen reads as "full- outage" once the lines are joined)."""
    return textwrap.wrap(text, WIDTH, break_on_hyphens=False)


def _pager_rows(result: results.SliResult) -> list[str]:
    """Pages and tickets per 28 days and the incidents that paged (``core.alerting``)."""
    costs = [t.alerting for t in result.tiers if t.alerting is not None]
    rows = [
        _row(f"pages / {alerting.PER_DAYS}d", [f"{c.per_period(c.pages):.1f}" for c in costs]),
        _row(f"tickets / {alerting.PER_DAYS}d", [f"{c.per_period(c.tickets):.1f}" for c in costs]),
    ]
    if any(c.detections for c in costs):
        rows.append(
            _row(
                "incidents paged",
                [
                    f"{len(c.paged)} of {len(c.detections)}"
                    + (f", {alerting.duration(alerting.median_detection(c))}" if c.paged else "")
                    for c in costs
                ],
            )
        )
    return rows


def plural(count: int, noun: str) -> str:
    """``1 gap``, ``3 gaps``: counts read as a person would write them."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _no_backtest(result: results.SliResult) -> str:
    """Why the backtest row says "not run": no past origin had both enough history before it
    and a whole window after it (the defaults of ``core.method.MethodSettings``)."""
    needed = method.MethodSettings().min_history_days
    window = durations.format(result.window_seconds)
    return (
        f"Backtest: no past window could be evaluated: each needs at least {needed:g} days of "
        f"data before it and a whole {window} window after it, and the history has "
        f"{result.data_quality.days_analysed:.1f} days."
    )


def _row(label: str, cells: list[str]) -> str:
    return (label.ljust(LABEL) + "".join(cell.ljust(COLUMN) for cell in cells)).rstrip()


def _target(tier: results.Tier) -> str:
    if tier.bucket_bound is not None:
        return f"{tier.target}% ≤ {results.bound(tier.bucket_bound)}s"
    return f"{tier.target}%"


def _level(result: results.SliResult) -> str:
    level = result.tiers[0].confidence_interval.level * 100
    return f"{level:g}"
