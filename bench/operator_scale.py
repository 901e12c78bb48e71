"""The operator at scale: N ServiceLevels through the real operator, control plane and Prometheus.

SPEC §6 asks for thousands of ServiceLevels on one small pod. This measures what one operator
process does with ``--service-levels`` of them (a 2-core machine also hosts the apiserver, etcd
and Prometheus, so the whole stack competes for the same cores). The defaults are the realistic
case (issue 12): 5,000 ServiceLevels, each reading its *own* service (``--services`` defaults to
one per ServiceLevel), over 90 days of history (``--history-days``). Samples are hourly
(``--sample-seconds``): the reader's cost is per bucket, not per sample, and 5-minute samples
would make the backfill of 5,000 services alone take most of an hour. Only the request counters
are backfilled, since the ServiceLevels declare availability only.

* wall time from start until every ServiceLevel is Ready for its generation;
* the operator's CPU seconds and peak resident memory (``/proc``), per ServiceLevel;
* an idle period afterwards: CPU used and how many ServiceLevels changed at all (the status must
  not churn: the expected count is zero).

The machine's load average (``/proc/loadavg``) is recorded before and after, since other work on
the same cores changes every number here. Run by ``make bench`` after ``bench.run``; results are
merged into the same JSON file, and each run is also added to ``bench/results/operator-scale.json``
under its fleet size (the curve the README reports).
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import os
import re
import ssl
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench import readiness
from sloreco.sources import synth
from sloreco.testing import controlplane as cplane
from sloreco.testing import cplaunch, processes, waiting
from sloreco.testing import prometheus as promtest

REPO_ROOT = Path(__file__).resolve().parents[1]
NAMESPACE = "scale"
SERVICE_LEVELS = f"/apis/sloreco.dev/v1alpha1/namespaces/{NAMESPACE}/servicelevels"
#: Profiles the services cycle through: the ones with traffic and no restarts to explain.
BENCH_PROFILES = synth.PROFILES[:4]
#: Issue 12's realistic case: a 5,000-ServiceLevel fleet, SPEC §2.1's default 90-day lookback.
DEFAULT_SERVICE_LEVELS = 5000
DEFAULT_HISTORY_DAYS = 90
#: Hourly samples: one per bucket, the least the reader needs for exact hourly counts.
DEFAULT_SAMPLE_SECONDS = 3600
#: Where each run's result is kept under its fleet size.
CURVE = Path("bench/results/operator-scale.json")
#: The idle period after convergence: nothing is due, so the operator should do (almost) nothing.
IDLE_SECONDS = 30
#: Give up after this long (a liveness bound for the benchmark, not a bar).
CONVERGE_TIMEOUT_S = 1800
#: The scheduler's longest sleep for the run (a third of production's 30 s).
TIMER_INTERVAL = "10"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--service-levels", type=int, default=DEFAULT_SERVICE_LEVELS)
    parser.add_argument(
        "--services", type=int, default=0, help="distinct services (default: one per ServiceLevel)"
    )
    parser.add_argument("--history-days", type=int, default=DEFAULT_HISTORY_DAYS)
    parser.add_argument("--sample-seconds", type=int, default=DEFAULT_SAMPLE_SECONDS)
    parser.add_argument("--out", default="bench/results/latest.json")
    parser.add_argument("--curve", default=str(CURVE))
    parser.add_argument(
        "--batch-label",
        default="service",
        help="the source's batchLabel (sources.coalesce); empty: one query per read, as before",
    )
    args = parser.parse_args(argv)
    shape = Shape(
        service_levels=args.service_levels,
        services=args.services or args.service_levels,
        history_days=args.history_days,
        sample_seconds=args.sample_seconds,
        batch_label=args.batch_label,
    )
    if not 1 <= shape.services <= shape.service_levels:
        parser.error("--services must be between 1 and --service-levels")
    with tempfile.TemporaryDirectory(prefix="sloreco-scale-") as tmp:
        result = run(shape, Path(tmp))
    for path, key in ((Path(args.out), "operatorScale"), (Path(args.curve), None)):
        merged = json.loads(path.read_text()) if path.exists() else {}
        merged[key or str(shape.service_levels)] = result
        path.write_text(json.dumps(merged, indent=2, sort_keys=key is None) + "\n")
    sys.stdout.write(
        f"operator scale: {result['serviceLevels']} ServiceLevels ({shape.services} services, "
        f"{shape.history_days} days) Ready in "
        f"{result['convergeSeconds']:.1f}s; operator CPU {result['operatorCpuSeconds']:.1f}s "
        f"({result['cpuMsPerServiceLevel']:.1f} ms each), peak RSS {result['peakRssMiB']:.0f} MiB; "
        f"idle {IDLE_SECONDS}s: CPU {result['idleCpuSeconds']:.2f}s, "
        f"{result['idleChangedServiceLevels']} ServiceLevels changed; "
        f"load {result['loadBefore']} -> {result['loadAfter']}\n"
    )


@dataclasses.dataclass(frozen=True)
class Shape:
    """What is measured: the fleet, how many distinct services it reads, and their history."""

    service_levels: int
    services: int
    history_days: int
    sample_seconds: int
    batch_label: str = "service"

    def service(self, i: int) -> synth.Service:
        """ServiceLevel ``i`` reads service ``i mod services``."""
        k = i % self.services
        return synth.Service(f"svc-{k:05d}", BENCH_PROFILES[k % len(BENCH_PROFILES)])


def run(shape: Shape, root: Path) -> dict[str, Any]:
    count = shape.service_levels
    load_before = _loadavg()
    with cplaunch.start(REPO_ROOT / "bin", root / "cp") as cp:
        cplane.apply_crds(cp, sorted((REPO_ROOT / "crds").glob("*.yaml")))
        end = int(time.time()) // 3600 * 3600
        timeline = synth.Timeline(end=end, days=shape.history_days, step=shape.sample_seconds)
        services = [shape.service(k) for k in range(shape.services)]
        backfill = promtest.build_tsdb(services, timeline, root / "prom" / "data", latency=False)
        with (
            promtest.PrometheusServer(root / "prom") as prom,
            _client(cp) as client,
            readiness.Readiness(lambda: _client(cp), SERVICE_LEVELS) as ready,
        ):
            client.post(
                "/api/v1/namespaces", json={"metadata": {"name": NAMESPACE}}
            ).raise_for_status()
            for i in range(count):
                client.post(
                    SERVICE_LEVELS,
                    json=_service_level(f"sl-{i:05d}", shape.service(i).name, shape.history_days),
                ).raise_for_status()
            config = root / "operator-config.yaml"
            source = {"name": "default", "url": prom.url, "batchLabel": shape.batch_label}
            config.write_text(json.dumps({"sources": [source]}))  # JSON is YAML
            queries_before = _range_queries(prom.url)
            began = time.monotonic()
            stack_before = _stack_cpu(root)
            requests_before = _apiserver_requests(client)
            operator = processes.spawn(
                [sys.executable, "-m", "kopf", "run", "--standalone", "--namespace", NAMESPACE,
                 "-m", "sloreco.runtime.handlers"],
                log=root / "operator.log",
                env={
                    **os.environ,
                    "KUBECONFIG": str(cp.kubeconfig),
                    "SLORECO_CONFIG": str(config),
                    "SLORECO_METRICS_PORT": "0",
                    "SLORECO_TIMER_INTERVAL": TIMER_INTERVAL,
                    "PYTHONPATH": str(REPO_ROOT / "operator"),
                },
            )  # fmt: skip
            try:
                _wait_ready(ready, count, operator)
                converge = time.monotonic() - began
                cpu = _cpu_seconds(operator.pid)
                stack = {k: v - stack_before.get(k, 0.0) for k, v in _stack_cpu(root).items()}
                requests = _apiserver_requests(client) - requests_before
                queries = _range_queries(prom.url) - queries_before
                versions = _versions(client)
                time.sleep(IDLE_SECONDS)
                idle_cpu = _cpu_seconds(operator.pid) - cpu
                changed = sum(1 for k, v in _versions(client).items() if versions.get(k) != v)
                peak = _peak_rss_mib(operator.pid)
            finally:
                processes.terminate(operator)
    return {
        "serviceLevels": count,
        "services": shape.services,
        "historyDays": shape.history_days,
        "sampleSeconds": shape.sample_seconds,
        "backfillSamples": backfill.samples,
        "backfillSeconds": round(backfill.generate_seconds + backfill.backfill_seconds, 1),
        "convergeSeconds": round(converge, 2),
        "operatorCpuSeconds": round(cpu, 2),
        "cpuMsPerServiceLevel": round(1000 * cpu / count, 2),
        "peakRssMiB": round(peak, 1),
        "idleSeconds": IDLE_SECONDS,
        "idleCpuSeconds": round(idle_cpu, 2),
        "idleChangedServiceLevels": changed,
        "timerIntervalSeconds": float(TIMER_INTERVAL),
        "batchLabel": shape.batch_label,
        # Range queries Prometheus answered until convergence, per ServiceLevel.
        "rangeQueriesPerServiceLevel": round(queries / count, 3),
        # The rest of the stack on the same cores, until convergence (CPU seconds).
        "stackCpuSeconds": {k: round(v, 2) for k, v in sorted(stack.items())},
        # What the operator asked of the apiserver per ServiceLevel, until convergence.
        "apiRequestsPerServiceLevel": {
            k: round(v / count, 2) for k, v in sorted(requests.items()) if v >= count / 100
        },
        "prometheus": promtest.version(),
        "cpus": os.cpu_count(),
        "loadBefore": load_before,
        "loadAfter": _loadavg(),
    }


def _stack_cpu(root: Path) -> dict[str, float]:
    """CPU seconds of the benchmark's etcd, kube-apiserver and Prometheus (found by their data
    directories under ``root`` in /proc, so other work on the machine is not counted)."""
    found: dict[str, float] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            cpu = _cpu_seconds(int(proc.name))
        except OSError:
            continue
        if not any(str(root).encode() in arg for arg in argv):
            continue
        name = Path(argv[0].decode(errors="replace")).name
        if name in ("etcd", "kube-apiserver", "prometheus"):
            found[name] = found.get(name, 0.0) + cpu
    return found


def _apiserver_requests(client: httpx.Client) -> collections.Counter[str]:
    """``apiserver_request_total`` summed by verb and resource[/subresource], from /metrics."""
    response = client.get("/metrics")
    response.raise_for_status()
    counts: collections.Counter[str] = collections.Counter()
    for line in response.text.splitlines():
        if not line.startswith("apiserver_request_total{"):
            continue
        labels = dict(_LABEL.findall(line))
        resource = labels.get("resource", "")
        if labels.get("subresource"):
            resource += "/" + labels["subresource"]
        counts[f"{labels.get('verb', '')} {resource}"] += int(float(line.rsplit(" ", 1)[1]))
    return counts


_LABEL = re.compile(r'(\w+)="([^"]*)"')


def _range_queries(url: str) -> int:
    """Prometheus's own count of ``/api/v1/query_range`` requests (its /metrics)."""
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return sum(
        int(float(line.rsplit(" ", 1)[1]))
        for line in text.splitlines()
        if line.startswith("prometheus_http_requests_total{")
        and 'handler="/api/v1/query_range"' in line
    )


