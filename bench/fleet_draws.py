"""How much of a fleet-prior calibration row is the one fleet it was pooled from?

Under ``bench.calibrate --prior fleet`` every history of a profile gets a prior pooled from the
profile's other histories (``fleets.fleet_prior``): the 100 histories share, to within one
service, a single draw of the fleet prior. The breach interval ``calibrate`` prints treats the
histories as independent, so it measures the spread across services and not the spread across
fleets, which is the larger one where the fleet pools few incidents: a fleet of 99 14-day
histories of ``incidents`` holds about 90 (measured: 79-102 over 13 seeds, pooled rate
0.056-0.073 a day, log-size mean 3.41-3.84, variance 0.93-1.79).

This runs the same rows over several seeds (each seed draws new histories, a new fleet and new
future windows) and reports each tier's breach over promise and balanced budget ratio per seed,
with their mean, min and max, so that a miss can be told apart from an unlucky fleet.
``python -m bench.fleet_draws --profiles short-14d --seeds 20261203 1 2 3``
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from bench import fleets, judge, processes, profiles
from sloreco import allocator
from sloreco.core import fleetpool
from sloreco.core import prior as priors


def pooled(profile: processes.Profile, *, count: int, seed: int) -> priors.Prior:
    """The prior pooled from all ``count`` histories of ``seed`` (what the fleet looked like)."""
    pasts = judge.histories(profile, count=count, seed=seed)
    stats = [fleets.incident_stats(profile, t, b, i) for i, (t, b) in enumerate(pasts)]
    return fleetpool.pool(stats, origin="fleet:calibration", scope=priors.scope_of(profile.kind))


def row(profile: processes.Profile, *, count: int, windows: int, seed: int) -> dict[str, Any]:
    result = judge.run_profile(
        profile,
        judge.current_engine,
        count=count,
        windows=windows,
        seed=seed,
        prior_for=fleets.fleet_prior,
    )
    fleet = pooled(profile, count=count, seed=seed)
    return {
        "seed": seed,
        "pooledIncidents": fleet.incidents,
        "pooledRatePerDay": round(fleet.rate_per_day, 5),
        "pooledLogMean": round(fleet.size_log_mean, 3),
        "tiers": {
            name: {
                "breachOverPromise": tier["breachOverPromise"],
                "budgetRatioMedian": tier["budgetRatioMedian"],
            }
            for name, tier in result["tiers"].items()
        },
    }


def spread(rows: list[dict[str, Any]]) -> dict[str, dict[str, list[float]]]:
    """Per tier and measure: mean, min and max over the seeds."""
    out: dict[str, dict[str, list[float]]] = {}
    for name, _, _ in judge.TIERS:
        out[name] = {}
        for key in ("breachOverPromise", "budgetRatioMedian"):
            values = np.asarray([r["tiers"][name][key] for r in rows])
            out[name][key] = [
                round(float(values.mean()), 3),
                float(values.min()),
                float(values.max()),
            ]
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fleet_draws", description=__doc__)
    parser.add_argument("--profiles", nargs="+", required=True)
    parser.add_argument("--seeds", nargs="+", type=int, default=[20261203, 1, 2, 3, 4, 5])
    parser.add_argument("--histories", type=int, default=100)
    parser.add_argument("--windows", type=int, default=100_000)
    parser.add_argument("--out", default="bench/results/fleet-draws.json")
    args = parser.parse_args(argv)
    allocator.tune()  # as the operator and the CLI run: the same numbers, faster
    document = []
    for name in args.profiles:
        rows = [
            row(profiles.by_name(name), count=args.histories, windows=args.windows, seed=seed)
            for seed in args.seeds
        ]
        for r in rows:
            cells = " | ".join(
                f"{r['tiers'][n]['breachOverPromise']}× ({r['tiers'][n]['budgetRatioMedian']})"
                for n, _, _ in judge.TIERS
            )
            print(f"| {name} | {r['seed']} | {r['pooledIncidents']} | {cells} |", flush=True)
        summary = spread(rows)
        print(f"{name}: mean, min, max over {len(rows)} fleets: {json.dumps(summary)}")
        document.append({"profile": name, "seeds": rows, "overSeeds": summary})
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=2) + "\n")


if __name__ == "__main__":
    main()
