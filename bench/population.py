"""What a rule that knows the mixed fleet's population reaches: a reference for the fleet prior.

Under a fleet prior the suite's mixed fleet (``bench.fleets.run_fleet``: 60 services, each its
own process, a third with Pareto durations) misses issue 8's budget goal: its balanced budget is
2x the oracle's. ``bench.bound`` measures what one clean history forces under the default prior;
this module asks the same of the fleet: how far is that 2x from what the fleet's information
allows?

**The reference rule.** The operator learns its fleet from the other services' histories. A
rule that knows the population the services are drawn from exactly (``profiles.fleet_member``)
can do no worse, so it is drawn: ``REFERENCE_MEMBERS`` services of the same population, each
with one history and ``REFERENCE_WINDOWS`` future windows. A member's history is read as the
engine reads it (``core.evidence.of``): how many bursts of incidents it held, their mean log
size, and its background's level without them. The rule gives a history the tier its
``NEIGHBOURS`` nearest reference histories' future windows pool to: those with as many bursts
(in ``COUNT_CLASSES``), nearest in mean log size and background (approximate Bayesian
computation by nearest neighbours; Biau, Cérou & Guyader 2015). That is the posterior predictive
quantile given those three numbers, calibrated across the population: the Bayes rule of a team
that has seen twenty thousand services like its own.

It is a reference, not a bound: a rule that read more of a history than three numbers could do
better, and the neighbours blur the posterior a little. But it knows the population exactly,
which the fleet prior estimates from 59 services.

**What it is run as.** The suite's mixed fleet (same seed) is judged as ``bench.calibrate``
judges it, under three readings: one fleet, at the promise; one fleet, at the largest share of
the promise (``SCALES``) at which every kind of member keeps its promises, as the suite asks of
the fleet prior; and a fleet per kind (the rule knows each member's kind and pools its own).
``python -m bench.population --out bench/results/population-reference``
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench import calibrate, judge, profiles
from bench.processes import FloatArray, Profile
from sloreco import allocator
from sloreco.core import evidence, history

#: Reference services drawn from the population. 20,000 put 2,100-4,000 in each class of
#: bursts but the last (21 or more: 300), two thirds of them of the lognormal kind (measured on
#: a draw); the balanced budgets read with 10,000 were within 0.15x of these (measured, one
#: fleet and a fleet per kind).
REFERENCE_MEMBERS = 20_000
#: Future windows per reference service: 60 neighbours x 300 pool 18,000 windows, 18 of them
#: under the conservative tier's 0.1% point.
REFERENCE_WINDOWS = 300
#: Neighbours a history's tier is pooled from: 30 and 120 moved the fleet-per-kind balanced
#: budget by less than 0.15x and its breach by less than 0.4x the promise (measured).
NEIGHBOURS = 60
#: Lower edges of the classes of burst counts a neighbour must share: a history's count is
#: most of what it says about its rate, which the nearest in size or background cannot stand
#: in for.
COUNT_CLASSES = (0, 1, 2, 3, 5, 8, 13, 21)
#: Shares of the promise tried, largest first, for the reading that keeps every kind's.
SCALES = (1.0, 0.85, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2)


@dataclasses.dataclass(frozen=True)
class Summary:
    """What the reference rule reads of a history."""

    bursts: int
    log_size: float  # mean log size of the bursts (log full-outage minutes); 0 with none
    log_background: float  # log of the background's bad ratio, incidents at the normal ratio
    pareto: bool  # the member's kind (read only by the fleet-per-kind reading)

    @property
    def count_class(self) -> int:
        return int(np.searchsorted(COUNT_CLASSES, self.bursts, side="right"))


def summary(profile: Profile, total: FloatArray, bad: FloatArray) -> Summary:
    """A history's bursts and background as the engine reads them (``evidence.of``)."""
    past = history.AvailabilityHistory(
        3600, judge.START, total, bad, np.zeros(len(total), dtype=bool)
    )
    clean_total, clean_bad, present = history.clean_availability(past)
    seen = evidence.of(clean_bad, clean_total, present, bucket_seconds=3600)
    calm = float(seen.calm_daily.sum()) / max(float(seen.daily_total.sum()), 1.0)
    return Summary(
        bursts=seen.count,
        log_size=float(seen.log_sizes.mean()) if seen.count else 0.0,
        log_background=math.log(max(calm, 1e-9)),
        pareto=profile.pareto_alpha > 0,
    )


@dataclasses.dataclass(frozen=True)
class Reference:
    """The population's services: what each history says, and its sorted future windows."""

    summaries: tuple[Summary, ...]
    windows: FloatArray  # (members, windows), each row sorted

    @classmethod
    def draw(cls, *, members: int, windows: int, seed: int) -> Reference:
        population = drawn(members=members, windows=windows, seed=seed)
        return cls(tuple(s for s, _ in population), np.stack([t.values for _, t in population]))

    def tiers(self, history_: Summary, *, per_kind: bool, scale: float) -> list[judge.TierTarget]:
        """The tiers of a history that says ``history_``: its neighbours' pooled windows'
        quantiles at ``scale`` times each promise."""
        pool = np.sort(self.windows[self.neighbours(history_, per_kind=per_kind)].ravel())
        return [
            judge.TierTarget(name, float(pool[math.floor(scale * promise * len(pool))]))
            for name, promise, _ in judge.TIERS
        ]

    def neighbours(self, history_: Summary, *, per_kind: bool) -> np.ndarray:
        """The ``NEIGHBOURS`` reference histories of its burst class (and kind) nearest in
        mean log size (when it saw bursts) and background, each in units of its spread."""
        same = self._columns["class"] == history_.count_class
        if per_kind:
            same &= self._columns["pareto"] == history_.pareto
        candidates = np.flatnonzero(same)
        far = self._distance("background", candidates, history_.log_background)
        if history_.bursts:
            far += self._distance("size", candidates, history_.log_size)
        return candidates[np.argsort(far, kind="stable")[:NEIGHBOURS]]

    def _distance(self, column: str, candidates: np.ndarray, value: float) -> FloatArray:
        values = self._columns[column]
        spread = float(values.std()) or 1.0  # one value throughout: every candidate as near
        far: FloatArray = ((values[candidates] - value) / spread) ** 2
        return far

    @functools.cached_property
    def _columns(self) -> dict[str, np.ndarray]:
        return {
            "class": np.array([s.count_class for s in self.summaries]),
            "pareto": np.array([s.pareto for s in self.summaries]),
            "size": np.array([s.log_size for s in self.summaries]),
            "background": np.array([s.log_background for s in self.summaries]),
        }


