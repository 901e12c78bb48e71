"""Hard dependencies of a ServiceLevel, resolved to availabilities (SPEC §3.1).

A dependency is another ServiceLevel (its own observed median window availability, from its
status) or an external service with a declared availability. The ceiling is the product over the
*unique* hard dependencies (independence assumed); soft ones are ignored. A missing reference, a
dependency without observations yet, or a cycle is reported as the ``DependenciesResolved``
condition and left out of the ceiling — never a crash.

Another namespace's ServiceLevel is read only with its consent: it must list the dependent's
namespace in ``spec.sharedWith`` (in the spirit of the Gateway API's ReferenceGrant). Otherwise
a tenant could read another team's observed availability through its own status, probe which
objects exist, and cap its targets with another team's data (issue 10). A refused reference and a
missing one get the *same* words, and the cycle search follows only references that are allowed.
The lookups of one pass are bounded (:data:`MAX_LOOKUPS`) whatever the graph looks like, and
they read the graph the watch keeps (:mod:`.graph`), not the apiserver.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sloreco import api, errors
from sloreco.controller import context, status
from sloreco.controller.context import Work
from sloreco.core import inputs
from sloreco.kube import client as kube
from sloreco.spec import model as specs


async def resolve(
    ctx: context.Context, body: Mapping[str, Any], spec: specs.ServiceLevelSpec, work: Work
) -> tuple[str | None, list[inputs.Dependency]]:
    """Hard dependencies as availabilities; a missing or cyclic reference is a condition."""
    hard = [d for d in spec.dependencies if d.type == "hard"]
    if not hard:
        return None, []
    namespace = body["metadata"]["namespace"]
    found: dict[str, inputs.Dependency] = {}
    problems: list[str] = []
    lookups = _Lookups(ctx)
    for dep in hard:
        if dep.external is not None:
            assert dep.availability is not None
            found[f"external/{dep.external}"] = inputs.Dependency(
                name=dep.external, availability=float(dep.availability) / 100
            )
            continue
        assert dep.service_level is not None
        ns = dep.namespace or namespace
        key = f"{ns}/{dep.service_level}"
        other = await lookups.get(ns, dep.service_level, wanted_by=namespace)
        if other is None:
            problems.append(unavailable(key, namespace))
            continue
        if await _leads_back(lookups, other, target=(namespace, body["metadata"]["name"])):
            problems.append(f"ServiceLevel {key} depends back on this one (a cycle)")
            continue
        observed = {o.get("sli"): o for o in (other.get("status") or {}).get("observed") or []}
        median = (observed.get("availability") or {}).get("median")
        if median is None:
            problems.append(f"ServiceLevel {key} has no observed availability yet")
            continue
        found[key] = inputs.Dependency(name=key, availability=float(Decimal(median)) / 100)
    if problems:
        work.conditions[status.DEPENDENCIES_RESOLVED] = status.Condition(
            status.DEPENDENCIES_RESOLVED,
            False,
            "DependencyUnresolved",
            "; ".join(problems) + "; the ceiling ignores them.",
        )
    else:
        work.conditions[status.DEPENDENCIES_RESOLVED] = status.Condition(
            status.DEPENDENCIES_RESOLVED,
            True,
            "DependenciesFound",
            f"All {len(hard)} hard dependencies resolved.",
        )
    if not found:
        return None, []
    ceiling = Decimal(1)
    for resolved in found.values():
        ceiling *= Decimal(repr(resolved.availability))
    return f"{(ceiling * 100).quantize(Decimal('0.0001'))}", sorted(
        found.values(), key=lambda d: d.name
    )


#: How deep a dependency chain is followed looking for a cycle; real chains are a few levels.
MAX_DEPENDENCY_DEPTH = 8
#: ServiceLevels one pass may read to resolve dependencies and look for cycles. 50 objects naming
#: each other (within maxItems 50) made the unbounded search take 89 % CPU (issue 10); a real
#: graph reachable from one object is a few dozen. Past the bound the cycle search stops (and
#: says nothing), the ceiling uses what was found.
MAX_LOOKUPS = 64


def unavailable(key: str, namespace: str) -> str:
    """The one message for a reference that is missing *or* not shared: they must not differ."""
    return (
        f"ServiceLevel {key} does not exist or is not shared with namespace {namespace} "
        "(its spec.sharedWith must list it)"
    )


def shared_with(obj: Mapping[str, Any], namespace: str) -> bool:
    """Whether ``namespace`` may read ``obj``: its own namespace, or one it lists."""
    if obj["metadata"]["namespace"] == namespace:
        return True
    return namespace in ((obj.get("spec") or {}).get("sharedWith") or [])


class _Lookups:
    """The reads of one pass: each ServiceLevel at most once, at most MAX_LOOKUPS in all, and
    another namespace's only when it consents. Read from the watch's graph (``graph``); a GET
    only for one the watch has not shown yet, which then joins the graph."""

    def __init__(self, ctx: context.Context) -> None:
        self._ctx = ctx
        self._seen: dict[tuple[str, str], Mapping[str, Any] | None] = {}

    @property
    def exhausted(self) -> bool:
        return len(self._seen) >= MAX_LOOKUPS

    async def get(self, namespace: str, name: str, *, wanted_by: str) -> Mapping[str, Any] | None:
        key = (namespace, name)
        if key not in self._seen:
            if self.exhausted:
                return None
            self._seen[key] = self._ctx.graph.get(namespace, name) or await self._read(key)
        found = self._seen[key]
        return found if found is not None and shared_with(found, wanted_by) else None

    async def _read(self, key: tuple[str, str]) -> Mapping[str, Any] | None:
        try:
            body = await self._ctx.kube.get(kube.path_for(api.SERVICELEVELS, *key))
        except errors.NotFoundError:
            return None  # not remembered: the watch adds it if it is created
        self._ctx.graph.see(body)
        return body


async def _leads_back(
    lookups: _Lookups, start: Mapping[str, Any], *, target: tuple[str, str]
) -> bool:
    frontier: list[Mapping[str, Any]] = [start]
    seen: set[tuple[str, str]] = set()
    for _ in range(MAX_DEPENDENCY_DEPTH):
        nxt: list[Mapping[str, Any]] = []
        for obj in frontier:
            ns = obj["metadata"]["namespace"]
            for dep in (obj.get("spec") or {}).get("dependencies") or []:
                if dep.get("type", "hard") != "hard" or not dep.get("serviceLevel"):
                    continue
                key = (dep.get("namespace") or ns, dep["serviceLevel"])
                if key in seen or lookups.exhausted:
                    continue
                seen.add(key)
                found = await lookups.get(*key, wanted_by=ns)  # only edges the operator follows
                if found is None:
                    continue
                if key == target:
                    return True
                nxt.append(found)
        frontier = nxt
    return False
