"""The one error hierarchy of sloreco.

Every error the package raises on purpose is one of these, so callers (the CLI, the kopf
handlers) can map a whole family to an exit code or a condition without knowing the details.
Library exceptions are wrapped with ``raise ... from exc`` so their cause stays visible.

* SlorecoError
    * InputError — the user's input is invalid; ``field`` names where (``spec.window``).
    * InsufficientDataError — history exists but is too short to recommend anything.
        * NoSeriesError — a selector matched no series at all in the lookback.
        * InconsistentDataError — the data cannot be right (more errors than requests).
    * SourceError — talking to Prometheus failed.
        * SourceUnreachableError — connection refused, timeouts, 5xx after retries.
        * QueryError — Prometheus rejected the query (bad selector, PromQL error).
    * KubeError — the Kubernetes API failed; ``status`` is the HTTP status if there was one.
        * ConflictError — 409: resourceVersion conflict or the object already exists.
        * NotFoundError — 404.
"""

from __future__ import annotations


class SlorecoError(Exception):
    """Base class of every error sloreco raises on purpose."""


class InputError(SlorecoError):
    """Invalid input; the message starts with the field path when one is known."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        self.reason = message
        super().__init__(f"{field}: {message}" if field else message)


class InsufficientDataError(SlorecoError):
    """Too little history to recommend a target (SPEC §3.1 guards)."""

    def __init__(self, message: str, *, days_found: float) -> None:
        self.days_found = days_found
        super().__init__(message)


class NoSeriesError(InsufficientDataError):
    """A selector matched no series in the lookback: a typo or a wrong label, not a short history.

    ``role`` says which selector (``total`` or ``histogram``) so callers can name their own field.
    """

    def __init__(self, selector: str, *, role: str) -> None:
        self.selector = selector
        self.role = role
        super().__init__(f"{selector} matched no series in the lookback", days_found=0.0)


class SourceError(SlorecoError):
    """Reading history from Prometheus failed."""


class SourceUnreachableError(SourceError):
    """Prometheus could not be reached, timed out, or kept answering 5xx."""


class QueryError(SourceError):
    """Prometheus rejected a query; the message carries its own explanation."""


class InconsistentDataError(InsufficientDataError):
    """The selectors' data cannot be right (more errors than requests): no target from it.

    ``role`` names the selector to fix (``errors``), as :class:`NoSeriesError` does.
    """

    def __init__(self, message: str, *, role: str) -> None:
        self.role = role
        super().__init__(message, days_found=0.0)


class KubeError(SlorecoError):
    """A Kubernetes API call failed."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)


class ConflictError(KubeError):
    """409 Conflict: a stale resourceVersion, or the object already exists."""


class NotFoundError(KubeError):
    """404 Not Found."""
