"""A fleet of strangers: the fleet prior when the services it pools are not alike.

``bench.sweep --prior fleet`` gives each history a prior pooled from 39 other histories of its
own process: a fleet of twins, the easiest fleet there is. An operator's fleet is every
ServiceLevel of one source (``controller.fleet``): a checkout API, a batch queue and a login
page, each with its own traffic, background and incidents. This runs that fleet. The
``sweep`` draw's processes (the same seed gives the same processes) are the fleet's services;
in each of ``--replicas`` fleets every service has one history of its own process, and its
prior is pooled from the other services' histories of that fleet at its scope (availability,
or latency at its bound), as the operator pools them (``fleets.MIN_FLEET_SERVICES``: fewer
peers at a scope keep the default prior). Each service is judged on its own future windows,
over its replicas' histories, whose fleets differ: the fleet's luck is averaged, not fixed.

The same histories under the default prior are reported beside it (what a lone ``sloreco
recommend --input`` gives each service), so the table says what a fleet of strangers buys and
what it costs. Per-process verdicts rest on ``--replicas`` histories each and are noisy (a
balanced breach of 1.5x the promise on eight histories is within its noise of 1x); the
fleet's row, every service and history pooled, is the number to read.

``python -m bench.strangers --seed 20261207 --out bench/results/calibration-strangers``
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench import calibrate, fleets, judge, sweep
from bench.processes import Profile
from sloreco import allocator

PRIORS = ("default", "strangers")


def run(*, seed: int, count: int, replicas: int, windows: int) -> dict[str, Any]:
    """Per process and for the whole fleet, both priors' tallies summarized."""
    rng = np.random.default_rng(seed)
    fleet = [sweep.draw(rng, index) for index in range(count)]
    pasts = [judge.histories(p, count=replicas, seed=seed + k) for k, p in enumerate(fleet)]
    futures = [judge.truth(p, windows=windows, seed=seed + k) for k, p in enumerate(fleet)]
    tallies = {name: [judge.Tally.empty() for _ in fleet] for name in PRIORS}
    whole = {name: judge.Tally.empty() for name in PRIORS}
    for r in range(replicas):
        seen = [
            judge.engine_result(p, *pasts[k][r], r, None, observe=True) for k, p in enumerate(fleet)
        ]
        for k, profile in enumerate(fleet):
            prior = fleets.pooled(seen, k, origin="fleet:strangers")
            default = judge.targets(seen[k])
            pooled = judge.current_engine(profile, *pasts[k][r], r, prior)
            for name, tiers in zip(PRIORS, (default, pooled), strict=True):
                tallies[name][k].add(tiers, futures[k])
                whole[name].add(tiers, futures[k])
    rows = [
        _row(p, {name: tallies[name][k] for name in PRIORS}, windows) for k, p in enumerate(fleet)
    ]
    return {
        "fleet": {name: judge.summarize(whole[name], windows=windows) for name in PRIORS},
        "summary": {name: sweep.summary([r[name] for r in rows]) for name in PRIORS},
        "processes": rows,
    }


def _row(profile: Profile, tallies: dict[str, judge.Tally], windows: int) -> dict[str, Any]:
    row: dict[str, Any] = {"profile": profile.name, "parameters": sweep.describe(profile)}
    for name, tally in tallies.items():
        tiers = judge.summarize(tally, windows=windows)
        row[name] = {"tiers": tiers, "meets": sweep.verdict(tiers)}
    return row


def markdown(document: dict[str, Any]) -> str:
    lines = [
        f"A fleet of {document['fleetSize']} random processes (`bench.sweep`'s draw, seed "
        f"{document['seed']}), {document['replicas']} fleets, {document['futureWindows']} "
        "future windows per process: each history's prior pooled from the other services of "
        "its fleet (strangers), beside the default prior on the same histories.",
        "",
        "| prior | fleet: breach × promise (cons / bal / aggr) | fleet: budget ratio, median "
        "(cons / bal / aggr) | processes that keep every promise | balanced budget in range "
        "| both | median balanced budget |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in PRIORS:
        t, s = document["fleet"][name], document["summary"][name]
        lines.append(
            f"| {name} | {_cells(t, 'breachOverPromise', '{}')} | "
            f"{_cells(t, 'budgetRatioMedian', '{:.2f}')} | {s['keepPromises']} | "
            f"{s['balancedBudgetInRange']} | {s['both']} | {s['balancedBudgetMedian']}x |"
        )
    lines += [
        "",
        "| process | default: breach × promise | strangers: breach × promise | default: budget "
        "| strangers: budget |",
        "|---|---|---|---|---|",
    ]
    for r in document["processes"]:
        cells = []
        for key, fmt in (("breachOverPromise", "{}"), ("budgetRatioMedian", "{:.2f}")):
            for name in PRIORS:
                mark = "" if key != "breachOverPromise" or r[name]["meets"]["promises"] else " ✗"
                cells.append(_cells(r[name]["tiers"], key, fmt) + mark)
        lines.append(f"| {r['profile']}: {r['parameters']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _cells(tiers: dict[str, Any], key: str, fmt: str) -> str:
    return " / ".join(fmt.format(tiers[n][key]) for n, _, _ in judge.TIERS)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.strangers", description=__doc__)
    parser.add_argument("--replicas", type=int, default=8)
    sweep.draw_arguments(parser, seed=20261207, out="bench/results/calibration-strangers")
    args = parser.parse_args(argv)
    allocator.tune()  # as the operator and the CLI run: the same numbers, faster
    began = time.perf_counter()
    result = run(seed=args.seed, count=args.processes, replicas=args.replicas, windows=args.windows)
    document = {
        **calibrate.header(argparse.Namespace(**vars(args), prior="strangers", histories=1)),
        "fleetSize": args.processes,
        "replicas": args.replicas,
        **result,
        "wallSeconds": round(time.perf_counter() - began, 1),
    }
    calibrate.write(Path(args.out), document, markdown(document))


if __name__ == "__main__":
    main()
