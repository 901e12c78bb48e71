"""What one reconcile pass works with: the operator's clients, where its engine runs, and the
record of what it did.

Split from :mod:`sloreco.controller.reconcile` so the modules that carry out parts of a pass
(:mod:`.lifecycle`, :mod:`.dependencies`) share these two types without importing
the pass itself.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from sloreco import settings as config
from sloreco.controller import datacheck, status
from sloreco.controller import fleet as fleets
from sloreco.controller import graph as graphs
from sloreco.core.slis import base
from sloreco.kube import client as kube

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Context:
    """What a pass needs from the running operator; built once at startup."""

    kube: kube.KubeClient
    sources: Mapping[str, base.HistorySource]
    settings: config.Settings
    #: The fleet priors learned across the ServiceLevels of each source (``fleet``).
    fleet: fleets.Fleet = dataclasses.field(default_factory=fleets.Fleet)
    #: Every ServiceLevel's dependencies and observed availability, kept by the watch (``graph``).
    graph: graphs.Graph = dataclasses.field(default_factory=graphs.Graph)
    #: Where the engine runs, made from ``settings.analysis_threads`` (``executor``).
    analyses: concurrent.futures.Executor = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "analyses", executor(self.settings.analysis_threads))


def executor(threads: int) -> concurrent.futures.Executor:
    """Where the engine runs: ``threads`` worker threads, or the event loop itself for 0
    (``settings.DEFAULT_ANALYSIS_THREADS`` says why that is the default)."""
    if threads:
        return concurrent.futures.ThreadPoolExecutor(threads, thread_name_prefix="sloreco-analysis")
    return OnTheLoop()


class OnTheLoop(concurrent.futures.Executor):
    """Runs each call at once, on the thread that submits it (the event loop's): the same
    ``run_in_executor`` path as a thread pool, without a second thread taking turns at the GIL."""

    def submit(
        self, fn: Callable[..., T], /, *args: object, **kwargs: object
    ) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:  # the caller's await raises it, as from a worker thread
            future.set_exception(exc)
        return future


@dataclasses.dataclass
class Work:
    """Mutable bookkeeping of one pass; :class:`.reconcile.Outcome` is its frozen result."""

    created: list[str] = dataclasses.field(default_factory=list)
    activated: list[str] = dataclasses.field(default_factory=list)
    superseded: list[str] = dataclasses.field(default_factory=list)
    expired: list[str] = dataclasses.field(default_factory=list)
    pruned: list[str] = dataclasses.field(default_factory=list)
    conditions: dict[str, status.Condition] = dataclasses.field(default_factory=dict)
    #: Per SLI queried in this pass: why its data could not be used, or None when it could
    #: (``datacheck`` turns these into ``DataSufficient``).
    data: dict[str, datacheck.Problem | None] = dataclasses.field(default_factory=dict)
    source_failed: bool = False
    insufficient: list[str] = dataclasses.field(default_factory=list)
    queries: list[tuple[str, float, bool]] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class Scope:
    """One pass on one object: the operator's clients, the parent as read at the start of the
    pass, the record of what the pass did, and the time it runs at (epoch seconds)."""

    ctx: Context
    body: Mapping[str, Any]
    work: Work
    now: float
