"""A real etcd + kube-apiserver on loopback, the way controller-runtime's envtest runs them.

Why this exists: the operator's contract with Kubernetes lives in the API server, not in a client
library — CRD schemas and CEL rules, the status subresource, ``metadata.generation``, optimistic
concurrency and watches. A fake server would have to re-implement exactly the behaviour the tests
are meant to check, so tests and the demo run the real binaries (SPEC §7), built from source by
``make controlplane`` into ``bin/``.

What is *not* started: kubelet, scheduler and kube-controller-manager. So there is no garbage
collection and namespaces never finish terminating; tests check owner references instead of
cascade deletion and use a fresh namespace each.

This module says what a running control plane is and how to use it: :class:`ControlPlane` (the
URL, the admin's token, the CA, a kubeconfig, kubectl), its errors, the binaries it needs, the
kubeconfig file and :func:`apply_crds`. Starting and stopping the servers is :mod:`.cplaunch`'s
``start``.

Besides the standard library it uses only the project's own API client (``sloreco.kube.client``),
so importing it needs no extras.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from sloreco.kube import client as kube
from sloreco.testing import waiting

__all__ = [
    "BINARIES",
    "ControlPlane",
    "ControlPlaneError",
    "MissingBinaryError",
    "apply_crds",
    "find_binaries",
    "run_tool",
    "write_kubeconfig",
]

#: The binaries ``make controlplane`` (hack/controlplane/build.sh) puts into ``bin/``.
BINARIES = ("etcd", "kube-apiserver", "kubectl")

#: A cold kube-apiserver on two cores becomes ready in a few seconds; a minute leaves room for a
#: loaded CI machine without hiding a server that will never come up.
STARTUP_TIMEOUT_S = 60.0

#: The name the admin user and cluster get in the kubeconfig.
KUBECONFIG_NAME = "sloreco-test"


class ControlPlaneError(RuntimeError):
    """The control plane could not be started, used or stopped."""


class MissingBinaryError(ControlPlaneError):
    """A binary is missing from ``bin/``; the message says to run ``make controlplane``."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class ControlPlane:
    """A running control plane: everything a client needs to talk to it."""

    url: str
    """The API server's base URL, ``https://127.0.0.1:<port>``."""
    token: str
    """Bearer token of an admin in ``system:masters`` (bypasses RBAC, like a cluster owner)."""
    ca_file: Path
    """PEM bundle that verifies the API server's self-signed serving certificate."""
    kubeconfig: Path
    """A kubeconfig with ``url``, the CA and the token, for kubectl, kopf and the operator."""
    kubectl: Path
    """The kubectl built alongside the API server (same version, so no skew warnings)."""
    bin_dir: Path
    """Where the binaries were found."""
    etcd_url: str
    """etcd's client URL, for tests that need to look below the API server."""
    workdir: Path
    """Logs (``etcd.log``, ``kube-apiserver.log``), certificates and the kubeconfig."""

    def credentials(self) -> kube.Credentials:
        """The admin's credentials for :class:`sloreco.kube.client.KubeClient`."""
        return kube.Credentials.bearer(self.url, token=self.token, ca_file=str(self.ca_file))

    def kubectl_args(self, *args: str) -> list[str]:
        """An argv running the built kubectl against this control plane."""
        return [str(self.kubectl), f"--kubeconfig={self.kubeconfig}", *args]


def find_binaries(bin_dir: Path) -> dict[str, Path]:
    """Map each of :data:`BINARIES` to its path, or raise :class:`MissingBinaryError`.

    Never a skip: a test that silently does not run looks exactly like a test that passes.
    """
    paths = {name: bin_dir / name for name in BINARIES}
    missing = [name for name, path in paths.items() if not os.access(path, os.X_OK)]
    if missing:
        raise MissingBinaryError(
            f"missing {', '.join(missing)} in {bin_dir}: run `make controlplane` "
            "(builds kube-apiserver, kubectl and etcd from source into bin/)"
        )
    return paths


def apply_crds(
    cp: ControlPlane, paths: Sequence[Path], *, timeout_s: float = STARTUP_TIMEOUT_S
) -> None:
    """Apply CRD manifests with the built kubectl and wait until every one is ``Established``.

    Server-side apply, because client-side apply stores the whole object in an annotation that
    large CRDs (a few hundred KB of OpenAPI schema) exceed. Waiting for ``Established`` matters:
    until then, creating a custom resource fails with 404.
    """
    if not paths:
        return
    files = [f"--filename={path}" for path in paths]
    _kubectl(cp, "apply", "--server-side", "--field-manager=sloreco-tests", *files)

    # kubectl wait fails at once ("status.conditions accessor error") on a CRD whose status the
    # apiserver has not filled in yet, instead of waiting: ask again until it answers.
    def established() -> bool:
        argv = cp.kubectl_args("wait", "--for=condition=Established", "--timeout=5s", *files)
        return subprocess.run(argv, capture_output=True, check=False).returncode == 0

    waiting.wait_until(
        established,
        timeout=timeout_s,
        every=0.2,
        what="CRDs Established after apply",
        error=ControlPlaneError,
    )
    # For about a second after Established the apiserver still answers LIST with
    # "429 storage is (re)initializing"; wait until each new resource can be listed.
    resources = [
        name.split("/", 1)[1] for name in _kubectl(cp, "get", *files, "-o", "name").split()
    ]
    for resource in resources:

        def listable(name: str = resource) -> bool:
            argv = cp.kubectl_args("get", name, "--all-namespaces")
            return subprocess.run(argv, capture_output=True, check=False).returncode == 0

        waiting.wait_until(
            listable,
            timeout=timeout_s,
            every=0.1,
            what=f"{resource} listable after apply",
            error=ControlPlaneError,
        )


def write_kubeconfig(path: Path, *, url: str, token: str, ca_file: Path) -> None:
    """Write a kubeconfig for ``url`` that trusts ``ca_file`` and presents the admin's token."""
    # JSON is valid YAML, so every kubeconfig reader accepts it and no YAML library is needed.
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": KUBECONFIG_NAME,
                "cluster": {
                    "server": url,
                    "certificate-authority-data": base64.b64encode(ca_file.read_bytes()).decode(),
                },
            }
        ],
        "users": [{"name": KUBECONFIG_NAME, "user": {"token": token}}],
        "contexts": [
            {
                "name": KUBECONFIG_NAME,
                "context": {"cluster": KUBECONFIG_NAME, "user": KUBECONFIG_NAME},
            }
        ],
        "current-context": KUBECONFIG_NAME,
    }
    path.write_text(json.dumps(config, indent=2) + "\n")
    # It holds an admin token.
    path.chmod(0o600)


def run_tool(argv: list[str], *, what: str) -> str:
    """Run a tool to completion; its stdout, or :class:`ControlPlaneError` with its stderr."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise ControlPlaneError(f"cannot {what}: {argv[0]} is not installed") from exc
    if done.returncode != 0:
        raise ControlPlaneError(
            f"cannot {what}: `{' '.join(argv)}` exited {done.returncode}:\n{done.stderr.strip()}"
        )
    return done.stdout


def _kubectl(cp: ControlPlane, *args: str) -> str:
    return run_tool(cp.kubectl_args(*args), what=f"kubectl {args[0]}")
