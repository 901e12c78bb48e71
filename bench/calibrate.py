"""``make calibrate``: do the tiers keep their promise on processes whose truth is known?

Runs the suite (``bench.profiles``) through ``bench.judge`` (each tier's realized breach rate and
budget ratio, and issue 8's goal, defined there) and ``bench.fleets`` (the fleet prior, and the
mixed fleet), and writes the table to ``--out`` as JSON and markdown. Everything is seeded: the
same arguments give the same table. ``--fast`` is the subset the unit tests run.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench import processes, profiles
from bench.fleets import fleet_prior, run_fleet
from bench.judge import TIERS, Engine, PriorFor, current_engine, run_profile
from sloreco import allocator
from sloreco.core import results


def suite(
    run: Engine,
    *,
    names: Sequence[str] | None,
    count: int,
    windows: int,
    members: int,
    seed: int,
    prior_for: PriorFor | None = None,
    changes: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The suite's rows: each profile (or the ``names`` given), then the mixed fleet's.

    ``changes`` (``Profile`` fields) apply to every profile and member: a window of another
    length, a longer history (does a tier's caution shrink as its history grows, while its
    promise holds?), or finer buckets (the same history read every five minutes).
    """
    rows = [
        run_profile(
            p.with_(**(changes or {})),
            run,
            count=count,
            windows=windows,
            seed=seed,
            prior_for=prior_for,
        )
        for p in profiles.PROFILES + profiles.PROBES
        if ((p in profiles.PROFILES) if names is None else (p.name in names))
    ]
    if members and (names is None or "mixed-fleet" in names):
        rows.extend(
            run_fleet(
                run,
                members=members,
                windows=max(windows // 5, 10_000),
                seed=seed,
                prior_for=prior_for,
                changes=changes,
            )
        )
    return rows


def averages(rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per tier, the mean over profiles (a part of one, ``partOf``, is counted in its whole)."""
    rows = [r for r in rows if "partOf" not in r]
    return {
        name: {
            "breach": round(float(np.mean([r["tiers"][name]["breach"] for r in rows])), 5),
            "budgetRatioMedian": round(
                float(np.mean([r["tiers"][name]["budgetRatioMedian"] for r in rows])), 3
            ),
        }
        for name, _, _ in TIERS
    }


def markdown(rows: list[dict[str, Any]]) -> str:
    head = (
        "| profile | days | conservative (0.1%) | balanced (1%) | aggressive (5%) "
        "| budget ratio cons / bal / aggr |\n|---|---|---|---|---|---|\n"
    )
    lines = []
    for r in rows:
        cells = []
        for name, _, _ in TIERS:
            t = r["tiers"][name]
            mark = "" if t["met"] else " ✗"
            cells.append(f"{100 * t['breach']:.2f}% ({t['breachOverPromise']}×){mark}")
        ratios = " / ".join(f"{r['tiers'][n]['budgetRatioMedian']:.2f}" for n, _, _ in TIERS)
        lines.append(f"| {r['profile']} | {r['historyDays']} | {' | '.join(cells)} | {ratios} |")
    avg = averages(rows)
    cells = [f"{100 * avg[n]['breach']:.2f}%" for n, _, _ in TIERS]
    ratios = " / ".join(f"{avg[n]['budgetRatioMedian']:.2f}" for n, _, _ in TIERS)
    lines.append(f"| **mean of profiles** | | {' | '.join(cells)} | {ratios} |")
    return head + "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.calibrate", description=__doc__)
    parser.add_argument("--out", default="bench/results/calibration")
    parser.add_argument("--histories", type=int, default=200)
    parser.add_argument("--windows", type=int, default=100_000)
    parser.add_argument("--fleet", type=int, default=60, help="members of the mixed fleet")
    parser.add_argument("--seed", type=int, default=20261203)
    parser.add_argument("--profiles", nargs="*", help="only these profiles")
    parser.add_argument(
        "--window-days", type=int, default=processes.WINDOW_DAYS, help="the compliance window"
    )
    parser.add_argument(
        "--history-days", type=int, help="every profile's history length (default: its own)"
    )
    parser.add_argument(
        "--gaps",
        action="store_true",
        help="histories miss 5%% of their hours and one 3-day block (processes.gaps)",
    )
    parser.add_argument(
        "--weekly",
        action="store_true",
        help="a weekly rhythm: weekend traffic at 30%% of a weekday's, incidents starting only "
        "in working hours on weekdays (processes.weekly)",
    )
    parser.add_argument(
        "--buckets-per-hour",
        type=int,
        default=1,
        help="read every history at this many buckets an hour (12: five-minute buckets)",
    )
    parser.add_argument(
        "--prior",
        choices=("default", "fleet"),
        default="default",
        help="the default prior, or one pooled from the profile's other histories",
    )
    parser.add_argument(
        "--fleet-size",
        type=int,
        default=0,
        help="with --prior fleet: pool each history from the others of its group of this many "
        "(a small team's fleet); 0: from every other history",
    )
    args = parser.parse_args(argv)
    allocator.tune()  # as the operator and the CLI run: the same targets, faster
    began = time.perf_counter()
    rows = suite(
        current_engine,
        names=args.profiles,
        count=args.histories,
        windows=args.windows,
        members=args.fleet,
        seed=args.seed,
        prior_for=(
            functools.partial(fleet_prior, size=args.fleet_size) if args.prior == "fleet" else None
        ),
        changes=profile_changes(args),
    )
    document = {
        **header(args),
        "profiles": rows,
        "meanOfProfiles": averages(rows),
        "wallSeconds": round(time.perf_counter() - began, 1),
    }
    write(Path(args.out), document, markdown(rows))


def header(args: argparse.Namespace) -> dict[str, Any]:
    """What a results document says about its run (``calibrate`` and ``sweep``)."""
    return {
        "generatedAt": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "method": f"{results.METHOD_NAME} v{results.METHOD_VERSION}",
        "prior": args.prior,
        "histories": args.histories,
        "futureWindows": args.windows,
        "seed": args.seed,
        "windowDays": getattr(args, "window_days", processes.WINDOW_DAYS),
        **({"historyDays": args.history_days} if getattr(args, "history_days", None) else {}),
        **(
            {"bucketsPerHour": args.buckets_per_hour}
            if getattr(args, "buckets_per_hour", 1) > 1
            else {}
        ),
        **({"gaps": True} if getattr(args, "gaps", False) else {}),
        **({"weekly": True} if getattr(args, "weekly", False) else {}),
        **({"fleetSize": args.fleet_size} if getattr(args, "fleet_size", 0) else {}),
    }


def profile_changes(args: argparse.Namespace) -> dict[str, Any]:
    """The ``Profile`` fields the command line sets for every profile (``suite``'s ``changes``)."""
    changes: dict[str, Any] = {
        "window_days": args.window_days,
        "buckets_per_hour": args.buckets_per_hour,
        "gappy": args.gaps,
    }
    if args.history_days:
        changes["history_days"] = args.history_days
    if args.weekly:
        changes |= {"weekend_traffic": processes.WEEKEND_TRAFFIC, "working_hours_incidents": True}
    return changes


def write(out: Path, document: dict[str, Any], table: str) -> None:
    """``out``.json and ``out``.md, and the table on stdout."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(document, indent=2) + "\n")
    out.with_suffix(".md").write_text(table)
    print(table)
    print(f"wall {document['wallSeconds']} s")


if __name__ == "__main__":
    main()
