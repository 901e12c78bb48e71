"""The operator's configuration: one frozen object, read once at startup (SPEC §5).

Prometheus sources live here, not in the ServiceLevel: a namespaced object may only *name* a
source, so no tenant can make the operator call an arbitrary URL. The file is YAML, mounted from a
ConfigMap (``SLORECO_CONFIG``); ``SLORECO_PROMETHEUS_URL`` is a shortcut for a single ``default``
source (the demo and ``make run`` use it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from sloreco import api, errors
from sloreco.core import durations, history, method
from sloreco.sources import prometheus, promql

#: The scheduler's longest sleep and the first retry delay after a failed query. Passes are
#: scheduled for exactly when they are due (an expiry to the second); this bounds how late a
#: retry or a dependency lookup can be. SPEC §2.4 wants an expired child marked within a minute.
DEFAULT_TIMER_INTERVAL = 30.0
#: Queries in flight per source; one PromQL query uses one Prometheus core, and a small server has
#: a few (the 1,000-service benchmark runs two at a time on a 2-core machine).
DEFAULT_QUERY_CONCURRENCY = 4
#: Reconcile passes in flight at once. kopf starts a handler for every object as soon as it sees
#: it; without a bound, 2,000 ServiceLevels at startup meant 2,000 passes queueing on the HTTP pool
#: until they timed out. Sixteen keep both cores and the apiserver busy (bench/operator_scale.py).
DEFAULT_PASS_CONCURRENCY = 16
#: Threads that run the recommendation engine beside the event loop; 0 runs it on the loop itself,
#: between the passes' I/O (``controller.context.executor``). The engine holds the GIL for much of
#: its work, so a worker thread mostly takes turns with the loop, and the turns cost: at 2,000
#: ServiceLevels on 2 cores (bench/operator_scale.py, two runs each) one worker thread cost 18.0-
#: 19.2 ms of operator CPU per ServiceLevel, the loop itself 14.6-15.0 ms, Ready as soon (42-46 s);
#: earlier, at 5,000, asyncio's default pool of 6 cost 26.0 ms, 2 threads 24.6 ms, 1 thread 23.4
#: ms. A pass waits at most one analysis (10-20 ms) for the loop. Threads pay only with a CPU limit
#: of several cores, where numpy's GIL-free work can run beside the loop.
DEFAULT_ANALYSIS_THREADS = 0
#: A failing source is probed by one pass at a time, its delay doubling from the timer interval up
#: to this cap (runtime.health). One probe per source costs one query set per minute at most,
#: and an object is Ready again at most a minute after its source comes back (it was 137–162 s
#: with a 600 s cap per object, issue 10); also the backoff after an internal error.
DEFAULT_MAX_BACKOFF = 60
#: The finest bucket: 400 days (spec.bounds.MAX_DAYS) of 5-minute buckets is 115,200 points per
#: series, 11 range queries and under 1 MiB per series: the bound on one pass's work. A bucket
#: must also divide a day (the bootstrap resamples whole days).
MIN_BUCKET_SECONDS = 300
#: The fleet priors are relearned every ten minutes (``fleetLearnInterval``): recommendations
#: refresh hourly by default, so each sees a prior at most ten minutes old, and pooling a
#: thousand services costs well under a millisecond. A fleet's first prior refreshes the
#: recommendations computed without it at once (``controller.plan.refresh_due``).
DEFAULT_FLEET_LEARN_INTERVAL = 600.0
#: Port of the operator's own /metrics (kopf's liveness endpoint uses 8080 in the Deployment).
DEFAULT_METRICS_PORT = 8081


@dataclasses.dataclass(frozen=True)
class Settings:
    #: Prometheus sources by name; ``spec.source`` picks one.
    sources: Mapping[str, prometheus.SourceConfig]
    #: Width of a history bucket in seconds; the data end is aligned to it.
    bucket_seconds: int = 3600
    #: Parameters of the recommendation method (resamples, tier levels, precision).
    method: method.MethodSettings = dataclasses.field(default_factory=method.MethodSettings)
    timer_interval: float = DEFAULT_TIMER_INTERVAL
    query_concurrency: int = DEFAULT_QUERY_CONCURRENCY
    pass_concurrency: int = DEFAULT_PASS_CONCURRENCY
    analysis_threads: int = DEFAULT_ANALYSIS_THREADS
    max_backoff_seconds: int = DEFAULT_MAX_BACKOFF
    #: Seconds between relearnings of the fleet priors (``runtime.handlers.learn_forever``).
    fleet_learn_seconds: float = DEFAULT_FLEET_LEARN_INTERVAL
    #: 0 disables the metrics endpoint (tests run several operators in one process).
    metrics_port: int = DEFAULT_METRICS_PORT


def load(env: Mapping[str, str]) -> Settings:
    """Settings from the environment; errors name the file and the field."""
    path = env.get("SLORECO_CONFIG")
    raw: dict[str, Any] = {}
    if path:
        try:
            raw = yaml.safe_load(Path(path).read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise errors.InputError(f"cannot read operator config: {exc}", field=path) from exc
    sources = {
        s.name: s for s in (_source(item, i) for i, item in enumerate(raw.get("sources", [])))
    }
    if url := env.get("SLORECO_PROMETHEUS_URL"):
        sources.setdefault("default", prometheus.SourceConfig(name="default", url=url))
    bucket = durations.parse(str(raw.get("bucket", api.DEFAULT_BUCKET)), field="bucket")
    history.buckets_per_day(bucket)
    if bucket < MIN_BUCKET_SECONDS:
        raise errors.InputError(
            f"must be at least {durations.format(MIN_BUCKET_SECONDS)}", field="bucket"
        )
    return Settings(
        sources=sources,
        bucket_seconds=bucket,
        timer_interval=float(env.get("SLORECO_TIMER_INTERVAL", DEFAULT_TIMER_INTERVAL)),
        query_concurrency=int(raw.get("queryConcurrency", DEFAULT_QUERY_CONCURRENCY)),
        pass_concurrency=int(raw.get("passConcurrency", DEFAULT_PASS_CONCURRENCY)),
        analysis_threads=_whole(
            raw.get("analysisThreads", DEFAULT_ANALYSIS_THREADS), field="analysisThreads", least=0
        ),
        max_backoff_seconds=int(
            env.get("SLORECO_MAX_BACKOFF", raw.get("maxBackoffSeconds", DEFAULT_MAX_BACKOFF))
        ),
        metrics_port=int(env.get("SLORECO_METRICS_PORT", DEFAULT_METRICS_PORT)),
        fleet_learn_seconds=_fleet_learn_seconds(env, raw),
    )


def _fleet_learn_seconds(env: Mapping[str, str], raw: Mapping[str, Any]) -> float:
    """``SLORECO_FLEET_LEARN_INTERVAL`` (seconds; the demo's short one), else the file's
    ``fleetLearnInterval`` (a duration), else ten minutes."""
    if "SLORECO_FLEET_LEARN_INTERVAL" in env:
        field, text = "SLORECO_FLEET_LEARN_INTERVAL", env["SLORECO_FLEET_LEARN_INTERVAL"]
        try:
            seconds = float(text)
        except ValueError:
            raise errors.InputError(
                f"must be a number of seconds, got {text!r}", field=field
            ) from None
    elif "fleetLearnInterval" in raw:
        field = "fleetLearnInterval"
        seconds = float(durations.parse(str(raw[field]), field=field))
    else:
        return DEFAULT_FLEET_LEARN_INTERVAL
    if not seconds >= 1:
        raise errors.InputError(f"must be at least 1 second, got {seconds:g}", field=field)
    return seconds


def _whole(value: object, *, field: str, least: int) -> int:
    """A whole number of at least ``least`` (YAML's ``true`` and ``1.5`` are not), else an error
    on ``field``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise errors.InputError(
            f"must be a whole number of at least {least}, got {value!r}", field=field
        )
    return value


def _source(item: Mapping[str, Any], index: int) -> prometheus.SourceConfig:
    field = f"sources[{index}]"
    if not isinstance(item, Mapping) or not item.get("name") or not item.get("url"):
        raise errors.InputError("each source needs a name and a url", field=field)
    timeout = durations.parse(str(item.get("timeout", "30s")), field=f"{field}.timeout")
    label = str(item.get("batchLabel", prometheus.SourceConfig.batch_label))
    return prometheus.SourceConfig(
        name=str(item["name"]),
        url=str(item["url"]),
        bearer_token_file=item.get("bearerTokenFile"),
        ca_file=item.get("caFile"),
        timeout=float(timeout),
        batch_label=promql.check_label(label, field=f"{field}.batchLabel") if label else "",
    )
