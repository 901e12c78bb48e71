"""``make bench``: the two numbers the scale issue sets bars for, measured on this machine.

1. CPU time of one availability and one latency recommendation from 90 days of hourly buckets
   (bars: 15 ms availability, 25 ms latency), and what the operator adds to each
   (``bench.cpu``).
2. Wall time to read 1,000 services' availability and latency histories (90 days, hourly) from
   a real Prometheus with the batched reader (bar: under 10 s on 2 cores). The services are
   generated and backfilled first; that setup is timed and reported separately.

Counters are sampled hourly here (the tests use 5 minutes): 1,000 services at 5-minute
resolution would be ~300 million samples and ~25 GB of OpenMetrics to backfill, and what the
reader asks for — one ``increase()`` per hour — reads two samples per window either way.

Results go to ``--out`` as JSON with the machine's description; a short summary is printed.
Timings are measured here, never asserted in tests (SPEC §6).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench import cpu
from bench.cpu import DAY, HOUR
from sloreco.core import history
from sloreco.sources import prometheus as promclient
from sloreco.sources import synth, synthseries
from sloreco.testing import prometheus as promtest

READ_BAR_S = 10.0
#: Services whose read-back histories are compared with the generator's (exact equality).
VERIFY_SAMPLE = 10


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    results: dict[str, Any] = {
        "generatedAt": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "recommendation": cpu.recommendation_cpu(repeats=cpu.CPU_REPEATS),
    }
    results["batchRead"] = batch_read(args)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(results, indent=2) + "\n")
    tmp.replace(out)
    print(summary(results))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--out", default="bench/results/latest.json")
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--sample-step", type=int, default=HOUR, help="seconds between samples")
    parser.add_argument("--chunk-size", type=int, default=promclient.DEFAULT_CHUNK_SIZE)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5, help="timed batch reads")
    parser.add_argument("--workdir", help="keep the TSDB here instead of a temporary directory")
    return parser


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        pages = 0
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "cpus": os.cpu_count(),
        "cpuModel": model,
        "memoryGiB": round(pages / 2**30, 1),
        "prometheus": promtest.version(),
    }


def batch_read(args: argparse.Namespace) -> dict[str, Any]:
    services = [
        synth.Service(f"svc-{i:04d}", synth.PROFILES[i % len(synth.PROFILES)])
        for i in range(args.services)
    ]
    end = int(time.time()) // HOUR * HOUR
    timeline = synth.Timeline(end=end, days=args.days, step=args.sample_step)
    with tempfile.TemporaryDirectory(prefix="sloreco-bench-", dir=args.workdir) as tmp:
        root = Path(tmp)
        timings = promtest.build_tsdb(services, timeline, root / "data")
        with promtest.serve(root) as server:
            runs = {
                aggregate: [
                    _timed_read(server.url, services, timeline, args, aggregate)
                    for _ in range(args.repeats if aggregate == "client" else 1)
                ]
                for aggregate in ("client", "server")
            }
            ready = server.ready_seconds
    client_walls = [wall for wall, _ in runs["client"]]
    return {
        "services": len(services),
        "days": args.days,
        "sampleStepSeconds": args.sample_step,
        "bucketSeconds": HOUR,
        "chunkSize": args.chunk_size,
        "concurrency": args.concurrency,
        "setup": {
            "samples": timings.samples,
            "openmetricsMB": round(timings.openmetrics_bytes / 1e6, 1),
            "generateSeconds": round(timings.generate_seconds, 2),
            "backfillSeconds": round(timings.backfill_seconds, 2),
            "readySeconds": round(ready or 0.0, 3),
        },
        "clientAggregation": {
            "wallSeconds": [round(w, 2) for w in client_walls],
            "medianSeconds": round(statistics.median(client_walls), 2),
            "verified": all(ok for _, ok in runs["client"]),
        },
        "serverAggregation": {
            "wallSeconds": [round(w, 2) for w, _ in runs["server"]],
            "verified": all(ok for _, ok in runs["server"]),
        },
        "barSeconds": READ_BAR_S,
        "met": statistics.median(client_walls) < READ_BAR_S,
    }


def _timed_read(
    url: str,
    services: list[synth.Service],
    timeline: synth.Timeline,
    args: argparse.Namespace,
    aggregate: promclient.Aggregate,
) -> tuple[float, bool]:
    """Wall seconds for all services' availability + latency, and whether a sample is exact."""
    names = [s.name for s in services]
    grid = {
        "start": timeline.end - timeline.days * DAY,
        "end": timeline.end,
        "bucket_seconds": HOUR,
    }
    batch = {
        "label": "service",
        "values": names,
        "chunk_size": args.chunk_size,
        "aggregate": aggregate,
        **grid,
    }

    async def read() -> tuple[
        dict[str, history.AvailabilityHistory], dict[str, history.LatencyHistory]
    ]:
        config = promclient.SourceConfig(name="bench", url=url, timeout=120.0)
        async with promclient.PrometheusClient(config, concurrency=args.concurrency) as source:
            return await asyncio.gather(
                source.read_availability_many(
                    total="http_requests_total", errors='http_requests_total{code=~"5.."}', **batch
                ),
                source.read_latency_many(histogram="http_request_duration_seconds_bucket", **batch),
            )

    began = time.perf_counter()
    avail, latency = asyncio.run(read())
    wall = time.perf_counter() - began
    return wall, _exact(services[:VERIFY_SAMPLE], timeline, grid, avail, latency)


