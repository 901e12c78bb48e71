"""The one retry policy for the two HTTP clients (Kubernetes API and Prometheus).

Both clients retry what the server calls transient (429, 503; Prometheus also other 5xx and
broken connections) a few times, quickly, and then give up so that the operator's own backoff
(per object, in :mod:`sloreco.runtime.passes`) takes over: a pass must not sleep for minutes
inside an HTTP call while it holds one of the ``passConcurrency`` slots.

A server's ``Retry-After`` (RFC 9110 §10.2.3: delay-seconds or an HTTP-date) is honoured when it
asks for longer than our own backoff, up to the same cap; a server that asks for more than the cap
gets the cap, and the next attempt is the last word before the pass reports the failure.

Pure: the clock is an argument, the sleeping is the caller's.
"""

from __future__ import annotations

import dataclasses
import email.utils
import math

#: The longest single wait inside one HTTP call. 10 s: long enough for an apiserver that says
#: "storage is (re)initializing" right after a CRD appears, or a Prometheus restarting; short
#: enough that a pass holding a slot never blocks the others for long.
MAX_DELAY = 10.0


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff ``first_delay * factor**attempt``, capped at ``max_delay``."""

    #: Tries in all, the first included.
    attempts: int = 4
    first_delay: float = 0.5
    factor: float = 2.0
    max_delay: float = MAX_DELAY

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed try number ``attempt`` (0-based)."""
        wanted = self.first_delay * self.factor**attempt
        return min(self.max_delay, max(wanted, retry_after or 0.0))

    def retries_left(self, attempt: int) -> bool:
        """Whether try ``attempt`` (0-based) may be followed by another."""
        return attempt + 1 < self.attempts


#: Kubernetes: the apiserver answers in milliseconds; five quick tries (0.2 + 0.4 + 0.8 + 1.6 s)
#: ride out priority-and-fairness 429s and a CRD's "storage is (re)initializing" 503s.
KUBE = RetryPolicy(attempts=5, first_delay=0.2)
#: Prometheus: a query takes up to seconds; four tries (0.5 + 1 + 2 s) ride out a restart.
PROMETHEUS = RetryPolicy(attempts=4, first_delay=0.5)


def retry_after_seconds(value: str | None, *, now: float) -> float | None:
    """A ``Retry-After`` header as seconds from ``now`` (epoch seconds), None if absent or bad.

    Delay-seconds are a non-negative integer (fractions are tolerated); an HTTP-date is turned
    into the seconds left until it (0 if it has passed).
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:  # RFC 9110 dates are GMT; a date without a zone is not one
        return None
    return max(0.0, moment.timestamp() - now)
