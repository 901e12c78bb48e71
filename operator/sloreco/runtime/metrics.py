"""The operator's own Prometheus metrics (SPEC §5): passes, their durations, query errors,
and the recommended targets, so the recommender itself can be watched and alerted on."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from prometheus_client import Counter, Gauge, Histogram

RECONCILES = Counter("sloreco_reconcile_total", "Reconcile passes by result.", ["result"])
RECONCILE_SECONDS = Histogram(
    "sloreco_reconcile_duration_seconds",
    "Duration of one reconcile pass.",
    # From an idle pass (milliseconds) to a 90-day, two-SLI refresh against a slow Prometheus.
    buckets=(0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
QUERY_SECONDS = Histogram(
    "sloreco_query_duration_seconds",
    "Duration of reading one SLI's history from Prometheus (all its range queries).",
    ["sli", "result"],
    # A 90-day hourly read takes tens of milliseconds; a struggling server, seconds.
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
SOURCE_ERRORS = Counter(
    "sloreco_source_errors_total", "Passes whose Prometheus queries failed.", ["source"]
)
TARGET = Gauge(
    "sloreco_recommended_target_percent",
    "The Active recommendation's target per tier.",
    ["namespace", "service_level", "sli", "tier"],
)

#: The target label sets exported per ServiceLevel, so that a tier, an SLI or a whole object
#: that is gone stops being exported instead of keeping its last value forever.
_exported: dict[tuple[str, str], set[tuple[str, str]]] = {}


def export_targets(namespace: str, name: str, targets: Iterable[tuple[str, str, Decimal]]) -> None:
    """Export exactly ``targets`` (sli, tier, target) for one ServiceLevel's Active children."""
    now = set()
    for sli, tier, target in targets:
        TARGET.labels(namespace, name, sli, tier).set(float(target))
        now.add((sli, tier))
    for sli, tier in _exported.get((namespace, name), set()) - now:
        TARGET.remove(namespace, name, sli, tier)
    if now:
        _exported[(namespace, name)] = now
    else:
        _exported.pop((namespace, name), None)
