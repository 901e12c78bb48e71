"""A real VictoriaMetrics single-node on loopback, holding the same synthetic history (SPEC §7).

Why: users run VictoriaMetrics behind the same PromQL API, and its ``increase()`` is not
Prometheus's — no extrapolation, and the window's first increment is taken from the last sample
*before* the window — so the reader's exactness has to be shown on the real server, not assumed.

How: the ``sources.synth`` OpenMetrics file (the one promtool backfills) is posted to
``/api/v1/import/prometheus`` after turning its timestamps from seconds (OpenMetrics) into
milliseconds (Prometheus text format, which that endpoint reads). Imported rows are buffered
before they become searchable, so :meth:`VictoriaMetricsServer.load` calls
``/internal/force_flush`` and then waits until ``count_over_time`` over the whole span counts
every sample written: a test never sees a half-loaded server. The rollup result cache is off
(``-search.disableCache``) so that no answer computed before the import is served after it.

Lifecycle as in :mod:`sloreco.testing.prometheus` (own process group, SIGTERM then SIGKILL,
``atexit``, parent-death signal). The binary is ``bin/victoria-metrics``, built from the Go
module (``make victoriametrics``). Standard library only.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from sloreco.testing import processes

__all__ = ["BINARY", "VictoriaMetricsError", "VictoriaMetricsServer", "find_binary", "version"]

BINARY = "victoria-metrics"

#: Ready (``/health``) in well under a second on an empty data directory; generous for CI load.
STARTUP_TIMEOUT_S = 30.0

#: The default retention is one month and older rows are dropped *at import*: keep a century.
RETENTION = "100y"

#: Bytes per import request: large enough that HTTP overhead does not matter, small enough that
#: neither side buffers hundreds of megabytes (VictoriaMetrics' own limit is 32 MiB per line).
IMPORT_CHUNK_BYTES = 8 << 20

#: Waiting for imported rows to become searchable after a flush (measured: under a second).
SEARCHABLE_TIMEOUT_S = 60.0


class VictoriaMetricsError(RuntimeError):
    """VictoriaMetrics could not be found, started, loaded or stopped."""


def find_binary(bin_dir: Path | None = None) -> Path:
    """``victoria-metrics`` in ``bin_dir`` or on ``PATH``; raise naming the fix."""
    path = os.environ.get("PATH", os.defpath)
    if bin_dir is not None:
        path = f"{bin_dir}{os.pathsep}{path}"
    found = shutil.which(BINARY, path=path)
    if found is None:
        raise VictoriaMetricsError(f"{BINARY} not found: run `make victoriametrics`")
    return Path(found)


def version(bin_dir: Path | None = None) -> str:
    """``victoria-metrics --version`` (recorded with test and benchmark results)."""
    done = subprocess.run(
        [str(find_binary(bin_dir)), "--version"], capture_output=True, text=True, check=False
    )
    return (done.stdout or done.stderr).strip()


class VictoriaMetricsServer:
    """``victoria-metrics`` storing under ``root/data`` on ``127.0.0.1:<port>``; log in ``root``.

    Like ``PrometheusServer`` it keeps its port and data across :meth:`stop` and :meth:`start`.
    """

    def __init__(self, root: Path, *, bin_dir: Path | None = None) -> None:
        self.root = root
        self.data_dir = root / "data"
        self.log = root / "victoria-metrics.log"
        self.bin_dir = bin_dir
        self.port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        # No proxy: HTTP_PROXY in the environment must never capture loopback traffic.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    @property
    def url(self) -> str:
        if self.port is None:
            raise VictoriaMetricsError("the server has not been started yet")
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, *, timeout: float = STARTUP_TIMEOUT_S) -> None:
        if self.running:
            return
        binary = find_binary(self.bin_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        port = self.port if self.port is not None else processes.free_ports(1)[0]
        argv = [
            str(binary),
            f"-storageDataPath={self.data_dir}",
            f"-httpListenAddr=127.0.0.1:{port}",
            f"-retentionPeriod={RETENTION}",
            "-search.disableCache",
        ]
        proc = processes.spawn(argv, log=self.log)
        atexit.register(processes.terminate, proc)
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise VictoriaMetricsError(
                    f"victoria-metrics exited with code {proc.returncode}; {self.log}:\n"
                    f"{processes.log_tail(self.log)}"
                )
            with contextlib.suppress(OSError):
                if self._get(f"http://127.0.0.1:{port}/health") == b"OK":
                    break
            if time.monotonic() > deadline:
                processes.terminate(proc)
                raise VictoriaMetricsError(
                    f"victoria-metrics not ready after {timeout:.0f}s; {self.log}:\n"
                    f"{processes.log_tail(self.log)}"
                )
            time.sleep(0.02)
        self.port, self._proc = port, proc

    def stop(self) -> None:
        if self._proc is not None:
            processes.terminate(self._proc)
            self._proc = None

    def __enter__(self) -> VictoriaMetricsServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def load(self, openmetrics: Path, *, samples: int, start: int, end: int) -> float:
        """Import an OpenMetrics file; return the seconds until all ``samples`` were searchable.

        ``start``/``end`` (epoch seconds, inclusive) bound the samples' timestamps.
        """
        began = time.perf_counter()
        chunk: list[str] = []
        size = 0
        with open(openmetrics, encoding="utf-8") as lines:
            for line in lines:
                if line.startswith("#"):
                    continue
                head, _, stamp = line.rstrip("\n").rpartition(" ")
                converted = f"{head} {int(stamp) * 1000}\n"
                chunk.append(converted)
                size += len(converted)
                if size >= IMPORT_CHUNK_BYTES:
                    self._post("/api/v1/import/prometheus", "".join(chunk).encode())
                    chunk, size = [], 0
        if chunk:
            self._post("/api/v1/import/prometheus", "".join(chunk).encode())
        self._get(f"{self.url}/internal/force_flush")
        self._wait_searchable(samples, start=start, end=end)
        return time.perf_counter() - began

    def _wait_searchable(self, samples: int, *, start: int, end: int) -> None:
        span = end - start + 1
        query = urllib.parse.urlencode(
            {"query": f'sum(count_over_time({{__name__!=""}}[{span}s]))', "time": str(end)}
        )
        deadline = time.monotonic() + SEARCHABLE_TIMEOUT_S
        seen = 0
        while True:
            body = json.loads(self._get(f"{self.url}/api/v1/query?{query}"))
            result = body["data"]["result"]
            seen = int(float(result[0]["value"][1])) if result else 0
            if seen == samples:
                return
            if time.monotonic() > deadline:
                raise VictoriaMetricsError(
                    f"only {seen} of {samples} imported samples searchable after "
                    f"{SEARCHABLE_TIMEOUT_S:.0f}s"
                )
            time.sleep(0.1)

    def _get(self, url: str) -> bytes:
        with self._opener.open(url, timeout=10) as resp:
            data: bytes = resp.read()
            return data

    def _post(self, path: str, body: bytes) -> None:
        request = urllib.request.Request(f"{self.url}{path}", data=body, method="POST")
        with self._opener.open(request, timeout=60) as resp:
            if resp.status not in (200, 204):
                raise VictoriaMetricsError(f"{path} answered HTTP {resp.status}")


@contextlib.contextmanager
def serve(root: Path, *, bin_dir: Path | None = None) -> Iterator[VictoriaMetricsServer]:
    """A running server over ``root/data``, stopped on exit whatever happens."""
    server = VictoriaMetricsServer(root, bin_dir=bin_dir)
    with server:
        yield server
