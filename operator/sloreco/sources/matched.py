"""Whether a selector matched anything: "no series" is a typo, not a short history.

The reader keeps the shape of history it always returns (an absent series is all missing
buckets, a histogram with no series has only its ``+Inf`` bound), so the many-services reads and
the single reads agree. The callers that know which field a person typed the selector into (the
CLI's flags, the ServiceLevel's spec) ask here, and say "matched no series" naming the selector,
instead of letting the engine report 0 days of history or a malformed histogram.
"""

from __future__ import annotations

import numpy as np

from sloreco import errors
from sloreco.core import history


def anything(data: history.AvailabilityHistory | history.LatencyHistory) -> bool:
    """True when at least one bucket of the lookback holds a sample."""
    if isinstance(data, history.AvailabilityHistory):
        return bool(np.isfinite(data.total).any())
    return len(data.bounds) > 1 and bool(np.isfinite(data.cumulative).any())


def require(
    data: history.AvailabilityHistory | history.LatencyHistory, *, selector: object, role: str
) -> None:
    """Raise :class:`errors.NoSeriesError` naming ``selector`` when it matched nothing."""
    if not anything(data):
        raise errors.NoSeriesError(str(selector), role=role)