def _exact(
    services: list[synth.Service],
    timeline: synth.Timeline,
    grid: dict[str, int],
    avail: dict[str, history.AvailabilityHistory],
    latency: dict[str, history.LatencyHistory],
) -> bool:
    for service in services:
        data = synth.generate(service, timeline)
        truth_a = synthseries.availability_history(data, **grid)
        truth_l = synthseries.latency_history(data, **grid)
        got_a, got_l = avail[service.name], latency[service.name]
        if not (
            np.array_equal(truth_a.total, got_a.total, equal_nan=True)
            and np.array_equal(truth_a.bad, got_a.bad, equal_nan=True)
            and (
                data.first is None  # no data: the reader has no bounds to report
                or np.array_equal(truth_l.cumulative, got_l.cumulative, equal_nan=True)
            )
        ):
            return False
    return True


def summary(results: dict[str, Any]) -> str:
    rec, read = results["recommendation"], results["batchRead"]
    lines = [f"machine: {results['machine']['cpus']} CPUs, {results['machine']['cpuModel']}"]
    speeds = [r["referenceWorkloadMs"] for r in rec["rounds"]]
    bars = " / ".join(f"{bar:g}" for bar in rec["barMs"].values())
    lines.append(
        f"recommendation CPU, fastest of {len(rec['rounds'])} rounds: availability "
        f"{rec['availabilityFastestRoundMs']} ms, latency {rec['latencyFastestRoundMs']} ms "
        f"(bars {bars} ms: {'met' if rec['met'] else 'NOT met'}; the rounds' reference "
        f"workload {min(speeds)}-{max(speeds)} ms)"
    )
    lines.append(
        f"recommendation CPU (median of {len(rec['availabilityRunsMs'])}): availability "
        f"{rec['availabilityMedianMs']} ms, latency {rec['latencyMedianMs']} ms "
        f"({'met' if rec['metByMedian'] else 'NOT met'}); with glibc's own allocator thresholds "
        f"{rec['defaultAllocator']['availabilityMedianMs']} ms and "
        f"{rec['defaultAllocator']['latencyMedianMs']} ms; the operator's, with what its fleet "
        f"pools, {rec['availabilityObservedMedianMs']} ms and {rec['latencyObservedMedianMs']} ms;"
        f" the machine's reference workload {rec['referenceWorkloadMs']} ms"
    )
    setup = read["setup"]
    lines += [
        f"setup: {read['services']} services x {read['days']} days, {setup['samples']:,} samples;"
        f" generate {setup['generateSeconds']} s, backfill {setup['backfillSeconds']} s, "
        f"ready {setup['readySeconds']} s",
        f"batch read (client sum): {read['clientAggregation']['wallSeconds']} s, median "
        f"{read['clientAggregation']['medianSeconds']} s (bar {read['barSeconds']} s: "
        f"{'met' if read['met'] else 'NOT met'}); exact: {read['clientAggregation']['verified']}",
        f"batch read (server sum): {read['serverAggregation']['wallSeconds']} s; exact: "
        f"{read['serverAggregation']['verified']}",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
