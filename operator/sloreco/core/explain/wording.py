"""The explanation in words: the summary, one sentence per tier, and the notes the engine adds.

Its own module because how a number is said — a percent with up to four places, a share with
one, a probability never shown as zero — must be the same in the summary here and in the
"limited by" details and data-quality notes ``explain`` writes with these same helpers. All
numbers arrive computed (``evidence.Facts``); nothing here computes statistics.
"""

from __future__ import annotations

from decimal import Decimal

from sloreco.core import durations, history, results
from sloreco.core.explain import evidence

BoolArray = history.BoolArray

#: The CRD's ``maxLength`` for ``explanation.summary`` (crds/slorecommendations.yaml).
SUMMARY_MAX_CHARS = 4096


def days_text(days: float) -> str:
    return f"{days:.1f} days" if days != 1 else "1 day"


def window_text(window_seconds: int) -> str:
    return durations.format(window_seconds)


def lead_notes(lead: history.Lead, bucket_seconds: int) -> tuple[str, ...]:
    """What the history skipped before its first request (``history.since_first_request``)."""
    if lead.buckets == 0:
        return ()
    days = lead.buckets * bucket_seconds / history.SECONDS_PER_DAY
    held = lead.present * bucket_seconds / history.SECONDS_PER_DAY
    what = (
        "no data (the source kept none, or the service did not exist yet)"
        if lead.present == 0
        else "zero requests"
        if lead.present == lead.buckets
        else f"zero requests ({days_text(held)} of them) or no data"
    )
    return (
        f"The lookback's first {days_text(days)} hold {what}: the history is read from its "
        "first request, so they count neither as days without incidents nor as gaps.",
    )


def partial_bound_notes(partial: tuple[float, ...]) -> tuple[str, ...]:
    """Which histogram bounds the source left out (``LatencyHistory.partial_bounds``)."""
    if not partial:
        return ()
    named = ", ".join(f"le={results.bound(b)}" for b in partial)
    return (
        f"The histogram's buckets changed inside the lookback: {named} "
        f"{'is' if len(partial) == 1 else 'are'} in only part of it and left out, so that the "
        "whole history is read at the bounds it has throughout (they return once the lookback "
        "holds them everywhere).",
    )


def pct(value: Decimal | float) -> str:
    """A percent for prose: Decimals as written, fractions with up to four places."""
    if isinstance(value, Decimal):
        return f"{results.number(value)}%"
    return f"{results.percent(value).rstrip('0').rstrip('.')}%"


def share_text(share: float) -> str:
    """A share of events for prose: one decimal is all a reader needs (``31.8%``)."""
    return f"{share * 100:.1f}%"


def chance(probability: float) -> str:
    """A probability in words-friendly percent (``0.9%``, ``< 0.01%``)."""
    if probability <= 0:
        return "under 0.01%"
    return f"{results.fixed(probability * 100, 2)}%"


def tier_sentence(
    tier: results.Tier, backtest: results.BacktestTier, *, window: str, percentile: str
) -> str:
    """One tier in words: what it promises, how sure we are, and how it did out of sample."""
    interval = tier.confidence_interval
    level = results.number(Decimal(repr(interval.level * 100)).normalize())
    share = results.number(Decimal(repr(tier.confidence * 100)).normalize())
    if tier.bucket_bound is not None and tier.threshold is not None:
        head = (
            f"{tier.name.capitalize()}: p{percentile} stays under {tier.threshold}s in {share}% "
            f"of simulated {window} windows; as a checkable objective, {pct(tier.target)} of "
            f"requests within {results.bound(tier.bucket_bound)}s"
        )
    else:
        head = (
            f"{tier.name.capitalize()}: {pct(tier.target)}, met by {share}% of simulated "
            f"{window} windows"
        )
    if tier.capped:
        head += " (capped by the hard dependencies)"
    tested = (
        f"missed in {backtest.breaches} of {backtest.evaluations} past windows out of sample"
        if backtest.evaluations
        else "not backtested (too little history before a full window)"
    )
    return (
        f"{head}; {level}% interval {interval.lower}–{interval.upper}; "
        f"chance a future window misses it, incidents not yet seen included, "
        f"{chance(tier.breach_probability)}; {tested}."
    )


