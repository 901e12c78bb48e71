"""When children expire and which ones to prune (pure; ``now`` is an argument).

An Active child past ``expiresAt`` that nobody replaced (Prometheus was down, say) becomes
Expired; the parent's Ready turns False (SPEC §2.4). Non-active children beyond ``historyLimit``
are deleted oldest first. Returning "seconds until the next expiry" lets the caller schedule the
next check instead of polling every object all the time (jobset's TTL policy does the same).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from sloreco.controller import children


def overdue(kids: Sequence[Mapping[str, Any]], *, now: float) -> list[Mapping[str, Any]]:
    """Active children whose TTL has run out."""
    return [
        c for c in kids if children.state(c) == children.ACTIVE and children.expires_at(c) <= now
    ]


def to_prune(kids: Sequence[Mapping[str, Any]], *, keep: int) -> list[Mapping[str, Any]]:
    """Superseded/Expired children of one SLI beyond the newest ``keep``, oldest first."""
    inactive = [
        c
        for c in children.newest_first(kids)
        if children.state(c) in (children.SUPERSEDED, children.EXPIRED)
    ]
    return list(reversed(inactive[keep:]))


def seconds_until_next(kids: Sequence[Mapping[str, Any]], *, now: float) -> int | None:
    """Seconds until the next Active child expires (0 if one is overdue), None if none is Active."""
    pending = [children.expires_at(c) for c in kids if children.state(c) == children.ACTIVE]
    return max(0, math.ceil(min(pending) - now)) if pending else None
