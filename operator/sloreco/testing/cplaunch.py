"""Launch the test control plane: etcd, then kube-apiserver, on free loopback ports.

:func:`start` yields a :class:`~sloreco.testing.controlplane.ControlPlane` once both servers are
healthy: it starts them with envtest's flags, waits for etcd's ``/health`` and the apiserver's
``/readyz``, writes the admin's token and kubeconfig, and retries when a port picked as free was
taken meanwhile.

Lifecycle: :func:`start` is a context manager. Each server runs in its own session (process
group) and gets SIGTERM, then SIGKILL, on exit — on normal exit, on an exception (a failing test),
on Ctrl-C (``KeyboardInterrupt`` unwinds through the context manager) and, as a fallback, from
``atexit``. On Linux the children also ask the kernel to kill them if the thread that started
them dies without cleaning up (``PR_SET_PDEATHSIG``, via ``setpriv``), so even ``kill -9`` of the
test runner leaves no orphans. The flip side: start the control plane from a thread that lives
as long as you need it (the main thread, as pytest fixtures and the demo do).

Kept apart from :mod:`.controlplane`, which says what a running control plane is and how to use
it, because processes, ports and startup probes are a job of their own. Standard library only.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import json
import secrets
import shutil
import ssl
import subprocess
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

from sloreco.testing import processes, waiting
from sloreco.testing.controlplane import (
    STARTUP_TIMEOUT_S,
    ControlPlane,
    ControlPlaneError,
    find_binaries,
    run_tool,
    write_kubeconfig,
)

__all__ = ["start"]

#: How many times to retry startup when a port picked as free was taken in the meantime.
PORT_RACE_ATTEMPTS = 3

#: The service range must not overlap anything routable; nothing is ever scheduled here, the
#: apiserver only needs it to allocate the ``kubernetes`` Service's ClusterIP.
SERVICE_CLUSTER_IP_RANGE = "10.0.0.0/24"

#: Any URL works as issuer without a controller-manager; this is the conventional in-cluster one.
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"


@contextlib.contextmanager
def start(bin_dir: Path, workdir: Path | None = None) -> Iterator[ControlPlane]:
    """Start etcd and kube-apiserver, yield once ``/readyz`` is ok, stop both on exit.

    ``workdir`` keeps logs and certificates after exit (for debugging a failed run); without it a
    temporary directory is used and removed. etcd's data is removed either way: it is only
    useful while the server runs, and etcd preallocates 64 MB of WAL.
    """
    binaries = find_binaries(bin_dir)
    owns_workdir = workdir is None
    root = Path(tempfile.mkdtemp(prefix="sloreco-controlplane-")) if workdir is None else workdir
    root.mkdir(parents=True, exist_ok=True)
    try:
        for attempt in range(1, PORT_RACE_ATTEMPTS + 1):
            try:
                launched = _launch(binaries, root)
            except _PortTakenError:
                if attempt == PORT_RACE_ATTEMPTS:
                    raise
                continue
            break
        stop = _stopper(launched)
        # Fallback for a caller that never exits the context (e.g. an interpreter shutting down
        # with the generator suspended); unregistered below on the normal path.
        atexit.register(stop)
        try:
            yield launched.control_plane
        finally:
            stop()
            atexit.unregister(stop)
    finally:
        shutil.rmtree(root / "etcd-data", ignore_errors=True)
        if owns_workdir:
            shutil.rmtree(root, ignore_errors=True)


# --- internals -----------------------------------------------------------------------------


class _PortTakenError(ControlPlaneError):
    """A port chosen as free was taken before the server bound it; retry with new ports."""


@dataclasses.dataclass(frozen=True)
class _Processes:
    control_plane: ControlPlane
    etcd: subprocess.Popen[bytes]
    apiserver: subprocess.Popen[bytes]


def _launch(binaries: dict[str, Path], root: Path) -> _Processes:
    etcd_port, peer_port, api_port = processes.free_ports(3)
    etcd_url = f"http://127.0.0.1:{etcd_port}"
    url = f"https://127.0.0.1:{api_port}"
    cert_dir = root / "certs"
    cert_dir.mkdir(exist_ok=True)
    # kube-apiserver writes a self-signed CA and serving certificate here when it has none; a
    # previous run's certificate would name an old port, so always start clean.
    for stale in cert_dir.glob("apiserver.*"):
        stale.unlink()
    shutil.rmtree(root / "etcd-data", ignore_errors=True)

    sa_key = cert_dir / "service-account.key"
    if not sa_key.exists():
        run_tool(
            ["openssl", "genrsa", "-out", str(sa_key), "2048"], what="generate service-account key"
        )
    token = secrets.token_urlsafe(32)
    token_file = root / "tokens.csv"
    # Format: token,user,uid,group. system:masters is bound to cluster-admin and bypasses RBAC.
    token_file.write_text(f"{token},sloreco-admin,sloreco-admin,system:masters\n")
    token_file.chmod(0o600)

    etcd = processes.spawn(
        [
            str(binaries["etcd"]),
            "--name=default",
            f"--data-dir={root / 'etcd-data'}",
            f"--listen-client-urls={etcd_url}",
            f"--advertise-client-urls={etcd_url}",
            # Explicit peer URLs: the default 2380 on all interfaces would clash between
            # parallel runs and expose etcd beyond loopback.
            f"--listen-peer-urls=http://127.0.0.1:{peer_port}",
            f"--initial-advertise-peer-urls=http://127.0.0.1:{peer_port}",
            f"--initial-cluster=default=http://127.0.0.1:{peer_port}",
            # Durability is worthless for throwaway test data and fsync dominates write latency.
            "--unsafe-no-fsync",
            "--log-level=warn",
        ],
        log=root / "etcd.log",
    )
    try:
        _wait_etcd(etcd, etcd_url, log=root / "etcd.log")
        apiserver = processes.spawn(
            [
                str(binaries["kube-apiserver"]),
                f"--etcd-servers={etcd_url}",
                f"--cert-dir={cert_dir}",
                f"--secure-port={api_port}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
                "--authorization-mode=RBAC",
                f"--token-auth-file={token_file}",
                f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
                # The private key also yields the public key the apiserver verifies with.
                f"--service-account-key-file={sa_key}",
                f"--service-account-signing-key-file={sa_key}",
                # No controller-manager creates the token Secrets and default ServiceAccounts
                # this plugin insists on, so Pods would be rejected (envtest does the same).
                "--disable-admission-plugins=ServiceAccount",
                "--allow-privileged=true",
                # API Priority and Fairness only matters under contention from many clients;
                # envtest disables it too, which saves startup time and memory.
                "--enable-priority-and-fairness=false",
            ],
            log=root / "kube-apiserver.log",
        )
    except BaseException:
        processes.terminate(etcd)
        raise
    ca_file = cert_dir / "apiserver.crt"
    try:
        _wait_apiserver(apiserver, url, token=token, ca_file=ca_file, root=root)
    except BaseException:
        processes.terminate(apiserver)
        processes.terminate(etcd)
        raise
    kubeconfig = root / "kubeconfig"
    write_kubeconfig(kubeconfig, url=url, token=token, ca_file=ca_file)
    return _Processes(
        control_plane=ControlPlane(
            url=url,
            token=token,
            ca_file=ca_file,
            kubeconfig=kubeconfig,
            kubectl=binaries["kubectl"],
            bin_dir=binaries["kubectl"].parent,
            etcd_url=etcd_url,
            workdir=root,
        ),
        etcd=etcd,
        apiserver=apiserver,
    )


def _stopper(launched: _Processes) -> Callable[[], None]:
    def stop() -> None:
        # The apiserver first: stopped the other way round it would log etcd errors until killed.
        processes.terminate(launched.apiserver)
        processes.terminate(launched.etcd)

    return stop


def _exited(proc: subprocess.Popen[bytes], name: str, log: Path) -> ControlPlaneError:
    tail = processes.log_tail(log)
    error = _PortTakenError if "address already in use" in tail else ControlPlaneError
    return error(f"{name} exited with code {proc.returncode} during startup; {log}:\n{tail}")


def _http_get(
    url: str, *, token: str | None = None, context: ssl.SSLContext | None = None
) -> tuple[int, str]:
    # No proxy: HTTP(S)_PROXY in the environment must never capture loopback traffic.
    handlers: list[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({})]
    if context is not None:
        handlers.append(urllib.request.HTTPSHandler(context=context))
    opener = urllib.request.build_opener(*handlers)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with opener.open(urllib.request.Request(url, headers=headers), timeout=2) as resp:
            return int(resp.status), resp.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def _wait_etcd(proc: subprocess.Popen[bytes], etcd_url: str, *, log: Path) -> None:
    # The apiserver would retry a missing etcd on its own, but its errors then bury the real
    # cause; waiting here (well under a second) gives a clear failure if etcd cannot start.

    def healthy() -> bool:
        if proc.poll() is not None:
            raise _exited(proc, "etcd", log)
        with contextlib.suppress(OSError):
            status, body = _http_get(f"{etcd_url}/health")
            return status == 200 and json.loads(body).get("health") == "true"
        return False

    waiting.wait_until(
        healthy,
        timeout=STARTUP_TIMEOUT_S,
        every=0.05,
        what="etcd healthy",
        error=lambda what: ControlPlaneError(f"{what}; {log}:\n{processes.log_tail(log)}"),
    )


def _wait_apiserver(
    proc: subprocess.Popen[bytes], url: str, *, token: str, ca_file: Path, root: Path
) -> None:
    log = root / "kube-apiserver.log"
    context: ssl.SSLContext | None = None
    last = "no answer yet"

    def ready() -> bool:
        nonlocal context, last
        if proc.poll() is not None:
            raise _exited(proc, "kube-apiserver", log)
        if context is None and ca_file.exists():
            # The file may be half written right after it appears; retry on the next round.
            with contextlib.suppress(ssl.SSLError, OSError):
                context = ssl.create_default_context(cafile=str(ca_file))
        if context is None:
            return False
        try:
            # /readyz turns 200 only after the post-start hooks, which include creating
            # RBAC's bootstrap roles and the default namespaces tests rely on.
            status, body = _http_get(f"{url}/readyz", token=token, context=context)
        except OSError as exc:
            last = str(exc)
            return False
        last = f"HTTP {status}: {body[-500:]}"
        return status == 200

    waiting.wait_until(
        ready,
        timeout=STARTUP_TIMEOUT_S,
        every=0.1,
        what="kube-apiserver ready",
        error=lambda what: ControlPlaneError(
            f"{what} (last /readyz: {last}); {log}:\n{processes.log_tail(log)}"
        ),
    )
