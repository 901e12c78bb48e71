"""The operator at scale: N ServiceLevels through the real operator, control plane and Prometheus.

SPEC §6 asks for thousands of ServiceLevels on one small pod. This measures what one operator
process does with ``--service-levels`` of them (default 2,000; a 2-core machine also hosts the
apiserver, etcd and Prometheus, so the whole stack competes for the same cores):

* wall time from start until every ServiceLevel is Ready for its generation;
* the operator's CPU seconds and peak resident memory (``/proc``), per ServiceLevel;
* an idle period afterwards: CPU used and how many ServiceLevels changed at all (the status must
  not churn: the expected count is zero).

Run by ``make bench`` after ``bench.run``; results are merged into the same JSON file.
"""

from __future__ import annotations

import argparse
import json
import os
import ssl
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from sloreco.sources import synth
from sloreco.testing import controlplane as cplane
from sloreco.testing import processes, waiting
from sloreco.testing import prometheus as promtest

REPO_ROOT = Path(__file__).resolve().parents[1]
NAMESPACE = "scale"
#: Distinct synthetic services the ServiceLevels read (round-robin); queries are per object
#: anyway, so more services would only lengthen the backfill.
SERVICES = tuple(synth.Service(f"svc-{i}", p) for i, p in enumerate(synth.PROFILES[:4]))
#: A month of history keeps the backfill short and still covers a 28-day window.
HISTORY_DAYS = 35
#: The idle period after convergence: nothing is due, so the operator should do (almost) nothing.
IDLE_SECONDS = 30
#: Give up after this long (a liveness bound for the benchmark, not a bar).
CONVERGE_TIMEOUT_S = 1800
#: The scheduler's longest sleep for the run (a third of production's 30 s).
TIMER_INTERVAL = "10"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--service-levels", type=int, default=2000)
    parser.add_argument("--out", default="bench/results/latest.json")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sloreco-scale-") as tmp:
        result = run(args.service_levels, Path(tmp))
    out = Path(args.out)
    merged = json.loads(out.read_text()) if out.exists() else {}
    merged["operatorScale"] = result
    out.write_text(json.dumps(merged, indent=2) + "\n")
    sys.stdout.write(
        f"operator scale: {result['serviceLevels']} ServiceLevels Ready in "
        f"{result['convergeSeconds']:.1f}s; operator CPU {result['operatorCpuSeconds']:.1f}s "
        f"({result['cpuMsPerServiceLevel']:.1f} ms each), peak RSS {result['peakRssMiB']:.0f} MiB; "
        f"idle {IDLE_SECONDS}s: CPU {result['idleCpuSeconds']:.2f}s, "
        f"{result['idleChangedServiceLevels']} ServiceLevels changed\n"
    )


def run(count: int, root: Path) -> dict[str, Any]:
    with cplane.start(REPO_ROOT / "bin", root / "cp") as cp:
        cplane.apply_crds(cp, sorted((REPO_ROOT / "crds").glob("*.yaml")))
        end = int(time.time()) // 3600 * 3600
        promtest.build_tsdb(
            SERVICES, synth.Timeline(end=end, days=HISTORY_DAYS), root / "prom" / "data"
        )
        with promtest.PrometheusServer(root / "prom") as prom, _client(cp) as client:
            client.post(
                "/api/v1/namespaces", json={"metadata": {"name": NAMESPACE}}
            ).raise_for_status()
            for i in range(count):
                client.post(
                    f"/apis/sloreco.dev/v1alpha1/namespaces/{NAMESPACE}/servicelevels",
                    json=_service_level(f"sl-{i:05d}", SERVICES[i % len(SERVICES)].name),
                ).raise_for_status()
            began = time.monotonic()
            operator = processes.spawn(
                [sys.executable, "-m", "kopf", "run", "--standalone", "--namespace", NAMESPACE,
                 "-m", "sloreco.runtime.handlers"],
                log=root / "operator.log",
                env={
                    **os.environ,
                    "KUBECONFIG": str(cp.kubeconfig),
                    "SLORECO_PROMETHEUS_URL": prom.url,
                    "SLORECO_METRICS_PORT": "0",
                    "SLORECO_TIMER_INTERVAL": TIMER_INTERVAL,
                    "PYTHONPATH": str(REPO_ROOT / "operator"),
                },
            )  # fmt: skip
            try:
                _wait_ready(client, count, operator)
                converge = time.monotonic() - began
                cpu = _cpu_seconds(operator.pid)
                versions = _versions(client)
                time.sleep(IDLE_SECONDS)
                idle_cpu = _cpu_seconds(operator.pid) - cpu
                changed = sum(1 for k, v in _versions(client).items() if versions.get(k) != v)
                peak = _peak_rss_mib(operator.pid)
            finally:
                processes.terminate(operator)
    return {
        "serviceLevels": count,
        "convergeSeconds": round(converge, 2),
        "operatorCpuSeconds": round(cpu, 2),
        "cpuMsPerServiceLevel": round(1000 * cpu / count, 2),
        "peakRssMiB": round(peak, 1),
        "idleSeconds": IDLE_SECONDS,
        "idleCpuSeconds": round(idle_cpu, 2),
        "idleChangedServiceLevels": changed,
        "timerIntervalSeconds": float(TIMER_INTERVAL),
    }


def _service_level(name: str, service: str) -> dict[str, Any]:
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
            "lookback": f"{HISTORY_DAYS}d",
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
    response = client.get(f"/apis/sloreco.dev/v1alpha1/namespaces/{NAMESPACE}/servicelevels")
    response.raise_for_status()
    return list(response.json()["items"])


def _wait_ready(client: httpx.Client, count: int, operator: Any) -> None:
    def all_ready() -> bool:
        if operator.poll() is not None:
            raise RuntimeError("the operator exited during the benchmark")
        ready = 0
        for sl in _items(client):
            status = sl.get("status") or {}
            conditions = {c["type"]: c["status"] for c in status.get("conditions", [])}
            if (
                status.get("observedGeneration") == sl["metadata"]["generation"]
                and conditions.get("Ready") == "True"
            ):
                ready += 1
        return ready == count

    waiting.wait_until(
        all_ready, timeout=CONVERGE_TIMEOUT_S, every=2, what=f"all {count} ServiceLevels Ready"
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