def drawn(*, members: int, windows: int, seed: int) -> list[tuple[Summary, judge.Truth]]:
    """A mixed fleet's members as ``fleets.run_fleet`` draws them (the same generators): what
    each one's history says, and its future windows."""
    rng = np.random.default_rng([seed, 3])
    fleet = []
    for i in range(members):
        member = profiles.fleet_member(rng, i)
        total, bad = judge.histories(member, count=1, seed=seed + i)[0]
        fleet.append(
            (summary(member, total, bad), judge.truth(member, windows=windows, seed=seed + i))
        )
    return fleet


def judged(
    reference: Reference, fleet: list[tuple[Summary, judge.Truth]], *, per_kind: bool, scale: float
) -> dict[str, judge.Tally]:
    """The fleet's tallies under the reference rule: all members, and each kind."""
    tallies = {part: judge.Tally.empty() for part in ("all", "Pareto", "lognormal")}
    for seen, future in fleet:
        tiers = reference.tiers(seen, per_kind=per_kind, scale=scale)
        tallies["all"].add(tiers, future)
        tallies["Pareto" if seen.pareto else "lognormal"].add(tiers, future)
    return tallies


def kept_scale(reference: Reference, fleet: list[tuple[Summary, judge.Truth]]) -> float:
    """The largest of ``SCALES`` at which one fleet's every kind keeps every tier's promise
    (the smallest if none: its rows then show the misses)."""
    for scale in SCALES:
        tallies = judged(reference, fleet, per_kind=False, scale=scale)
        if all(
            judge.keeps(name, float(np.mean(t.breaches[name])))
            for t in tallies.values()
            for name, _, _ in judge.TIERS
        ):
            return scale
    return SCALES[-1]


def rows(*, members: int, windows: int, reference: Reference, seed: int) -> list[dict[str, Any]]:
    """The suite's mixed fleet (``seed``) under each reading of the reference rule."""
    fleet = drawn(members=members, windows=windows, seed=seed)
    kept = kept_scale(reference, fleet)
    readings = (
        ("one fleet", False, 1.0),
        ("one fleet, every kind kept", False, kept),
        ("a fleet per kind", True, 1.0),
    )
    out = []
    for label, per_kind, scale in readings:
        for part, tally in judged(reference, fleet, per_kind=per_kind, scale=scale).items():
            out.append(
                {
                    "reading": label,
                    "members": part,
                    "shareOfPromise": scale,
                    "tiers": judge.summarize(tally, windows=windows),
                }
            )
    return out


def markdown(document: dict[str, Any]) -> str:
    lines = [
        f"The reference rule on the suite's mixed fleet ({document['histories']} members x "
        f"{document['futureWindows']} windows; {document['referenceMembers']} reference "
        f"services x {document['referenceWindows']} windows, {NEIGHBOURS} neighbours). "
        "Cells: breach (x the promise); last column: median budget over the oracle's.",
        "",
        "| reading | members | share of the promise | conservative | balanced | aggressive | "
        "budget ratio cons / bal / aggr |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in document["rows"]:
        t = r["tiers"]
        cells = [f"{t[n]['breachOverPromise']}x" for n, _, _ in judge.TIERS]
        ratios = " / ".join(f"{t[n]['budgetRatioMedian']:.2f}" for n, _, _ in judge.TIERS)
        lines.append(
            f"| {r['reading']} | {r['members']} | {r['shareOfPromise']} | "
            + " | ".join(cells)
            + f" | {ratios} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.population", description=__doc__)
    parser.add_argument("--members", type=int, default=60, help="the suite's mixed fleet")
    parser.add_argument("--windows", type=int, default=20_000)
    parser.add_argument("--reference", type=int, default=REFERENCE_MEMBERS)
    parser.add_argument("--reference-windows", type=int, default=REFERENCE_WINDOWS)
    parser.add_argument("--seed", type=int, default=20261203, help="the suite's")
    parser.add_argument("--reference-seed", type=int, default=20261209)
    parser.add_argument("--out", default="bench/results/population-reference")
    args = parser.parse_args(argv)
    allocator.tune()
    began = time.perf_counter()
    reference = Reference.draw(
        members=args.reference, windows=args.reference_windows, seed=args.reference_seed
    )
    args.prior = "reference"
    args.histories = args.members
    document = {
        **calibrate.header(args),
        "referenceMembers": args.reference,
        "referenceWindows": args.reference_windows,
        "rows": rows(
            members=args.members, windows=args.windows, reference=reference, seed=args.seed
        ),
        "wallSeconds": round(time.perf_counter() - began, 1),
    }
    calibrate.write(Path(args.out), document, markdown(document))


if __name__ == "__main__":
    main()