def _loadavg() -> str:
    """The 1, 5 and 15-minute load averages, as ``uptime`` prints them."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _service_level(name: str, service: str, history_days: int) -> dict[str, Any]:
    return {
        "apiVersion": "sloreco.dev/v1alpha1",
        "kind": "ServiceLevel",
        "metadata": {"name": name},
        "spec": {
            "service": service,
            "availability": {
                "totalQuery": f'http_requests_total{{service="{service}"}}',
                "errorQuery": f'http_requests_total{{service="{service}",code=~"5.."}}',
            },
            "lookback": f"{history_days}d",
        },
    }


def _client(cp: cplane.ControlPlane) -> httpx.Client:
    return httpx.Client(
        base_url=cp.url,
        headers={"Authorization": f"Bearer {cp.token}"},
        verify=ssl.create_default_context(cafile=str(cp.ca_file)),
        timeout=60,
        trust_env=False,
    )


def _items(client: httpx.Client) -> list[dict[str, Any]]:
    response = client.get(SERVICE_LEVELS)
    response.raise_for_status()
    return list(response.json()["items"])


def _wait_ready(ready: readiness.Readiness, count: int, operator: Any) -> None:
    def all_ready() -> bool:
        if operator.poll() is not None:
            raise RuntimeError("the operator exited during the benchmark")
        return ready.count() == count

    waiting.wait_until(
        all_ready, timeout=CONVERGE_TIMEOUT_S, every=1, what=f"all {count} ServiceLevels Ready"
    )


def _versions(client: httpx.Client) -> dict[str, str]:
    return {sl["metadata"]["name"]: sl["metadata"]["resourceVersion"] for sl in _items(client)}


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])  # man proc(5): fields 14 and 15
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


if __name__ == "__main__":
    main()
