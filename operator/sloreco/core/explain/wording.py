"""The explanation in words: the summary, one sentence per tier, and the notes the engine adds.

Its own module because how a number is said — a percent with up to four places, a share with
one, a probability never shown as zero — must be the same in the summary here and in the
"limited by" details and data-quality notes ``explain`` writes with these same helpers. All
numbers arrive computed (``evidence.Facts``); nothing here computes statistics.
"""

from __future__ import annotations

import dataclasses
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


@dataclasses.dataclass(frozen=True)
class PriorEffect:
    """What the incident model saw and did, for ``prior_note``."""

    origin: str
    incidents: int
    #: Incidents less than a day apart joined (``evidence.BURST_GAP_SECONDS``): the arrivals.
    bursts: int
    days: float
    median_minutes: float | None
    per_window: float
    window: str
    names: tuple[str, ...]
    #: The tiers a plain bootstrap of the history as it was gives (only the incidents it held).
    replayed: tuple[Decimal, ...]
    chosen: tuple[Decimal, ...]
    #: How long the background's deviations last (``Persistence.spell_days``), when read, and
    #: whether that reading was shrunk toward a fleet's (``fleetspells``).
    spell_days: float | None
    spells_with_fleet: bool
    #: The bootstrap's block length (``method.MethodSettings.block_days``), which the note names.
    block_days: int
    #: Bad events outside incidents the history holds, and the unseen ones a window gets
    #: (``core.unseen``).
    background_events: float
    unseen_per_window: float
    #: A rise of the background in its last days (``core.shift``): days since, and how many
    #: times the level before.
    rise: tuple[int, float] | None = None
    #: A creep of the background through the history (``core.trend``): the days it takes to
    #: double; and whether its growth was read with its fleet's (``core.fleettrend``).
    creep_doubling_days: float | None = None
    creep_with_fleet: bool = False
    #: The size (full-outage minutes) above which incidents are drawn at least as often as
    #: after a clean history of the same length (``core.cleantail``); None: nowhere.
    clean_floor_minutes: float | None = None


#: Spells of a day or more are worth a sentence: shorter ones are day-to-day noise, which the
#: blocks replay.
SPELL_NOTE_DAYS = 1.0
#: Fewer background events than this are worth a sentence: a count below ten is uncertain by
#: a third or more (Poisson, ``1/sqrt(10)``), and the half event ``core.unseen`` adds is then a
#: twentieth of it or more.
QUIET_NOTE_EVENTS = 10


def prior_note(effect: PriorEffect) -> str:
    """How far the incident model (and its prior) moved each tier from the history replayed."""
    e = effect
    joined = e.bursts < e.incidents
    # With incidents joined into bursts, the rate and the median size are per burst.
    unit = "burst" if joined else "incident"
    if not e.incidents:
        seen = f"no incident in {days_text(e.days)}"
    else:
        seen = f"{e.incidents} incident{'s' if e.incidents != 1 else ''} in {days_text(e.days)}"
        if joined:
            seen += f", {e.bursts} burst{'s' if e.bursts != 1 else ''} once those less than a "
            seen += "day apart are joined"
        if e.median_minutes:
            per = " per burst" if joined else ""
            seen += f" (median {e.median_minutes:.0f} full-outage minutes{per})"
    moves = ", ".join(
        f"{name} {pct(before)} → {pct(after)}" if after != before else f"{name} {pct(after)}"
        for name, before, after in zip(e.names, e.replayed, e.chosen, strict=True)
    )
    spells = ""
    if e.spell_days is not None and e.spell_days >= SPELL_NOTE_DAYS:
        fleet = "read with its fleet's, " if e.spells_with_fleet else ""
        spells = (
            f" The background drifts in spells of about {e.spell_days:.0f} "
            f"day{'s' if round(e.spell_days) != 1 else ''} ({fleet}replayed in "
            f"{e.block_days}-day blocks); the model adds what the blocks cut and the "
            "uncertainty of a level seen over few spells."
        )
    if e.rise is not None:
        days, factor = e.rise
        spells += (
            f" The background ran {factor:.1f} times its earlier level over the last {days} "
            "days, more than the drift of its earlier days explains; the model forecasts from "
            "that level."
        )
    if e.creep_doubling_days is not None:
        read = (
            "read with its fleet's, whose backgrounds creep too"
            if e.creep_with_fleet
            else "more than its drift around that growth explains"
        )
        spells += (
            " The background crept up through the history, doubling about every "
            f"{e.creep_doubling_days:.0f} days, {read}; the model forecasts from the level it "
            "reaches by the middle of the next window."
        )
    quiet = ""
    if e.background_events < QUIET_NOTE_EVENTS:
        count = f"{e.background_events:.0f}"
        quiet = (
            f" The history holds {'no' if count == '0' else 'only ' + count} bad "
            f"event{'' if count == '1' else 's'} outside incidents, too few to measure their "
            f"rate; the model allows for about {e.unseen_per_window:.2f} a {e.window} window "
            "that it did not show."
        )
    floor = (
        " Its incidents do not rule out larger ones: the model allows for incidents over "
        f"{e.clean_floor_minutes:.0f} full-outage minutes at least as often as after "
        f"{days_text(e.days)} with none."
        if e.clean_floor_minutes is not None
        else ""
    )
    return (
        f"Incident model ({e.origin} prior): {seen}; it expects {e.per_window:.2f} {unit}s per "
        f"{e.window} window, including those the history did not show.{floor}{spells}{quiet} "
        f"From the history replayed alone to the model: {moves}."
    )