def summary(
    f: evidence.Facts,
    seen: results.Observed,
    backtest: results.Backtest,
    impacts: tuple[results.DependencyImpact, ...],
    quality: results.DataQuality,
) -> str:
    """The explanation in words: what was seen, what each tier promises, and why."""
    window = window_text(f.window_seconds)
    percentile = results.number(f.percentile) if f.percentile is not None else ""
    if f.kind.unit == "percent":
        values = [pct(v) for v in (seen.worst, seen.median, seen.best)]
        what: str = f.kind.name
    else:
        values = [
            f"{results.number(results.seconds(v))}s" for v in (seen.worst, seen.median, seen.best)
        ]
        what = f"p{percentile} latency"
    where = (
        f"the {seen.windows} rolling {window} windows in the history"
        if seen.source == "history"
        else f"{seen.windows} simulated {window} windows (the history is shorter than one window)"
    )
    # One line each, most important first (``kubectl describe`` shows the lines as they are):
    # the targets, then what the team's objective and the dependencies mean for them, then the
    # evidence, then each tier in detail.
    ordered = sorted(f.tiers, key=lambda t: t.name != "balanced")
    lines = [
        f"Recommended for {window} windows: "
        + ", ".join(f"{t.name} {_target(t)}" for t in ordered)
        + "."
    ]
    parts = [
        f"Based on {days_text(quality.days_analysed)} of data "
        f"({pct(quality.coverage)} coverage), {what} over {where} ranged from {values[0]} (worst) "
        f"to {values[2]} (best), median {values[1]}."
    ]
    noun = f.kind.bad_events
    if f.incidents:
        top = f.incidents[0]
        parts.append(
            f"The largest incident ({results.rfc3339(top.start)} to {results.rfc3339(top.end)}) "
            f"held {share_text(top.share)} of all {noun}; all incidents together held "
            f"{share_text(f.incident_share)}."
        )
    else:
        parts.append(f"No incident stood out: the {noun} were spread out over time.")
    if f.objective is not None:
        lines.append(objective_sentence(f.objective, window))
    if impacts and f.ceiling is not None:
        bottleneck = next(d for d in impacts if d.bottleneck)
        capped = [t.name for t in f.tiers if t.capped]
        lines.append(
            f"Hard dependencies allow at most {pct(f.ceiling)} together (bottleneck "
            f"{bottleneck.name} at {pct(bottleneck.availability)})"
            + (
                f"; {' and '.join(capped)} {'is' if len(capped) == 1 else 'are'} capped there."
                if capped
                else "."
            )
        )
    lines.extend(parts)
    lines.extend(
        tier_sentence(t, b, window=window, percentile=percentile)
        for t, b in zip(f.tiers, backtest.tiers, strict=True)
    )
    lines.extend(quality.notes)
    return clip("\n".join(lines), SUMMARY_MAX_CHARS)


def _target(tier: results.Tier) -> str:
    """A tier's objective as a person would adopt it: 99.3%, or 99.2% within 0.5s."""
    if tier.bucket_bound is not None:
        return f"{pct(tier.target)} within {results.bound(tier.bucket_bound)}s"
    return pct(tier.target)


def clip(text: str, limit: int) -> str:
    """``text`` cut after its last whole line (or sentence) that fits in ``limit`` characters."""
    if len(text) <= limit:
        return text
    cut = max(text.rfind("\n", 0, limit), text.rfind(". ", 0, limit - 1) + 1)
    return text[:cut] if cut > 0 else text[: limit - 1] + "…"


def objective_sentence(objective: results.ObjectiveReport, window: str) -> str:
    if objective.availability is not None:
        name = pct(objective.availability)
    else:
        assert objective.latency is not None
        name = (
            f"{pct(objective.latency.target)} within {results.number(objective.latency.threshold)}s"
        )
    tested = (
        f"was missed in {objective.breaches} of {objective.evaluations} past windows"
        if objective.evaluations
        else "could not be backtested yet"
    )
    text = (
        f"The current objective {name} would be missed in {chance(objective.breach_probability)} "
        f"of simulated {window} windows and {tested}."
    )
    if objective.cause == "ceiling":
        text += " It is unachievable: above what the hard dependencies allow together."
    elif objective.cause == "backtest":
        text += " It is unachievable: most past windows missed it."
    elif objective.cause == "predicted":
        text += " It is unachievable: far more windows would miss it than any tier accepts."
    return text


def tail_notes(in_inf: BoolArray, *, percentile: Decimal, highest: float) -> tuple[str, ...]:
    """A note when the percentile reached the ``+Inf`` bucket in some simulated windows."""
    if not in_inf.any():
        return ()
    return (
        f"In {chance(float(in_inf.mean()))} of simulated windows p{results.number(percentile)} "
        "fell above the "
        f"highest finite bucket bound ({results.bound(highest)}s); it is reported as that bound, "
        "and the histogram needs a larger bucket to show how slow those windows were.",
    )
