"""The one wait-until loop of the test harness, the demo and the benchmarks.

Waiting for a server to answer, an object to reach a state or a resource to become listable is
the same loop everywhere: ask, stop on a truthy answer, give up at a deadline with an error that
says what was awaited. ``probe`` may raise to abort early (a process that exited will never
become ready); ``error`` builds the exception for a timeout, so each caller keeps its own type
and can add a log tail.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    probe: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    every: float = 0.5,
    error: Callable[[str], BaseException] = TimeoutError,
) -> T:
    """Call ``probe`` every ``every`` seconds until it returns something truthy; return it.

    Raise ``error("<what> not within <timeout>s")`` when ``timeout`` seconds have passed.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise error(f"{what} not within {timeout:.0f}s")
        time.sleep(every)
