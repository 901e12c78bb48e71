"""The incident model's sentence: what it saw, and how far it and its prior moved each tier.

Its own module because it is the explanation's longest sentence, with a clause per reading
of the background (spells, a rise, a creep, a quiet history) and of the incidents (none seen,
a clean history's floor); the numbers arrive computed (``forecast.prior_notes``), and are said
with ``wording``'s helpers.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from sloreco.core.explain.wording import days_text, pct


@dataclasses.dataclass(frozen=True)
class Creep:
    """A creep the forecast runs on (``core.trend.Trend``), as the note says it."""

    #: The days the background takes to double at the growth forecast.
    doubling_days: float
    #: Whether it stands beyond the drift (``trend.Trend.distinct``); if not, only a fleet
    #: prior forecasts it.
    distinct: bool
    #: Whether its growth was read with its fleet's (``core.fleettrend``), and whether that
    #: fleet's backgrounds creep (``trend.creeps``).
    with_fleet: bool = False
    fleet_creeps: bool = False


@dataclasses.dataclass(frozen=True)
class PriorEffect:
    """What the incident model saw and did, for ``prior_note``."""

    origin: str
    incidents: int
    #: Incidents less than a day apart joined (``evidence.BURST_GAP_SECONDS``): the arrivals.
    bursts: int
    days: float
    #: The median size (full-outage minutes) the note names: the incidents' own (per burst
    #: where joined), or with none seen the one the prior gives the next; None: not known.
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
    #: The busy hours' traffic over the mean at which the prior's sizes were costed
    #: (``predictive.Posterior.busy``; 1: at the mean).
    busy: float = 1.0
    #: A rise of the background in its last days (``core.shift``): days since, and how many
    #: times the level before.
    rise: tuple[int, float] | None = None
    #: A creep of the background through the history (``core.trend``), if one is forecast.
    creep: Creep | None = None
    #: The size (full-outage minutes) above which incidents are drawn at least as often as
    #: after a clean history of the same length (``core.cleantail``); None: nowhere.
    clean_floor_minutes: float | None = None
    #: Under a fleet prior that pooled incidents, the shape of its services' rate spread
    #: (``prior.Prior.rate_shape``; ``fleet_note``); None: the default, or a fleet that saw none.
    fleet_rate_shape: float | None = None
    #: The background's level as the history ran it and as its fleet places it (bad shares;
    #: ``persistence.Persistence.placed``); None without a fleet's levels.
    level: tuple[float, float] | None = None
    #: Where its fleet prior knows a larger kind of incident (``sizekinds``): the size it
    #: starts at and its median (full-outage minutes), how many a window expects, and how many
    #: this history held; None: one kind.
    larger: Kind | None = None


@dataclasses.dataclass(frozen=True)
class Kind:
    """A larger kind of incident, as ``kinds_note`` says it."""

    from_minutes: float
    median_minutes: float
    per_window: float
    seen: int


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
    spells += level_note(e.level)
    if e.rise is not None:
        days, factor = e.rise
        spells += (
            f" The background ran {factor:.1f} times its earlier level over the last {days} "
            "days, more than the drift of its earlier days explains; the model forecasts from "
            "that level."
        )
    if e.creep is not None:
        spells += creep_note(e.creep)
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
        f"{e.window} window, including those the history did not show."
        f"{floor}{spells}{quiet} From the history replayed alone to the model: {moves}."
    )


#: A fleet that moves the level by less than this share goes unsaid: it moved no tier much.
LEVEL_NOTE_SHARE = 0.1


def level_note(level: tuple[float, float] | None) -> str:
    """Where the fleet placed the background's level, when it moved it (``fleetspells.levels``)."""
    if level is None:
        return ""
    own, placed = level
    if own <= 0 or abs(placed / own - 1.0) < LEVEL_NOTE_SHARE:
        return ""
    return (
        f" Its background ran at {100 * own:.2g}% bad; its fleet's services run at levels that "
        f"place this one's near {100 * placed:.2g}%, as a history of few spells knows its level "
        "little better than its fleet does."
    )


def size_note(effect: PriorEffect) -> str | None:
    """With no incident seen, the size the prior gave the next one, and what that leaves out:
    a line of its own (``kubectl describe`` shows the summary's lines as they are). None when
    the history's own incidents size the next."""
    e = effect
    if e.incidents or e.median_minutes is None:
        return None
    if e.busy > 1.0:
        return (
            "With no incident seen, their size is the prior's, costed at this service's "
            f"busy-hour traffic ({e.busy:.2f} times its mean): a median of "
            f"{e.median_minutes:.0f} full-outage minutes. Outages much longer, which this "
            "history could not show, are covered only as often as that prior expects them."
        )
    return (
        f"With no incident seen, their size is the prior's (median {e.median_minutes:.0f} "
        "full-outage minutes): outages much longer, which this history could not show, are "
        "covered only as often as that prior expects them."
    )


#: A fleet prior whose services' incident rates spread wider than their mean (a Gamma of shape
#: below one, whose coefficient of variation ``1/√shape`` passes one) pools strangers. Measured
#: (``bench.strangers``, 60 random processes as one fleet: shapes 0.68-0.74; the same processes
#: each pooled with its own kind, ``bench.sweep --prior fleet``: 4 and up wherever 5 incidents
#: were pooled): across the fleet it keeps its promises, but a service whose history saw few of
#: its incidents is read at its face, and 11 of the 60 missed a promise where fleets of their
#: own kind kept all of them (method v24; all but one under v23).
UNALIKE_RATE_SHAPE = 1.0


def fleet_note(effect: PriorEffect) -> str | None:
    """Under a fleet prior of strangers (``UNALIKE_RATE_SHAPE``), what it is calibrated for and
    what would tell this service more: a line of its own. None otherwise."""
    shape = effect.fleet_rate_shape
    if shape is None or shape >= UNALIKE_RATE_SHAPE:
        return None
    return (
        f"Its fleet prior ({effect.origin}) pools services whose incident rates differ by more "
        f"than their mean (their spread's Gamma shape is {shape:.2f}, below 1): it is calibrated "
        "across those services, not for this one. A prior pooled from services alike in their "
        "incidents (spec.fleet names such a fleet) tells this one more."
    )


def kinds_note(effect: PriorEffect) -> str | None:
    """Where its fleet's incidents come in two kinds (``sizekinds``), the larger one's: a line
    of its own. None otherwise."""
    kind = effect.larger
    if kind is None:
        return None
    held = "none" if not kind.seen else f"{kind.seen}"
    return (
        f"Its fleet's incidents come in two kinds: those of {kind.from_minutes:.0f} full-outage "
        f"minutes and more (median {kind.median_minutes:.0f}) are modelled apart from the "
        f"smaller ones, {kind.per_window:.2f} a {effect.window} window; this history held {held}."
    )


def creep_note(c: Creep) -> str:
    """The clause for a creep: read beyond the drift, or only a fleet's posterior (a growth
    the forecast widens by more than it moves)."""
    doubling = f"doubling about every {c.doubling_days:,.0f} days"
    if not c.distinct:
        return (
            f" The background may be creeping up: read with its fleet's, it is {doubling}, "
            "too little to tell apart from its drift; the model forecasts from the level that "
            "growth reaches by the middle of the next window, widened by how little is known "
            "of it."
        )
    if not c.with_fleet:
        read = "more than its drift around that growth explains"
    elif c.fleet_creeps:
        read = "read with its fleet's, whose backgrounds creep too"
    else:
        read = "read with its fleet's"
    return (
        f" The background crept up through the history, {doubling}, {read}; the model "
        "forecasts from the level it reaches by the middle of the next window."
    )
