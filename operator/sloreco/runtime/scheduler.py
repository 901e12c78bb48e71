"""One task that wakes each ServiceLevel when its next pass is due.

kopf runs a timer as one asyncio task per object, ticking whether or not anything is due; at
thousands of ServiceLevels that is thousands of tasks and most of the operator's memory and idle
CPU. Every pass already returns how long until it is needed again (a refresh, an expiry, a retry),
so one priority queue of due times replaces them all: an idle operator sleeps until the earliest
one, and memory per object is one heap entry.

The queue is keyed by (namespace, name); setting a key's due time replaces the previous one
(stale heap entries are skipped when popped, and the heap is rebuilt from the live due times when
stale entries outnumber them, so a key re-planned over and over cannot grow it without bound).
Passes run as tasks, at most ``concurrency`` at once; the pass callback returns the seconds until
it wants to run again, or None for never.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import time
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)

Key = tuple[str, str]
PassFn = Callable[[Key], Awaitable[float | None]]


#: The heap is rebuilt once it holds more than twice the live keys (plus this slack, so that a
#: small queue is not rebuilt on every set): memory stays within a constant factor of the fleet,
#: and each rebuild is paid for by as many sets as there are live keys (amortised O(log n)).
COMPACT_FACTOR = 2
COMPACT_SLACK = 64


class Queue:
    """Due times per key, earliest first (pure: time is passed in)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Key]] = []
        self._due: dict[Key, float] = {}
        self._order = itertools.count()  # ties break by insertion, never by comparing keys' luck

    def __len__(self) -> int:
        return len(self._due)

    def set(self, key: Key, when: float) -> None:
        """Run ``key`` at ``when``, replacing any earlier plan for it."""
        self._due[key] = when
        heapq.heappush(self._heap, (when, next(self._order), key))
        if len(self._heap) > COMPACT_FACTOR * len(self._due) + COMPACT_SLACK:
            self._compact()

    def heap_size(self) -> int:
        """Entries held, stale ones included (what the memory bound is about)."""
        return len(self._heap)

    def _compact(self) -> None:
        """One entry per live key, in due-time order (ties: the order they were last set)."""
        live = sorted(entry for entry in self._heap if self._due.get(entry[2]) == entry[0])
        seen: set[Key] = set()
        self._heap = []
        for when, order, key in live:
            if key not in seen:
                seen.add(key)
                self._heap.append((when, order, key))
        heapq.heapify(self._heap)

    def forget(self, key: Key) -> None:
        self._due.pop(key, None)

    def next_due(self) -> float | None:
        self._drop_stale()
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now: float) -> list[Key]:
        """Keys due at ``now``, earliest first; they leave the queue until set again."""
        out: list[Key] = []
        while True:
            self._drop_stale()
            if not self._heap or self._heap[0][0] > now:
                return out
            _, _, key = heapq.heappop(self._heap)
            del self._due[key]
            out.append(key)

    def _drop_stale(self) -> None:
        while self._heap and self._due.get(self._heap[0][2]) != self._heap[0][0]:
            heapq.heappop(self._heap)


class Scheduler:
    """Runs passes when they are due; created at operator startup, stopped at cleanup."""

    def __init__(
        self,
        run_pass: PassFn,
        *,
        max_sleep: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._run_pass = run_pass
        self._max_sleep = max_sleep
        self._clock = clock
        self._queue = Queue()
        self._wake = asyncio.Event()
        self._running: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._queue)

    def due_in(self, key: Key, seconds: float | None) -> None:
        """Plan the next pass of ``key`` (None: no pass is needed until something changes)."""
        if seconds is None:
            self._queue.forget(key)
            return
        self._queue.set(key, self._clock() + max(0.0, seconds))
        self._wake.set()

    async def run_forever(self) -> None:
        try:
            while True:
                for key in self._queue.pop_due(self._clock()):
                    task = asyncio.create_task(self._one(key))
                    self._running.add(task)
                    task.add_done_callback(self._running.discard)
                nxt = self._queue.next_due()
                sleep = self._max_sleep if nxt is None else nxt - self._clock()
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=min(sleep, self._max_sleep))
        finally:
            for task in self._running:
                task.cancel()

    async def _one(self, key: Key) -> None:
        try:
            again = await self._run_pass(key)
        except Exception:  # a pass must never take the scheduler down with it
            logger.exception("Failed a scheduled pass of ServiceLevel %s/%s.", *key)
            again = self._max_sleep
        self.due_in(key, again)
