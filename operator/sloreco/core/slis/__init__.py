"""SLI kinds, one module each behind ``base.SliKind``; ``KINDS`` is the only registry of them.

Code outside this package never compares an SLI's name with a string: it looks the kind up here
(``get``) and asks it — how to read its history, how to recommend, how its numbers read.
"""

from __future__ import annotations

from collections.abc import Mapping

from sloreco import errors
from sloreco.core.slis import availability, base, latency

#: Every SLI kind, by its API name, in the order outputs list them.
KINDS: Mapping[str, base.SliKind] = {
    kind.traits.name: kind for kind in (availability.KIND, latency.KIND)
}


def get(name: str) -> base.SliKind:
    """The kind called ``name``; ``errors.InputError`` naming the known kinds otherwise."""
    try:
        return KINDS[name]
    except KeyError:
        raise errors.InputError(
            f"unknown SLI {name!r}; known: {', '.join(KINDS)}", field="sli"
        ) from None
