"""The operator's per-fleet state at 20,000 ServiceLevels, measured (issue 12 goal 5).

Three structures grow with the fleet: the scheduler's queue (one due time per ServiceLevel), the
fleet prior's per-service incident statistics (``controller.fleet``) and the dependency graph the
watch keeps (``controller.graph``, one slim node per ServiceLevel). This bench fills both
for ``--service-levels`` objects, re-plans every object ``--replans`` times (as watch events and
passes do), pools the priors, and records with ``tracemalloc`` the bytes each holds, per object,
plus the size of the ConfigMap the priors are saved in (a ConfigMap holds at most 1 MiB). The
pass itself and kopf are measured by ``bench.operator_scale``; this covers what a 20,000-object
cluster run on this machine cannot (the apiserver, etcd and Prometheus would share its 2 cores).

Run by ``make bench``; results are merged into ``bench/results/latest.json`` under ``memory``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sloreco.controller import fleet as fleets
from sloreco.controller import graph as graphs
from sloreco.core import persistence, prior
from sloreco.runtime import scheduler

#: Sources the fleet is spread over: priors are pooled per source.
SOURCES = ("default", "eu", "us")
SLI = prior.scope_of("availability")


def measured(build: Callable[[], Any]) -> tuple[Any, int]:
    """What ``build`` returns, and the bytes it still holds once built."""
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    made = build()
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return made, held


def queue(n: int, replans: int) -> scheduler.Queue:
    q = scheduler.Queue()
    for round_ in range(replans):
        for i in range(n):
            q.set((f"team-{i % 500}", f"sl-{i}"), 1e9 - round_ * 60.0 + i)
    return q


def fleet(n: int, replans: int) -> fleets.Fleet:
    f = fleets.Fleet()
    for _ in range(replans):
        for i in range(n):
            # As the engine reports them: a reading of the background's drift each
            # (``evidence.Evidence.stats``), its own object per service.
            stats = prior.ServiceStats(
                incidents=i % 4,
                exposure_days=90.0,
                log_sum=1.5 * (i % 4),
                log_square_sum=3.0,
                background=persistence.Persistence(90, 0.1 + (i % 7) / 10, (i % 9) / 10),
            )
            f.observe(SOURCES[i % len(SOURCES)], f"team-{i % 500}/sl-{i}", SLI, ((SLI, stats),))
    f.learn()
    return f


def graph(n: int, replans: int) -> graphs.Graph:
    """Every ServiceLevel seen ``replans`` times, each with two hard dependencies."""
    g = graphs.Graph()
    for _ in range(replans):
        for i in range(n):
            ns = f"team-{i % 500}"
            deps = [{"serviceLevel": f"sl-{(i + k) % n}", "type": "hard"} for k in (1, 2)]
            g.see(
                {
                    "metadata": {"namespace": ns, "name": f"sl-{i}"},
                    "spec": {"dependencies": deps, "sharedWith": []},
                    "status": {"observed": [{"sli": "availability", "median": "99.9512"}]},
                }
            )
    return g


def run(n: int, replans: int) -> dict[str, Any]:
    q, queue_bytes = measured(lambda: queue(n, replans))
    f, fleet_bytes = measured(lambda: fleet(n, replans))
    g, graph_bytes = measured(lambda: graph(n, replans))
    configmap = json.dumps(f.configmap("sloreco-system")).encode()
    return {
        "serviceLevels": n,
        "replans": replans,
        "queueBytesPerServiceLevel": round(queue_bytes / n, 1),
        "queueHeapEntries": q.heap_size(),
        "fleetBytesPerServiceLevel": round(fleet_bytes / n, 1),
        "fleetPriorConfigMapBytes": len(configmap),
        "graphNodes": len(g),
        "graphBytesPerServiceLevel": round(graph_bytes / n, 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="bench/results/latest.json")
    parser.add_argument("--service-levels", type=int, default=20_000)
    parser.add_argument("--replans", type=int, default=10)
    args = parser.parse_args(argv)
    result = run(args.service_levels, args.replans)
    out = Path(args.out)
    merged = json.loads(out.read_text()) if out.exists() else {}
    merged["memory"] = result
    out.write_text(json.dumps(merged, indent=2) + "\n")
    sys.stdout.write(f"memory: {json.dumps(result)}\n")


if __name__ == "__main__":
    main()
