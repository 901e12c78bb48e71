"""Expiry and pruning decisions, with time as an argument."""

from __future__ import annotations

from typing import Any

from sloreco import api
from sloreco.controller import expiry

HOUR = 3600


def kid(name: str, state: str, *, generated: int, ttl: int = 2 * HOUR) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {
            "generatedAt": api.rfc3339(generated),
            "expiresAt": api.rfc3339(generated + ttl),
        },
        "status": {"state": state},
    }


T0 = 1_767_225_600  # 2026-01-01T00:00:00Z


def test_active_child_past_its_ttl_is_overdue() -> None:
    active = kid("a", "Active", generated=T0)
    assert expiry.overdue([active], now=T0 + 2 * HOUR) == [active]


def test_active_child_within_its_ttl_is_not_overdue() -> None:
    assert expiry.overdue([kid("a", "Active", generated=T0)], now=T0 + 2 * HOUR - 1) == []


def test_superseded_children_never_expire() -> None:
    assert expiry.overdue([kid("a", "Superseded", generated=T0)], now=T0 + 100 * HOUR) == []


def test_prune_keeps_the_newest_and_deletes_oldest_first() -> None:
    kids = [kid(f"k{i}", "Superseded", generated=T0 + i * HOUR) for i in range(5)]
    pruned = expiry.to_prune(kids, keep=2)
    assert [c["metadata"]["name"] for c in pruned] == ["k0", "k1", "k2"]


def test_prune_never_touches_active_or_pending() -> None:
    kids = [kid("active", "Active", generated=T0), kid("pending", "", generated=T0)]
    assert expiry.to_prune(kids, keep=0) == []


def test_seconds_until_next_expiry() -> None:
    kids = [kid("a", "Active", generated=T0), kid("b", "Expired", generated=T0 - 10 * HOUR)]
    assert expiry.seconds_until_next(kids, now=T0 + HOUR) == HOUR
