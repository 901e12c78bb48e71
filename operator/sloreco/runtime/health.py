"""Per-source health: one probe while a Prometheus source is down, everyone at once when it is back.

Before, every object backed off on its own, doubling up to ten minutes: after an outage, objects
whose backoff had grown waited 137–162 s for their turn although Prometheus had been back for
minutes (issue 10). Here the backoff belongs to the *source*: while it fails, one pass at a time
probes it (its delay doubles from the timer interval up to ``maxBackoffSeconds``), the other
objects of that source do not query at all, and the first pass that gets an answer releases
every waiting object at once. Pure: time is an argument.
"""

from __future__ import annotations

import dataclasses

from sloreco.runtime import scheduler


@dataclasses.dataclass
class _Down:
    failures: int
    retry_at: float
    probing: scheduler.Key | None = None
    waiting: set[scheduler.Key] = dataclasses.field(default_factory=set)


class SourceHealth:
    """Which sources are failing, when to probe each, and who waits for it."""

    def __init__(self, *, first_delay: float, max_delay: float) -> None:
        self._first = first_delay
        self._max = max_delay
        self._down: dict[str, _Down] = {}

    def is_down(self, source: str) -> bool:
        return source in self._down

    def may_query(self, source: str, key: scheduler.Key, *, now: float) -> bool:
        """Whether ``key``'s pass may query ``source`` now; a refused key waits for the source."""
        down = self._down.get(source)
        if down is None:
            return True
        if down.probing in (None, key) and now >= down.retry_at:
            down.probing = key
            down.waiting.discard(key)
            return True
        down.waiting.add(key)
        return False

    def failed(self, source: str, key: scheduler.Key, *, now: float) -> float:
        """Record a failed query; return the seconds until the source is probed again."""
        down = self._down.get(source)
        if down is None:
            down = self._down[source] = _Down(failures=0, retry_at=now)
        down.failures += 1
        delay = min(self._first * 2.0 ** (down.failures - 1), self._max)
        down.retry_at = now + delay
        if down.probing == key:
            down.probing = None
        down.waiting.add(key)
        return delay

    def succeeded(self, source: str) -> set[scheduler.Key]:
        """Record an answer; return the keys that waited for this source (run them now)."""
        down = self._down.pop(source, None)
        return down.waiting if down is not None else set()

    def wait(self, source: str, *, now: float) -> float | None:
        """Seconds until ``source`` is probed again, None if it is healthy."""
        down = self._down.get(source)
        return None if down is None else max(0.0, down.retry_at - now)

    def forget(self, key: scheduler.Key) -> None:
        for down in self._down.values():
            down.waiting.discard(key)
            if down.probing == key:
                down.probing = None
