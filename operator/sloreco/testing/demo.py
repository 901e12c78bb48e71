"""``make demo``: the whole product on one machine, with nothing but the project's own files.

It starts a real control plane (etcd + kube-apiserver from ``bin/``), a real Prometheus backfilled
with 90 days of synthetic history for five services, applies the CRDs and the samples from
``deploy/samples/``, runs the operator exactly as ``make run`` does (``kopf run
-m sloreco.runtime.handlers``), waits until every sample has been reconciled, and shows the
recommendations the way ``kubectl get sloreco`` does; then waits for the fleet prior the operator
learns from them and a fleet of more services beside them (``demofleet``), and shows each
sample's availability recommendation under it. Then it leaves everything running so you can
explore with the printed kubeconfig, and tears it all down on Ctrl-C. ``--once`` stops after
printing (tests, CI).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml

from sloreco import api
from sloreco.sources import inputfile, synth
from sloreco.testing import controlplane as cplane
from sloreco.testing import cplaunch, demofleet, processes, waiting
from sloreco.testing import prometheus as promtest

REPO_ROOT = Path(__file__).resolve().parents[3]
NAMESPACE = "demo"
#: The demo services and their profiles; deploy/samples/ refers to these names.
SERVICES = (
    synth.Service("checkout", "steady"),
    synth.Service("payments", "incidents"),
    synth.Service("search", "high-variance"),
    synth.Service("recommendations", "new-service"),
    synth.Service("inventory", "low-traffic"),
)
#: The lookback the samples ask for; the demo history covers it.
HISTORY_DAYS = 90
#: The scheduler's longest sleep in the demo (seconds): dependencies are looked up again sooner.
DEMO_TIMER_INTERVAL = 5
#: How long to wait for the operator to reconcile every sample before giving up.
RECONCILE_TIMEOUT_S = 300.0

logger = logging.getLogger("sloreco.demo")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make demo", description=__doc__.splitlines()[0])
    parser.add_argument("--once", action="store_true", help="exit after printing")
    parser.add_argument("--workdir", type=Path, help="keep logs and data here")
    args = parser.parse_args(argv)
    # Ctrl-C, `kill` and a closed terminal all take the orderly way out through the context
    # managers; explicit handlers also cover a shell that started us with SIGINT ignored.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="sloreco-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        with _stack(workdir) as (cp, operator):
            _show(cp)
            kubectl = functools.partial(_kubectl, cp)
            learned = demofleet.wait_learned(kubectl, NAMESPACE, operator)
            sys.stdout.write(demofleet.comparison(learned, NAMESPACE))
            _print_next_steps(cp, workdir)
            if not args.once:
                _wait_for_ctrl_c()
            if operator.poll() is not None:
                logger.error("The operator exited early; see %s", workdir / "operator.log")
                return 1
    except (cplane.ControlPlaneError, promtest.PrometheusError, TimeoutError) as exc:
        logger.error("Failed to run the demo: %s", exc)
        return 1
    except KeyboardInterrupt:
        logger.info("Interrupted; everything was stopped.")
        return 130
    return 0


@contextlib.contextmanager
def _stack(workdir: Path) -> Iterator[tuple[cplane.ControlPlane, subprocess.Popen[bytes]]]:
    began = time.monotonic()
    with cplaunch.start(REPO_ROOT / "bin", workdir / "controlplane") as cp:
        logger.info("Started kube-apiserver at %s (%.1fs).", cp.url, time.monotonic() - began)
        cplane.apply_crds(cp, sorted((REPO_ROOT / "crds").glob("*.yaml")))
        logger.info("Applied the CRDs from crds/.")
        end = int(time.time()) // 3600 * 3600
        timings = promtest.build_tsdb(
            SERVICES + demofleet.SERVICES,
            synth.Timeline(end=end, days=HISTORY_DAYS),
            workdir / "prometheus" / "data",
        )
        logger.info(
            "Backfilled %d samples of %d days for %d services (%.1fs).",
            timings.samples, HISTORY_DAYS, len(SERVICES) + len(demofleet.SERVICES),
            timings.generate_seconds + timings.backfill_seconds,
        )  # fmt: skip
        with promtest.PrometheusServer(workdir / "prometheus") as prometheus:
            logger.info("Started Prometheus at %s.", prometheus.url)
            _kubectl(cp, "create", "namespace", NAMESPACE)
            samples = [
                within_history(yaml.safe_load(path.read_text()), end=end)
                for path in sorted((REPO_ROOT / "deploy" / "samples").glob("*.yaml"))
            ]
            _kubectl(cp, "apply", "-n", NAMESPACE, "-f", "-", stdin=yaml.safe_dump_all(samples))
            logger.info(
                "Applied the sample ServiceLevels from deploy/samples/ (exclusions moved into "
                "the demo's history, which ends now)."
            )
            _kubectl(cp, "create", "namespace", demofleet.NAMESPACE)
            fleet = yaml.safe_dump_all(demofleet.manifests())
            _kubectl(cp, "apply", "-n", demofleet.NAMESPACE, "-f", "-", stdin=fleet)
            logger.info(
                "Applied %d more ServiceLevels in namespace %s: with the samples, a fleet.",
                len(demofleet.SERVICES),
                demofleet.NAMESPACE,
            )
            operator = _start_operator(cp, prometheus.url, workdir / "operator.log")
            try:
                _wait_reconciled(cp, operator)
                yield cp, operator
            finally:
                processes.terminate(operator)
                logger.info("Stopped the operator, Prometheus and the control plane.")


#: Where ``make demo`` puts a sample's maintenance window: this many days before the history's
#: end, inside the 90 generated days, so that the exclusion visibly removes buckets.
EXCLUSION_DAYS_BEFORE_END = 10


def within_history(sample: dict[str, Any], *, end: int) -> dict[str, Any]:
    """``sample`` with each exclusion moved into the demo history, keeping its time of day,
    duration and reason: a sample's example date is fixed, the demo's history ends now."""
    exclusions = (sample.get("spec") or {}).get("exclusions")
    if not exclusions:
        return sample
    moved = []
    day = (end // DAY - EXCLUSION_DAYS_BEFORE_END) * DAY
    for exclusion in exclusions:
        start, stop = (inputfile.parse_time(exclusion[k], field=k) for k in ("start", "end"))
        new_start = day + start % DAY
        moved.append(
            {
                **exclusion,
                "start": api.rfc3339(new_start),
                "end": api.rfc3339(new_start + stop - start),
            }
        )
    return {**sample, "spec": {**sample["spec"], "exclusions": moved}}


DAY = 86400


def _start_operator(cp: cplane.ControlPlane, url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "KUBECONFIG": str(cp.kubeconfig),
        "SLORECO_PROMETHEUS_URL": url,
        "SLORECO_METRICS_PORT": "0",
        # Shorter than production's 30 s, so the demo shows dependency capping quickly.
        "SLORECO_TIMER_INTERVAL": str(DEMO_TIMER_INTERVAL),
        # The fleet prior within seconds, kept in a ConfigMap of the demo's namespace.
        "SLORECO_FLEET_LEARN_INTERVAL": str(demofleet.LEARN_INTERVAL_S),
        "SLORECO_NAMESPACE": NAMESPACE,
        "PYTHONPATH": os.pathsep.join(
            [str(REPO_ROOT / "operator"), os.environ.get("PYTHONPATH", "")]
        ),
    }
    argv = [sys.executable, "-m", "kopf", "run", "--standalone", "--namespace", NAMESPACE]
    argv += ["--namespace", demofleet.NAMESPACE]
    argv += ["-m", "sloreco.runtime.handlers"]
    proc = processes.spawn(argv, log=log, env=env)
    logger.info("Started the operator (kopf run -m sloreco.runtime.handlers); log: %s", log)
    return proc


def _wait_reconciled(cp: cplane.ControlPlane, operator: subprocess.Popen[bytes]) -> None:
    """Every sample has a status for its current generation with Ready decided either way."""

    def reconciled() -> int:
        if operator.poll() is not None:
            raise TimeoutError("the operator exited before reconciling the samples")
        items = json.loads(_kubectl(cp, "get", "servicelevels", "-n", NAMESPACE, "-o", "json"))
        done = bool(items["items"]) and all(_reconciled(sl) for sl in items["items"])
        return len(items["items"]) if done else 0

    count = waiting.wait_until(
        reconciled, timeout=RECONCILE_TIMEOUT_S, every=1, what="samples reconciled"
    )
    logger.info("Reconciled %d ServiceLevels.", count)


def _reconciled(sl: dict[str, Any]) -> bool:
    """Reconciled for its generation, Ready decided, and dependencies resolved (a sample created
    together with its dependency is capped one pass later, once the dependency has observations)."""
    status = sl.get("status") or {}
    conditions = {c["type"]: c["status"] for c in status.get("conditions", [])}
    return (
        status.get("observedGeneration") == sl["metadata"]["generation"]
        and "Ready" in conditions
        and conditions.get("DependenciesResolved") != "False"
    )


def _show(cp: cplane.ControlPlane) -> None:
    for title, resource in (
        ("ServiceLevels", "servicelevels"),
        ("Recommendations (kubectl get sloreco)", "sloreco"),
    ):
        sys.stdout.write(f"\n$ kubectl get {resource} -n {NAMESPACE}   # {title}\n")
        sys.stdout.write(_kubectl(cp, "get", resource, "-n", NAMESPACE))
    sys.stdout.flush()


def _print_next_steps(cp: cplane.ControlPlane, workdir: Path) -> None:
    sys.stdout.write(
        f"\nThe stack is running. In another shell:\n"
        f"  export KUBECONFIG={cp.kubeconfig}\n"
        f"  {cp.kubectl} get sloreco -n {NAMESPACE}\n"
        f"  {cp.kubectl} describe sloreco -n {NAMESPACE}\n"
        f"  {cp.kubectl} get servicelevel checkout -n {NAMESPACE} -o yaml\n"
        f"Logs: {workdir}\n"
    )
    sys.stdout.flush()


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _wait_for_ctrl_c() -> None:
    sys.stdout.write("Press Ctrl-C to stop everything.\n")
    sys.stdout.flush()
    with contextlib.suppress(KeyboardInterrupt):
        signal.pause()


def _kubectl(cp: cplane.ControlPlane, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        cp.kubectl_args(*args), capture_output=True, text=True, check=False, input=stdin
    )
    if done.returncode != 0:
        raise cplane.ControlPlaneError(f"kubectl {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


if __name__ == "__main__":
    sys.exit(main())
