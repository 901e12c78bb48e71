"""How far is the default prior's caution from what one clean history forces on any method?

Under the default prior a service with no incident in its history gets balanced budgets many
times its oracle's (``make calibrate``: ``steady`` 27x). The README calls that the price of one
history. This module measures the price: the least budget any method must give a quiet service
if it is to keep its promises on the services whose clean histories look the same.

**The argument.** Take a profile with no incidents (``quiet``) and its *twin*: the same
background with the outages of one of the suite's rare-incident profiles added. A twin's history
is clean (holds no incident) with probability ``c = E[exp(-rate * days)]``, and a clean history
of the twin is drawn exactly as one of the quiet profile's: the background is the same process
and incidents start only inside the history. So a method, whatever it computes, gives the
twin's clean histories the same distribution of tiers as the quiet profile's histories. Let
``T`` be the quiet profile's median tier. At least half of the twin's clean histories get a tier
of ``T`` or higher, and each of those is missed by at least ``F(T)`` of the twin's future windows
(``F``: the share of its windows below ``T``). The twin's breach rate is then at least
``c * F(T) / 2``, and issue 8's goal (at most ``allowed * promise``) needs
``F(T) <= 2 * allowed * promise / c``: ``T`` at most the twin's window quantile there, and the
quiet profile's median budget at least ``1 - that quantile`` over its oracle's. No rule,
randomized or not, does better while it keeps the twin's promise. A rule whose tier is the same
on every clean history (no spread) needs ``F(T) <= allowed * promise / c``, the tighter bound
also reported.

**Services with incidents of their own.** The same argument holds for a profile whose histories
hold incidents (``BUSY``): its twin adds the outage process as one more independent process
(``Profile.also``), a history of the twin that holds none of the outage's incidents is drawn as
the profile's, and ``c`` is the share of those. So the table also says how much of the default's
caution on an ordinary service is the price of the outages its history may not have shown.

The binding twin is the one whose bound is largest. The default prior's own budget on the quiet
profile and its breach on each twin are measured beside it, as ``bench.calibrate`` does.
``python -m bench.bound --out bench/results/information-bound``
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any

from bench import calibrate, judge, profiles
from bench.processes import FloatArray, Profile
from sloreco import allocator

#: The suite's availability profiles with no incidents: the quiet services.
QUIET = (
    "steady",
    "overdispersed",
    "persistent",
    "persistent-mild",
    "drifting",
    "wandering",
    "regression",
    "creep",
)
#: The suite's availability profiles whose histories hold incidents of their own, most of them
#: several: ordinary services.
BUSY = ("incidents", "frequent-small", "clustered", "low-traffic", "brownout", "pareto")
#: The suite's profiles whose incidents a 90-day history often does not hold (one kind each).
OUTAGES = (
    "very-reliable",
    "rare-large",
    "rare-long",
    "rare-outage",
    "quarterly-outage",
    "long-outage",
)
#: The fields that make a profile's incidents (``processes.Profile``).
INCIDENT_FIELDS = (
    "incident_rate",
    "rate_shape",
    "duration_median_hours",
    "duration_sigma",
    "pareto_alpha",
    "follow_up_probability",
    "follow_up_hours",
    "severity_mean",
    "severity_concentration",
)


def twin(base: Profile, outage: Profile) -> Profile:
    """``base`` with ``outage``'s incidents: in place of none, or beside its own."""
    name = f"{base.name}+{outage.name}"
    if base.incident_rate > 0 or base.also:
        return base.with_(name=name, also=(*base.also, outage))
    fields = {name: getattr(outage, name) for name in INCIDENT_FIELDS}
    return base.with_(name=name, **fields)


def outage_clean_share(base: Profile, outage: Profile) -> float:
    """The share of ``twin(base, outage)``'s histories that hold none of ``outage``'s incidents:
    those drawn as ``base``'s."""
    return clean_share(outage.with_(history_days=base.history_days))


def clean_share(profile: Profile) -> float:
    """The share of histories with no incident: Poisson, its rate gamma-mixed where it varies
    from one stretch to the next (``Profile.rate_shape``)."""
    exposure = profile.incident_rate * profile.history_days
    if profile.rate_shape > 0:
        return float((1.0 + exposure / profile.rate_shape) ** -profile.rate_shape)
    return math.exp(-exposure)


