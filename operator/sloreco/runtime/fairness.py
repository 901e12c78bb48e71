"""A fair gate for reconcile passes: one namespace's objects cannot starve another's.

``passConcurrency`` bounds the passes in flight; an ``asyncio.Semaphore`` admits its waiters in
arrival order, so 500 ServiceLevels of one namespace that become due together (at startup, or
after an outage) queue ahead of a healthy namespace's one object, and it waits for all of them
(issue 10 measured 42–58 s for a canary). This gate keeps one FIFO per namespace and admits
round-robin across the namespaces that are waiting: with N busy namespaces, a new namespace's
pass waits for at most N-1 others, whatever their size.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncIterator


class FairGate:
    """At most ``limit`` holders at once; waiters admitted round-robin by namespace."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self._free = limit
        self._waiting: dict[str, collections.deque[asyncio.Future[None]]] = {}
        #: Namespaces with waiters, in the order they get their next turn.
        self._turns: collections.deque[str] = collections.deque()

    @property
    def waiting(self) -> int:
        return sum(len(q) for q in self._waiting.values())

    @contextlib.asynccontextmanager
    async def slot(self, namespace: str) -> AsyncIterator[None]:
        await self._acquire(namespace)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, namespace: str) -> None:
        if self._free > 0 and not self._turns:
            self._free -= 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._waiting.setdefault(namespace, collections.deque())
        if not queue:
            self._turns.append(namespace)
        queue.append(future)
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self._release()  # admitted and cancelled at once: pass the slot on
            else:
                self._forget(namespace, future)
            raise

    def _release(self) -> None:
        self._free += 1
        while self._free > 0 and self._turns:
            namespace = self._turns.popleft()
            queue = self._waiting[namespace]
            future = queue.popleft()
            if queue:
                self._turns.append(namespace)  # its next waiter goes to the back of the line
            else:
                del self._waiting[namespace]
            if not future.done():
                self._free -= 1
                future.set_result(None)

    def _forget(self, namespace: str, future: asyncio.Future[None]) -> None:
        queue = self._waiting.get(namespace)
        if queue is None or future not in queue:
            return
        queue.remove(future)
        if not queue:
            del self._waiting[namespace]
            self._turns.remove(namespace)
