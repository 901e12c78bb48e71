"""A real Prometheus on loopback, serving synthetic history backfilled with promtool (SPEC §7).

Why the real server: what ``increase()`` returns — closed range windows, counter-reset
handling, extrapolation, the 11,000-points limit, the error texts — is Prometheus's behaviour,
and a fake would have to re-implement precisely what the reader's tests are meant to check.

How: :func:`build_tsdb` writes the ``sources.synth`` services as OpenMetrics
(``sources.synthseries``) and turns them into TSDB blocks with ``promtool tsdb
create-blocks-from openmetrics``; :class:`PrometheusServer` runs ``prometheus`` on those blocks
on a free loopback port, with no scrape jobs. A server keeps its port and data directory across
:meth:`~PrometheusServer.stop` and :meth:`~PrometheusServer.start`, so a test can take the source
away and bring it back.

Lifecycle as in :mod:`sloreco.testing.cplaunch`: its own process group, SIGTERM then SIGKILL
on stop, ``atexit`` as a fallback, and ``PR_SET_PDEATHSIG`` (via ``setpriv``) so that even
``kill -9`` of the caller leaves no orphan. Two releases are served: Debian's 2.42 (``prometheus``
and ``promtool`` on PATH, ``make prometheus-bin``) and 3.x built into ``bin/`` as ``prometheus3``
and ``promtool3`` (``make prometheus3``); :data:`PROMETHEUS2` and :data:`PROMETHEUS3` name them.
Prometheus 3's range selectors are left-open, which is why both are tested (``sources.promql``).
Standard library only, plus ``sloreco.sources.synth`` and ``synthseries``.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import math
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path

from sloreco.sources import synth, synthseries
from sloreco.testing import processes, waiting

__all__ = [
    "BINARIES",
    "PROMETHEUS2",
    "PROMETHEUS3",
    "BuildTimings",
    "MissingBinaryError",
    "PrometheusError",
    "PrometheusServer",
    "Release",
    "backfill",
    "build_tsdb",
    "find_binaries",
    "serve",
]


@dataclasses.dataclass(frozen=True)
class Release:
    """A Prometheus release by the names of its two binaries and the target that installs them.

    Binaries are looked up in ``bin_dir`` (if given) before ``PATH``: tests run outside ``make``
    find ``bin/`` without it being on their ``PATH``.
    """

    prometheus: str
    promtool: str
    install: str
    bin_dir: Path | None = None

    def which(self, name: str) -> str | None:
        path = os.environ.get("PATH", os.defpath)
        if self.bin_dir is not None:
            path = f"{self.bin_dir}{os.pathsep}{path}"
        return shutil.which(name, path=path)


#: Debian 12's package (2.42): closed range selectors.
PROMETHEUS2 = Release("prometheus", "promtool", "make prometheus-bin")
#: Built from the Go module into bin/ (hack/tools/prometheus/go.mod): left-open range selectors.
PROMETHEUS3 = Release("prometheus3", "promtool3", "make prometheus3")
BINARIES = (PROMETHEUS2.prometheus, PROMETHEUS2.promtool)

#: A Prometheus over a few hundred MB of blocks is ready in well under a second (measured
#: ~0.2 s); half a minute leaves room for a loaded CI machine without hiding a dead server.
STARTUP_TIMEOUT_S = 30.0


#: Retention counts back from the *newest* block, so the default (15d) would delete most of a
#: 90-day backfill on startup. Ten years keeps anything the tests and benchmarks generate.
RETENTION = "10y"

#: Without ``--max-block-duration`` promtool cuts 2-hour blocks and re-reads the whole input file
#: once per block (~26x slower for 90 days). The flag is hidden, takes Go durations (hours, not
#: days), and values under 2h are ignored.
MIN_BLOCK_HOURS = 2

#: Scrape nothing: the server only answers queries over the backfilled blocks.
CONFIG = "global:\n  evaluation_interval: 1h\nscrape_configs: []\n"

#: How many times to pick another port when the one chosen as free was taken meanwhile.
PORT_RACE_ATTEMPTS = 3


class PrometheusError(RuntimeError):
    """Prometheus or promtool could not be run, started or stopped."""


class MissingBinaryError(PrometheusError):
    """``prometheus`` or ``promtool`` is not installed."""


@dataclasses.dataclass(frozen=True)
class BuildTimings:
    """What :func:`build_tsdb` did and how long each phase took (wall seconds)."""

    samples: int
    generate_seconds: float
    backfill_seconds: float
    openmetrics_bytes: int


def find_binaries(release: Release = PROMETHEUS2) -> dict[str, Path]:
    """Paths keyed ``prometheus`` and ``promtool``; raise ``MissingBinaryError`` naming the fix."""
    names = {"prometheus": release.prometheus, "promtool": release.promtool}
    found = {role: release.which(name) for role, name in names.items()}
    missing = [names[role] for role, path in found.items() if path is None]
    if missing:
        raise MissingBinaryError(f"{', '.join(missing)} not found on PATH: run `{release.install}`")
    return {role: Path(path) for role, path in found.items() if path is not None}


def backfill(
    openmetrics: Path, data_dir: Path, *, span_seconds: int, release: Release = PROMETHEUS2
) -> None:
    """Turn an OpenMetrics file into TSDB blocks under ``data_dir`` (one block per span)."""
    promtool = find_binaries(release)["promtool"]
    hours = max(MIN_BLOCK_HOURS, math.ceil(span_seconds / 3600) + 1)
    data_dir.mkdir(parents=True, exist_ok=True)
    argv = [
        str(promtool),
        "tsdb",
        "create-blocks-from",
        "openmetrics",
        "--quiet",
        f"--max-block-duration={hours}h",
        str(openmetrics),
        str(data_dir),
    ]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise PrometheusError(f"promtool backfill failed ({done.returncode}): {done.stderr}")


def build_tsdb(
    services: Iterable[synth.Service],
    timeline: synth.Timeline,
    data_dir: Path,
    *,
    release: Release = PROMETHEUS2,
    latency: bool = True,
) -> BuildTimings:
    """Generate ``services`` over ``timeline`` and backfill them into ``data_dir``.

    The OpenMetrics text is a temporary file next to ``data_dir`` (same filesystem, deleted
    afterwards): it is several times larger than the blocks made from it.
    """
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=data_dir.parent, prefix="openmetrics-") as tmp:
        path = Path(tmp) / "history.om"
        began = time.perf_counter()
        samples = synthseries.write_openmetrics_file(path, services, timeline, latency=latency)
        generated = time.perf_counter()
        size = path.stat().st_size
        backfill(path, data_dir, span_seconds=timeline.days * 86400, release=release)
        done = time.perf_counter()
    return BuildTimings(
        samples=samples,
        generate_seconds=generated - began,
        backfill_seconds=done - generated,
        openmetrics_bytes=size,
    )


class PrometheusServer:
    """``prometheus`` serving ``root/data`` on ``127.0.0.1:<port>``; config and log in ``root``.

    The port is chosen on the first :meth:`start` and kept afterwards, so a stopped server comes
    back at the same URL with the same data.
    """

    def __init__(
        self, root: Path, *, port: int | None = None, release: Release = PROMETHEUS2
    ) -> None:
        self.root = root
        self.release = release
        self.data_dir = root / "data"
        self.log = root / "prometheus.log"
        self.port = port
        self.ready_seconds: float | None = None  # how long the last start took to be ready
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise PrometheusError("the server has not been started yet")
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, *, timeout: float = STARTUP_TIMEOUT_S) -> None:
        """Start and wait for ``/-/ready``; raise ``PrometheusError`` with the log's tail."""
        if self.running:
            return
        binary = find_binaries(self.release)["prometheus"]
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self.root / "prometheus.yml"
        config.write_text(CONFIG)
        fixed = self.port is not None
        for attempt in range(PORT_RACE_ATTEMPTS):
            port = self.port if self.port is not None else processes.free_ports(1)[0]
            argv = [
                str(binary),
                f"--config.file={config}",
                f"--storage.tsdb.path={self.data_dir}",
                f"--storage.tsdb.retention.time={RETENTION}",
                f"--web.listen-address=127.0.0.1:{port}",
            ]
            began = time.perf_counter()
            proc = processes.spawn(argv, log=self.log)
            atexit.register(processes.terminate, proc)
            try:
                _wait_ready(proc, f"http://127.0.0.1:{port}", log=self.log, timeout=timeout)
            except _PortTakenError:
                processes.terminate(proc)
                if fixed or attempt == PORT_RACE_ATTEMPTS - 1:
                    raise
                continue
            except BaseException:
                processes.terminate(proc)
                raise
            self.port, self._proc = port, proc
            self.ready_seconds = time.perf_counter() - began
            return

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers; a stopped server can start again."""
        if self._proc is not None:
            processes.terminate(self._proc)
            self._proc = None

    def __enter__(self) -> PrometheusServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def serve(root: Path, *, release: Release = PROMETHEUS2) -> Iterator[PrometheusServer]:
    """A running server over ``root/data``, stopped on exit whatever happens."""
    server = PrometheusServer(root, release=release)
    with server:
        yield server


def version(release: Release = PROMETHEUS2) -> str:
    """The first line of ``prometheus --version`` (recorded with benchmark results)."""
    binary = find_binaries(release)["prometheus"]
    done = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=False)
    return (done.stdout or done.stderr).splitlines()[0].strip()


class _PortTakenError(PrometheusError):
    """The port picked as free was taken before Prometheus bound it."""


def _wait_ready(proc: subprocess.Popen[bytes], url: str, *, log: Path, timeout: float) -> None:
    # No proxy: HTTP_PROXY in the environment must never capture loopback traffic.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def ready() -> bool:
        if proc.poll() is not None:
            tail = processes.log_tail(log)
            error = _PortTakenError if "address already in use" in tail else PrometheusError
            raise error(f"prometheus exited with code {proc.returncode}; {log}:\n{tail}")
        # Refused while starting, 503 until the TSDB is open: both are OSErrors here.
        with contextlib.suppress(OSError), opener.open(f"{url}/-/ready", timeout=1) as resp:
            return bool(resp.status == 200)
        return False

    waiting.wait_until(
        ready,
        timeout=timeout,
        every=0.02,
        what="prometheus ready",
        error=lambda what: PrometheusError(f"{what}; {log}:\n{processes.log_tail(log)}"),
    )