def least_budget(windows: FloatArray, clean: float, allowed_share: float) -> float:
    """The least error budget a tier can have on a clean history and keep a breach rate of at
    most ``allowed_share`` on a process whose sorted future ``windows`` these are, when
    ``clean`` of its histories are clean: one minus its window quantile at
    ``allowed_share / clean`` (every window when that reaches one)."""
    share = allowed_share / clean
    if share >= 1.0:
        return 0.0
    return float(1.0 - windows[math.floor(share * len(windows))])


def default_tiers(
    profile: Profile, future: judge.Truth, *, histories: int, windows: int, seed: int
) -> dict[str, Any]:
    """The default prior's tiers on ``profile``'s histories, judged on its ``future`` windows
    (drawn with the same ``windows`` and ``seed``), as ``bench.calibrate`` summarizes them."""
    row = judge.run_profile(
        profile,
        judge.current_engine,
        count=histories,
        windows=windows,
        seed=seed,
        future=future,
    )
    tiers: dict[str, Any] = row["tiers"]
    return tiers


def rows(*, histories: int, windows: int, seed: int) -> list[dict[str, Any]]:
    """Per quiet or busy profile and tier: the binding twin's least budget, and the
    default's."""
    out = []
    for name in (*QUIET, *BUSY):
        quiet = profiles.by_name(name)
        truth = judge.truth(quiet, windows=windows, seed=seed)
        measured = default_tiers(quiet, truth, histories=histories, windows=windows, seed=seed)
        tiers: dict[str, Any] = {}
        twins = []
        for k, outage in enumerate(OUTAGES):
            incidents = profiles.by_name(outage)
            other = twin(quiet, incidents)
            future = judge.truth(other, windows=windows, seed=seed + 1 + k)
            kept = default_tiers(
                other, future, histories=histories, windows=windows, seed=seed + 1 + k
            )
            twins.append((outage, outage_clean_share(quiet, incidents), future.values, kept))
        for tier, promise, allowed in judge.TIERS:
            oracle = 1.0 - truth.oracle(judge.TierTarget(tier, 0.0), 1.0 - promise)
            bounds = [
                (
                    least_budget(values, clean, 2 * allowed * promise) / oracle,
                    least_budget(values, clean, allowed * promise) / oracle,
                    outage,
                    clean,
                    kept[tier]["breachOverPromise"],
                )
                for outage, clean, values, kept in twins
            ]
            rigorous, fixed, outage, clean, breach = max(bounds)
            tiers[tier] = {
                "bindingTwin": outage,
                "twinCleanShare": round(clean, 3),
                "leastBudgetRatio": round(rigorous, 2),
                "leastBudgetRatioFixedRule": round(fixed, 2),
                "defaultBudgetRatio": measured[tier]["budgetRatioMedian"],
                "defaultBreachOnTwin": breach,
                "defaultBreachOnTwins": {o: k[tier]["breachOverPromise"] for o, _, _, k in twins},
            }
        out.append(
            {
                "profile": name,
                "description": quiet.description,
                "ownIncidents": name in BUSY,
                "tiers": tiers,
            }
        )
    return out


def markdown(document: dict[str, Any]) -> str:
    lines = [
        "Least budget (x the oracle's) that keeps the twin's promise, against the "
        f"default prior's ({document['method']}, {document['histories']} histories x "
        f"{document['futureWindows']} windows): any rule / a rule with no spread / the "
        "default's; the binding twin, and the default's breach on it (x the promise).",
        "",
        "| profile | tier | binding twin (clean share) | least budget: any rule / "
        "no spread | default prior | default's breach on the twin |",
        "|---|---|---|---|---|---|",
    ]
    for r in document["rows"]:
        for tier, _, _ in judge.TIERS:
            t = r["tiers"][tier]
            label = f"{r['profile']} (own incidents)" if r.get("ownIncidents") else r["profile"]
            lines.append(
                f"| {label} | {tier} | {t['bindingTwin']} ({t['twinCleanShare']}) | "
                f"{t['leastBudgetRatio']} / {t['leastBudgetRatioFixedRule']} | "
                f"{t['defaultBudgetRatio']} | {t['defaultBreachOnTwin']} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bound", description=__doc__)
    parser.add_argument("--histories", type=int, default=40)
    parser.add_argument("--windows", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=20261208)
    parser.add_argument("--out", default="bench/results/information-bound")
    args = parser.parse_args(argv)
    allocator.tune()
    began = time.perf_counter()
    args.prior = "default"
    document = {
        **calibrate.header(args),
        "rows": rows(histories=args.histories, windows=args.windows, seed=args.seed),
        "wallSeconds": round(time.perf_counter() - began, 1),
    }
    calibrate.write(Path(args.out), document, markdown(document))


if __name__ == "__main__":
    main()
