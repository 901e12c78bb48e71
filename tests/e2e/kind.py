"""Docker, kind and kubectl for the end-to-end run — everything it assumes about the machine.

Only Docker (an engine, not just the CLI) and kind come from the user's machine. kubectl is the
repository's own ``bin/kubectl`` (``make controlplane``), so the client is the Kubernetes version
the project builds and tests with, whatever else is installed.

Safety, crate-operator's habit made structural: the cluster is created with a kubeconfig file of
its own in the run's work directory, and every kubectl call names that file and the context
``kind-sloreco-e2e`` explicitly (``KUBECONFIG`` is overridden for the child processes too). The
user's kubeconfig and current context are never read or changed. Before the first change,
:meth:`Cluster.verify_is_ours` confirms the context, an API server on loopback and the kind
node's name, and the run refuses to go on otherwise.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib import parse

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

CLUSTER = "sloreco-e2e"
CONTEXT = f"kind-{CLUSTER}"
#: kind names a cluster's only node ``<cluster>-control-plane``.
NODE = f"{CLUSTER}-control-plane"
#: The image the run builds from the Dockerfile and loads into the node (never pushed anywhere).
IMAGE = "sloreco:e2e"

KIND_CONFIG = HERE / "kind-config.yaml"
PROMETHEUS_MANIFEST = HERE / "manifests" / "prometheus.yaml"
OPERATOR_OVERLAY = HERE / "manifests" / "operator"
SAMPLES = REPO_ROOT / "deploy" / "samples"
KUBECTL = REPO_ROOT / "bin" / "kubectl"

OPERATOR_NAMESPACE = "sloreco-system"
OPERATOR_DEPLOYMENT = "sloreco"
PROMETHEUS_NAMESPACE = "monitoring"
PROMETHEUS_DEPLOYMENT = "prometheus"
SAMPLES_NAMESPACE = "sloreco-e2e"
CRDS = ("servicelevels.sloreco.dev", "slorecommendations.sloreco.dev")

#: ``SLORECO_E2E_KEEP=1`` leaves the cluster running after the run (and a later run reuses it).
KEEP_ENV = "SLORECO_E2E_KEEP"
#: A kindest/node image (from your kind release's notes) instead of kind's default.
NODE_IMAGE_ENV = "SLORECO_E2E_NODE_IMAGE"

# Timeouts are liveness bounds for a laptop on a slow network, not speed assertions.
#: A cold build pulls python:3.11-slim and the wheels of numpy, pydantic and kopf.
DOCKER_BUILD_TIMEOUT = 1200.0
#: Creating a cluster pulls the node image (~400 MB) the first time.
KIND_CREATE_TIMEOUT = 900.0
#: Prometheus: the image pull, 90 days of synthetic history and the backfill (seconds locally).
PROMETHEUS_ROLLOUT_TIMEOUT = 600.0
OPERATOR_ROLLOUT_TIMEOUT = 300.0
#: Every sample reconciled: one 90-day, two-SLI pass per ServiceLevel.
RECONCILE_TIMEOUT = 600.0
#: Garbage collection acts within seconds; a minute covers a busy controller-manager.
GC_TIMEOUT = 120.0
COMMAND_TIMEOUT = 120.0

Obj = dict[str, Any]
T = TypeVar("T")

#: Lines for the end of pytest's report (a kept cluster, a version skew, where logs went).
NOTES: list[str] = []


class CommandError(RuntimeError):
    """A command of the run failed or hung; the message carries the command and its output."""


def run(
    argv: Sequence[str],
    *,
    timeout: float = COMMAND_TIMEOUT,
    env: dict[str, str] | None = None,
) -> str:
    """Run ``argv`` from the repository root and return its stdout; raise ``CommandError``."""
    shown = shlex.join(argv)
    try:
        done = subprocess.run(
            list(argv),
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise CommandError(f"`{shown}` did not finish within {timeout:.0f}s") from exc
    except OSError as exc:
        raise CommandError(f"`{shown}` could not be started: {exc}") from exc
    if done.returncode != 0:
        output = _tail(done.stderr.strip() or done.stdout.strip(), 40)
        raise CommandError(f"`{shown}` failed with exit code {done.returncode}:\n{output}")
    return done.stdout


def _tail(text: str, lines: int) -> str:
    return "\n".join(text.splitlines()[-lines:])


# --- prerequisites --------------------------------------------------------------------------


def missing_prerequisites() -> list[str]:
    """What the machine lacks for the run, one sentence naming the fix each; empty when ready."""
    problems: list[str] = []
    if shutil.which("docker") is None:
        problems.append(
            "no Docker engine: the `docker` command is not on PATH. The end-to-end run builds "
            "the operator image and runs kind, which both need Docker; install Docker and run "
            "`make test-e2e` again."
        )
    elif reason := _docker_engine_problem():
        problems.append(
            f"no Docker engine: `docker info` says {reason!r}. The end-to-end run builds the "
            "operator image and runs kind, which both need a running Docker daemon that this "
            "user may use; start Docker and run `make test-e2e` again."
        )
    if shutil.which("kind") is None:
        problems.append(
            "kind is not on PATH: install it (https://kind.sigs.k8s.io/docs/user/quick-start/"
            "#installation) and run `make test-e2e` again."
        )
    if not os.access(KUBECTL, os.X_OK):
        problems.append(
            f"{KUBECTL.relative_to(REPO_ROOT)} is missing: run `make controlplane` (it builds "
            "kubectl at the Kubernetes version the project is tested with)."
        )
    return problems


def _docker_engine_problem() -> str | None:
    """None when the Docker daemon answers, else the last line of what ``docker info`` said."""
    try:
        run(["docker", "info"], timeout=60)
    except CommandError as exc:
        return str(exc).strip().splitlines()[-1]
    return None


# --- the cluster ----------------------------------------------------------------------------


def clusters() -> list[str]:
    """Names of the kind clusters on this machine."""
    return run(["kind", "get", "clusters"], timeout=60).split()


def create_cluster(kubeconfig: Path) -> None:
    argv = ["kind", "create", "cluster", "--name", CLUSTER, "--config", str(KIND_CONFIG)]
    argv += ["--kubeconfig", str(kubeconfig), "--wait", "300s"]
    if image := os.environ.get(NODE_IMAGE_ENV):
        argv += ["--image", image]
    run(argv, timeout=KIND_CREATE_TIMEOUT)


def export_kubeconfig(kubeconfig: Path) -> None:
    run(["kind", "export", "kubeconfig", "--name", CLUSTER, "--kubeconfig", str(kubeconfig)])


def delete_cluster(kubeconfig: Path) -> None:
    # --kubeconfig: kind removes the context from that file, not from the user's kubeconfig.
    run(["kind", "delete", "cluster", "--name", CLUSTER, "--kubeconfig", str(kubeconfig)])


def export_logs(directory: Path) -> None:
    run(["kind", "export", "logs", str(directory), "--name", CLUSTER], timeout=300)


def build_image() -> None:
    """``docker build -t sloreco:e2e .``: the Dockerfile exactly as users build it."""
    run(["docker", "build", "-t", IMAGE, str(REPO_ROOT)], timeout=DOCKER_BUILD_TIMEOUT)


def load_image() -> None:
    run(["kind", "load", "docker-image", IMAGE, "--name", CLUSTER], timeout=300)


@dataclasses.dataclass(frozen=True)
class Cluster:
    """The run's kind cluster, reached only through its own kubeconfig file."""

    kubeconfig: Path
    #: The cluster existed before this run (kept by an earlier ``SLORECO_E2E_KEEP=1`` run).
    reused: bool

    def kubectl(self, *args: str, timeout: float = COMMAND_TIMEOUT) -> str:
        argv = [str(KUBECTL), f"--kubeconfig={self.kubeconfig}", f"--context={CONTEXT}", *args]
        env = {**os.environ, "KUBECONFIG": str(self.kubeconfig)}
        return run(argv, timeout=timeout, env=env)

    def kubectl_json(self, *args: str, timeout: float = COMMAND_TIMEOUT) -> Obj:
        loaded: Obj = json.loads(self.kubectl(*args, "-o", "json", timeout=timeout))
        return loaded

    def items(
        self, resource: str, namespace: str | None = None, *, selector: str | None = None
    ) -> list[Obj]:
        args = ["get", resource]
        if namespace:
            args += ["-n", namespace]
        if selector:
            args += ["-l", selector]
        return list(self.kubectl_json(*args)["items"])

    def verify_is_ours(self) -> None:
        """Refuse (fail the run) unless the kubeconfig reaches this run's own kind cluster."""
        # Fails unless the file has our context; --minify keeps only that context's cluster.
        config = self.kubectl_json("config", "view", "--minify")
        problems: list[str] = []
        if config.get("current-context") != CONTEXT:
            problems.append(f"its context is {config.get('current-context')!r}, not {CONTEXT!r}")
        servers = [c["cluster"]["server"] for c in config.get("clusters", [])]
        if len(servers) != 1 or not _is_loopback(servers[0]):
            problems.append(f"its API server {servers} is not a kind server on loopback")
        if not problems:
            nodes = self.items("nodes")
            names = [n["metadata"]["name"] for n in nodes]
            providers = [n.get("spec", {}).get("providerID", "") for n in nodes]
            if names != [NODE]:
                problems.append(f"its nodes are {names}, not [{NODE!r}]")
            elif any(p and not p.startswith("kind://") for p in providers):
                problems.append(f"its node's providerID {providers} is not kind's")
        if problems:
            pytest.fail(
                f"Refusing to run: the kubeconfig {self.kubeconfig} does not reach the kind "
                f"cluster {CLUSTER!r} ({'; '.join(problems)}). Delete the cluster with `kind "
                f"delete cluster --name {CLUSTER}` if it is a leftover.",
                pytrace=False,
            )

    def versions(self) -> tuple[str, str]:
        """(client, server) git versions, such as ``v1.35.4``."""
        found = self.kubectl_json("version")
        return found["clientVersion"]["gitVersion"], found["serverVersion"]["gitVersion"]

    def rollout(self, namespace: str, deployment: str, *, timeout: float) -> None:
        """Wait for a Deployment's rollout; fail with what the cluster shows if it stalls."""
        try:
            self.kubectl(
                "rollout", "status", f"deployment/{deployment}", "-n", namespace,
                f"--timeout={timeout:.0f}s",
                timeout=timeout + 30,
            )  # fmt: skip
        except CommandError as exc:
            stalled = f"Deployment {namespace}/{deployment} did not roll out: {exc}"
            pytest.fail(f"{stalled}\n{self.diagnostics()}", pytrace=False)

    def diagnostics(self) -> str:
        """Pods, the operator's and Prometheus's logs and recent events, for failure messages."""
        operator = ("logs", f"deployment/{OPERATOR_DEPLOYMENT}", "-n", OPERATOR_NAMESPACE)
        prometheus = ("logs", f"deployment/{PROMETHEUS_DEPLOYMENT}", "-n", PROMETHEUS_NAMESPACE)
        sections = (
            ("pods", ("get", "pods", "-A", "-o", "wide")),
            ("sloreco resources", ("get", "sloreco-all", "-n", SAMPLES_NAMESPACE)),
            ("operator log", operator),
            ("Prometheus logs, init containers too", (*prometheus, "--all-containers", "--prefix")),
            ("events", ("get", "events", "-A", "--sort-by=.lastTimestamp")),
        )
        out: list[str] = []
        for title, args in sections:
            try:
                text = _tail(self.kubectl(*args).rstrip(), 60)
            except CommandError as exc:
                text = f"(unavailable: {exc})"
            out.append(f"--- {title} ---\n{text}")
        return "\n".join(out)


def _is_loopback(server: str) -> bool:
    host = parse.urlsplit(server).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def wait_for(
    probe: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    every: float = 3.0,
    explain: Callable[[], str] | None = None,
) -> T:
    """Poll ``probe`` until it returns something truthy; fail naming ``what`` on timeout, with
    ``explain()`` (what was seen) in the message."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            detail = f"\n{explain()}" if explain else ""
            pytest.fail(
                f"Timed out after {timeout:.0f}s waiting for {what}.{detail}", pytrace=False
            )
        time.sleep(every)


def minor(version: str) -> int:
    """The minor version of ``v1.35.4`` (or ``v1.35.4-gke.1``): 35."""
    return int(version.lstrip("v").split(".")[1])
