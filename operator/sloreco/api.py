"""The API's identity (SPEC §1) and its wire formats: group, version, kinds, labels, the raw
object type, timestamps and the default bucket. Imported by the I/O layer and the pure core
alike, so it holds constants and pure formatters only (the standard library, nothing else)."""

from __future__ import annotations

import datetime
import hashlib
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
#: The incident prior a child was computed under (``core.prior.Prior.origin``: "default", or
#: "fleet:<source>[/<fleet>]") and the scope it was chosen for ("availability",
#: "latency-0.5s"): a child computed under another prior than its fleet now has is refreshed.
ANNOTATION_PRIOR = "sloreco.dev/prior"
ANNOTATION_PRIOR_SCOPE = "sloreco.dev/prior-scope"

SLIS = ("availability", "latency")

#: Kubernetes label values are at most 63 characters; object names up to 253.
LABEL_VALUE_MAX = 63
#: Hex digits of the name's hash in a shortened label value (40 bits).
LABEL_HASH_LENGTH = 10


def service_level_label(name: str) -> str:
    """The ``sloreco.dev/service-level`` label value for a ServiceLevel named ``name``: the name
    itself when it fits in a label value, else its first characters and a hash of the whole name
    (the full name stays in the child's ``spec.serviceLevel``). A name of 64 characters or more
    used to make every list of its children fail with 400."""
    if len(name) <= LABEL_VALUE_MAX:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:LABEL_HASH_LENGTH]
    prefix = name[: LABEL_VALUE_MAX - LABEL_HASH_LENGTH - 1].rstrip("-.")
    return f"{prefix}-{digest}"


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
