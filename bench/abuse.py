"""One tenant must not hurt the others: 500 hostile ServiceLevels and one canary (issue 10).

The scenario of issue 10, through the real apiserver, etcd, Prometheus and operator: a hostile
namespace applies 500 ServiceLevels made of the specs that once took the operator down (unbounded
durations, a 2 s TTL, selectors without a metric name, names over 63 characters, 50 objects that
all depend on each other); then a healthy canary is created in another namespace. Measured:

* how many hostile objects the apiserver admitted at all;
* the canary's time from create to Ready (0.5 s on an idle operator);
* the operator's peak RSS, and whether it stayed up;
* admitted hostile objects still without any status after the observation period;
* tracebacks in the operator's log (each one is a bug).

The operator runs under an address-space limit (``prlimit --as``, ``MEMORY_LIMIT_GIB``) as a
container limit would hold it: without it, the old behaviour tries to allocate tens of GiB on a
machine other work shares. ``--code-root`` points at another checkout to measure an older
operator (with its CRDs) by the same procedure, for the before → after numbers.

Run by ``make bench``; results are merged into ``bench/results/latest.json`` under ``abuse``.
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
from sloreco.testing import cplaunch, processes
from sloreco.testing import prometheus as promtest

REPO_ROOT = Path(__file__).resolve().parents[1]
HOSTILE_NS = "hostile"
CANARY_NS = "canary"
SERVICES = (synth.Service("checkout", "steady"),)
HISTORY_DAYS = 35
#: Each kind of hostile spec, 50 objects each: 500 in all.
PER_KIND = 50
#: How long the canary may take before the run calls it starved (a liveness bound).
CANARY_TIMEOUT_S = 300.0
#: Observation after the canary is Ready (or timed out): memory, statuses, the log.
OBSERVE_SECONDS = 60
#: The operator's address-space limit, as a container limit would impose one.
MEMORY_LIMIT_GIB = 4
TIMER_INTERVAL = "10"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="bench/results/latest.json")
    parser.add_argument("--code-root", type=Path, default=REPO_ROOT)
    parser.add_argument("--label", default="after", help="where in the results to put the run")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sloreco-abuse-") as tmp:
        result = run(args.code_root.resolve(), Path(tmp))
    out = Path(args.out)
    merged = json.loads(out.read_text()) if out.exists() else {}
    merged.setdefault("abuse", {})[args.label] = result
    out.write_text(json.dumps(merged, indent=2) + "\n")
    sys.stdout.write(f"abuse ({args.label}): {json.dumps(result)}\n")


def hostile() -> list[dict[str, Any]]:
    """The 500 specs: the ones issue 10 reproduced, 50 of each."""
    kinds: list[tuple[str, dict[str, Any]]] = [
        ("lookback-10000y", {"lookback": "10000y"}),
        ("lookback-huge", {"lookback": "9999999999999999999d"}),
        ("window-100y", {"window": "100y"}),
        ("ttl-10000y", {"recommendationTTL": "10000y"}),
        ("lookback-30m", {"lookback": "30m"}),
        ("ttl-2s", {"refreshInterval": "1s", "recommendationTTL": "2s", "historyLimit": 100}),
        ("all-series", {"availability": _availability('{__name__=~".+"}')}),
        ("keyword", {"availability": _availability('sum{job="x"}')}),
    ]
    specs = [
        _service_level(f"{kind}-{i:02d}", **fields)
        for kind, fields in kinds
        for i in range(PER_KIND)
    ]
    specs += [_service_level(f"{'long-name-' * 7}{i:02d}") for i in range(PER_KIND)]
    ring = [f"ring-{i:02d}" for i in range(PER_KIND)]
    specs += [
        _service_level(
            name, dependencies=[{"serviceLevel": other} for other in ring if other != name]
        )
        for name in ring
    ]
    return specs


def run(code_root: Path, root: Path) -> dict[str, Any]:
    with cplaunch.start(REPO_ROOT / "bin", root / "cp") as cp:
        cplane.apply_crds(cp, sorted((code_root / "crds").glob("*.yaml")))
        end = int(time.time()) // 3600 * 3600
        promtest.build_tsdb(
            SERVICES, synth.Timeline(end=end, days=HISTORY_DAYS), root / "prom" / "data"
        )
        with promtest.PrometheusServer(root / "prom") as prom, _client(cp) as client:
            for ns in (HOSTILE_NS, CANARY_NS):
                client.post(
                    "/api/v1/namespaces", json={"metadata": {"name": ns}}
                ).raise_for_status()
            log = root / "operator.log"
            operator = processes.spawn(
                ["prlimit", f"--as={MEMORY_LIMIT_GIB << 30}", "--",
                 sys.executable, "-m", "kopf", "run", "--standalone", "--all-namespaces",
                 "-m", "sloreco.runtime.handlers"],
                log=log,
                env={
                    **os.environ,
                    "KUBECONFIG": str(cp.kubeconfig),
                    "SLORECO_PROMETHEUS_URL": prom.url,
                    "SLORECO_METRICS_PORT": "0",
                    "SLORECO_TIMER_INTERVAL": TIMER_INTERVAL,
                    "PYTHONPATH": str(code_root / "operator"),
                },
            )  # fmt: skip
            try:
                admitted = sum(
                    client.post(_collection(HOSTILE_NS), json=body).status_code == 201
                    for body in hostile()
                )
                began = time.monotonic()
                client.post(
                    _collection(CANARY_NS), json=_service_level("canary")
                ).raise_for_status()
                canary = _wait_canary(client, began)
                time.sleep(OBSERVE_SECONDS)
                alive = operator.poll() is None
                peak = _peak_rss_mib(operator.pid) if alive else float("nan")
                silent = sum(1 for sl in _items(client, HOSTILE_NS) if not sl.get("status"))
            finally:
                processes.terminate(operator)
            text = log.read_text(errors="replace")
    return {
        "hostileApplied": PER_KIND * 10,
        "hostileAdmitted": admitted,
        "canaryReadySeconds": None if canary is None else round(canary, 2),
        "operatorPeakRssMiB": round(peak, 1),
        "operatorAlive": alive,
        "admittedWithoutStatus": silent,
        "tracebacks": text.count("Traceback (most recent call last)"),
        "memoryErrors": text.count("MemoryError") + text.count("Unable to allocate"),
        "observeSeconds": OBSERVE_SECONDS,
        "memoryLimitGiB": MEMORY_LIMIT_GIB,
    }


def _availability(total: str) -> dict[str, str]:
    return {"totalQuery": total, "errorQuery": 'http_requests_total{code=~"5.."}'}


def _service_level(name: str, **fields: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "service": "checkout",
        "availability": _availability('http_requests_total{service="checkout"}')
        | {"errorQuery": 'http_requests_total{service="checkout",code=~"5.."}'},
        "lookback": f"{HISTORY_DAYS}d",
    }
    spec.update(fields)
    return {
        "apiVersion": "sloreco.dev/v1alpha1",
        "kind": "ServiceLevel",
        "metadata": {"name": name},
        "spec": spec,
    }


def _collection(namespace: str) -> str:
    return f"/apis/sloreco.dev/v1alpha1/namespaces/{namespace}/servicelevels"


def _client(cp: cplane.ControlPlane) -> httpx.Client:
    return httpx.Client(
        base_url=cp.url,
        headers={"Authorization": f"Bearer {cp.token}"},
        verify=ssl.create_default_context(cafile=str(cp.ca_file)),
        timeout=60,
        trust_env=False,
    )


def _items(client: httpx.Client, namespace: str) -> list[dict[str, Any]]:
    response = client.get(_collection(namespace))
    response.raise_for_status()
    return list(response.json()["items"])


def _wait_canary(client: httpx.Client, began: float) -> float | None:
    while time.monotonic() - began < CANARY_TIMEOUT_S:
        response = client.get(f"{_collection(CANARY_NS)}/canary")
        conditions = (response.json().get("status") or {}).get("conditions") or []
        if any(c["type"] == "Ready" and c["status"] == "True" for c in conditions):
            return time.monotonic() - began
        time.sleep(0.25)
    return None


def _peak_rss_mib(pid: int) -> float:
    """VmHWM of the operator (prlimit execs it, so the pid is the operator's own)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


if __name__ == "__main__":
    main()
