"""The API's identity (SPEC §1) and its wire formats: group, version, kinds, labels, the raw
object type, timestamps and the default bucket. Imported by the I/O layer and the pure core
alike, so it holds constants and pure formatters only (the standard library, nothing else)."""

from __future__ import annotations

import datetime
from typing import Any

GROUP = "sloreco.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
SERVICELEVELS = "servicelevels"
RECOMMENDATIONS = "slorecommendations"

LABEL_SERVICE_LEVEL = "sloreco.dev/service-level"
LABEL_SLI = "sloreco.dev/sli"
LABEL_STATE = "sloreco.dev/state"
#: The parent's metadata.generation a child was computed for; a spec change makes it stale.
ANNOTATION_GENERATION = "sloreco.dev/parent-generation"

#: The dependency ceiling an availability child was computed under; a new ceiling means a refresh.
ANNOTATION_CEILING = "sloreco.dev/ceiling"

SLIS = ("availability", "latency")

#: Hourly buckets: SPEC §3.1's default resolution (a 90-day lookback is 2,160 points per series);
#: the operator's ``bucket``, the CLI's ``--bucket`` and an input file without one all use it.
DEFAULT_BUCKET = "1h"

#: A Kubernetes object or any JSON object as the API sends it (parsed values get real types).
Obj = dict[str, Any]


def rfc3339(epoch: float) -> str:
    """UTC RFC 3339 with a ``Z``, the form Kubernetes writes; milliseconds only when the time has
    them (two spec changes within one second must still produce children that sort in the order
    they were made)."""
    moment = datetime.datetime.fromtimestamp(epoch, datetime.UTC)
    if epoch == int(epoch):
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_rfc3339(text: str) -> float:
    """Epoch seconds of a timestamp :func:`rfc3339` (or the apiserver) wrote."""
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
