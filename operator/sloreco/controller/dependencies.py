"""Hard dependencies of a ServiceLevel, resolved to availabilities (SPEC §3.1).

A dependency is another ServiceLevel (its own observed median window availability, from its
status) or an external service with a declared availability. The ceiling is the product over the
*unique* hard dependencies (independence assumed); soft ones are ignored. A missing reference, a
dependency without observations yet, or a cycle is reported as the ``DependenciesResolved``
condition and left out of the ceiling — never a crash.
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
        try:
            other = await ctx.kube.get(kube.path_for(api.SERVICELEVELS, ns, dep.service_level))
        except errors.NotFoundError:
            problems.append(f"ServiceLevel {key} does not exist")
            continue
        if await _leads_back(ctx, other, target=(namespace, body["metadata"]["name"])):
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


async def _leads_back(
    ctx: context.Context, start: Mapping[str, Any], *, target: tuple[str, str]
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
                if key == target:
                    return True
                if key in seen:
                    continue
                seen.add(key)
                try:
                    nxt.append(await ctx.kube.get(kube.path_for(api.SERVICELEVELS, *key)))
                except errors.NotFoundError:
                    continue
        frontier = nxt
    return False
