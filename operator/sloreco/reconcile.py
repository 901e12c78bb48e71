"""One idempotent, level-based pass for one ServiceLevel (SPEC §2.4, §4).

Create, spec update, resume and the timer all call :func:`run`. The pass looks at the world as it
is (the parent, its children, Prometheus) and moves it one step towards what it should be. It
writes at most: one new child, the state changes that keep exactly one child Active per SLI,
expiries, pruning beyond ``historyLimit``, and one status patch — and nothing when nothing changed.

The protocol that keeps "at most one Active per (ServiceLevel, SLI), ever" across crashes:

1. create the new child (deterministic name; ``409 AlreadyExists`` means a retried pass made it);
2. mark every *other* Active or Pending child of that SLI Superseded;
3. mark the new child Active.

A crash after 1 leaves a Pending child that the next pass either activates (same inputs, same
name) or supersedes (newer inputs). A crash after 2 leaves no Active child for a moment, never two.
State writes carry the child's resourceVersion, so a racing writer gets 409 instead of a silent
overwrite.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import math
import time
from collections.abc import Awaitable, Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeVar

from sloreco import (
    api,
    bootstrap,
    children,
    engine,
    errors,
    expiry,
    history,
    kube,
    prometheus,
    results,
    status,
)
from sloreco import settings as config
from sloreco import (
    spec as specs,
)

logger = logging.getLogger(__name__)
T = TypeVar("T")

Obj = dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Context:
    """What a pass needs from the running operator; built once at startup."""

    kube: kube.KubeClient
    sources: Mapping[str, prometheus.PrometheusClient]
    settings: config.Settings


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What a pass did, for logs, metrics and scheduling."""

    created: tuple[str, ...] = ()
    activated: tuple[str, ...] = ()
    superseded: tuple[str, ...] = ()
    expired: tuple[str, ...] = ()
    pruned: tuple[str, ...] = ()
    status_patched: bool = False
    source_failed: bool = False
    #: Seconds until this object needs another pass (refresh or expiry), None if never.
    requeue_after: int | None = None
    targets: tuple[tuple[str, str, Decimal], ...] = ()  # (sli, tier, target) for metrics
    queries: tuple[tuple[str, float, bool], ...] = ()  # (sli, seconds, succeeded) for metrics


@dataclasses.dataclass
class _Pass:
    """Mutable bookkeeping of one pass (private; the Outcome is the frozen result)."""

    created: list[str] = dataclasses.field(default_factory=list)
    activated: list[str] = dataclasses.field(default_factory=list)
    superseded: list[str] = dataclasses.field(default_factory=list)
    expired: list[str] = dataclasses.field(default_factory=list)
    pruned: list[str] = dataclasses.field(default_factory=list)
    conditions: dict[str, status.Condition] = dataclasses.field(default_factory=dict)
    targets: list[tuple[str, str, Decimal]] = dataclasses.field(default_factory=list)
    source_failed: bool = False
    insufficient: list[str] = dataclasses.field(default_factory=list)
    queries: list[tuple[str, float, bool]] = dataclasses.field(default_factory=list)


def refresh_due(
    kids: Sequence[Mapping[str, Any]],
    *,
    generation: int,
    now: float,
    spec: specs.ServiceLevelSpec,
    bucket_seconds: int,
    ceiling: str | None = None,
) -> bool:
    """A new recommendation is due without an Active child, after a spec change, when the
    dependency ceiling moved (availability only), or on schedule."""
    active = [c for c in kids if children.state(c) == children.ACTIVE]
    if not active:
        return True
    child = active[0]
    if children.computed_for_generation(child) != generation:
        return True
    if (
        children.sli_of(child) == "availability"
        and children.computed_under_ceiling(child) != ceiling
    ):
        return True
    return now >= next_refresh(child, spec=spec, bucket_seconds=bucket_seconds)


def next_refresh(
    child: Mapping[str, Any], *, spec: specs.ServiceLevelSpec, bucket_seconds: int
) -> float:
    """When the Active child is next replaced: after ``refreshInterval``, and once a newer bucket
    exists (before that the same data would give the same content)."""
    return max(
        children.generated_at(child) + spec.refresh_seconds,
        children.data_end(child) + bucket_seconds,
    )


async def run(
    body: Mapping[str, Any], *, ctx: Context, now: float, may_query: bool = True
) -> Outcome:
    """Reconcile one ServiceLevel; ``now`` is epoch seconds, ``may_query`` honours backoff."""
    # kopf hands each handler the body it last saw; a timer tick queued behind a spec change
    # would act on the old spec and flip-flop the children. Read the object as it is now.
    try:
        body = await ctx.kube.get(
            kube.path_for(
                api.SERVICELEVELS, body["metadata"]["namespace"], body["metadata"]["name"]
            )
        )
    except errors.NotFoundError:
        return Outcome()  # deleted meanwhile: its children go with it (owner references)
    meta = body["metadata"]
    namespace, name, generation = meta["namespace"], meta["name"], int(meta.get("generation", 1))
    if meta.get("deletionTimestamp"):
        return Outcome()  # being deleted: its children go with it (owner references)
    work = _Pass()
    try:
        spec = specs.parse_service_level_spec(body.get("spec") or {})
    except errors.InputError as exc:
        work.conditions[status.READY] = status.Condition(
            status.READY, False, "InvalidSpec", str(exc)
        )
        patched = await _write_status(ctx, body, work, spec=None, kids={}, now=now)
        return Outcome(status_patched=patched)

    listed = await ctx.kube.list(
        kube.path_for(api.RECOMMENDATIONS, namespace),
        label_selector=f"{api.LABEL_SERVICE_LEVEL}={name}",
    )
    by_sli: dict[str, list[Obj]] = {sli: [] for sli in api.SLIS}
    for child in listed:
        by_sli.setdefault(children.sli_of(child), []).append(child)

    ceiling, deps = await _dependencies(ctx, body, spec, work)
    bucket = ctx.settings.bucket_seconds
    due = [
        s
        for s in spec.slis
        if refresh_due(
            by_sli[s],
            generation=generation,
            now=now,
            spec=spec,
            bucket_seconds=bucket,
            ceiling=ceiling,
        )
    ]
    if due and may_query:
        for sli in due:
            await _refresh(
                ctx,
                body,
                spec=spec,
                sli=sli,
                by_sli=by_sli,
                work=work,
                now=now,
                deps=deps,
                ceiling=ceiling,
            )
    for sli in spec.slis:
        await _expire(ctx, body, by_sli[sli], work, now=now)
    for sli in api.SLIS:
        if sli not in spec.slis:  # an SLI removed from the spec retires its Active child
            await _supersede_all(ctx, body, by_sli[sli], work, keep=None, now=now)
        await _prune(ctx, by_sli[sli], work, keep=spec.history_limit)

    patched = await _write_status(ctx, body, work, spec=spec, kids=by_sli, now=now, ceiling=ceiling)
    return Outcome(
        created=tuple(work.created),
        activated=tuple(work.activated),
        superseded=tuple(work.superseded),
        expired=tuple(work.expired),
        pruned=tuple(work.pruned),
        status_patched=patched,
        source_failed=work.source_failed,
        requeue_after=_requeue_after(
            spec,
            by_sli,
            generation=generation,
            now=now,
            bucket_seconds=bucket,
            waiting_for_data=work.insufficient,
            ceiling=ceiling,
            retry_dependencies=(
                DEPENDENCY_RETRY_TICKS * int(ctx.settings.timer_interval)
                if status.DEPENDENCIES_RESOLVED in work.conditions
                and not work.conditions[status.DEPENDENCIES_RESOLVED].status
                else None
            ),
        ),
        targets=tuple(work.targets),
        queries=tuple(work.queries),
    )


def _requeue_after(
    spec: specs.ServiceLevelSpec,
    by_sli: Mapping[str, list[Obj]],
    *,
    generation: int,
    now: float,
    bucket_seconds: int,
    waiting_for_data: Sequence[str],
    ceiling: str | None,
    retry_dependencies: int | None,
) -> int | None:
    """Seconds until the next pass is needed: a refresh, an expiry, or more history."""
    waits = []
    for sli in spec.slis:
        kids = by_sli[sli]
        if sli in waiting_for_data:
            waits.append(spec.refresh_seconds)  # history grows slowly; look again next refresh
        elif refresh_due(
            kids,
            generation=generation,
            now=now,
            spec=spec,
            bucket_seconds=bucket_seconds,
            ceiling=ceiling,
        ):
            return 0
        active = [c for c in kids if children.state(c) == children.ACTIVE]
        if active:
            due_at = next_refresh(active[0], spec=spec, bucket_seconds=bucket_seconds)
            waits.append(math.ceil(due_at - now))
        until_expiry = expiry.seconds_until_next(kids, now=now)
        if until_expiry is not None:
            waits.append(until_expiry)
    if retry_dependencies is not None:
        waits.append(retry_dependencies)  # a dependency may get its observations soon
    return max(0, min(waits)) if waits else None


async def _refresh(
    ctx: Context,
    body: Mapping[str, Any],
    *,
    spec: specs.ServiceLevelSpec,
    sli: str,
    by_sli: dict[str, list[Obj]],
    work: _Pass,
    now: float,
    deps: Sequence[engine.Dependency],
    ceiling: str | None,
) -> None:
    source = ctx.sources.get(spec.source)
    if source is None:
        configured = ", ".join(sorted(ctx.sources)) or "none"
        work.conditions[status.SOURCE_REACHABLE] = status.Condition(
            status.SOURCE_REACHABLE,
            False,
            "UnknownSource",
            f"spec.source: no Prometheus source named {spec.source!r} is configured "
            f"on the operator (configured: {configured}).",
        )
        work.source_failed = True
        return
    bucket = ctx.settings.bucket_seconds
    end = prometheus.align_end(now, bucket)
    start = end - spec.lookback_seconds
    exclusions = tuple(e.to_exclusion() for e in spec.exclusions)
    seed = bootstrap.seed_from(str(body["metadata"]["uid"]), sli, str(end))
    try:
        result = await _recommend(
            source,
            spec,
            sli,
            work=work,
            start=start,
            end=end,
            bucket=bucket,
            exclusions=exclusions,
            seed=seed,
            deps=deps,
            settings=ctx.settings.method,
        )
    except errors.InsufficientDataError as exc:
        work.insufficient.append(sli)
        work.conditions[status.DATA_SUFFICIENT] = status.Condition(
            status.DATA_SUFFICIENT, False, "InsufficientHistory", f"{sli}: {exc}"
        )
        return
    except errors.InputError as exc:
        # What Prometheus returned cannot be analysed (e.g. a histogram selector that matches no
        # series leaves only a +Inf bound): no usable data, said in words, not a crash.
        work.insufficient.append(sli)
        work.conditions[status.DATA_SUFFICIENT] = status.Condition(
            status.DATA_SUFFICIENT, False, "NoUsableData", f"{sli}: {exc}"
        )
        return
    except errors.SourceError as exc:
        work.source_failed = True
        reason = "QueryFailed" if isinstance(exc, errors.QueryError) else "SourceUnreachable"
        work.conditions[status.SOURCE_REACHABLE] = status.Condition(
            status.SOURCE_REACHABLE, False, reason, f"{sli}: {exc}"
        )
        return
    work.conditions.setdefault(
        status.SOURCE_REACHABLE,
        status.Condition(
            status.SOURCE_REACHABLE,
            True,
            "QueriesSucceeded",
            f"Prometheus source {spec.source!r} answered.",
        ),
    )
    work.conditions.setdefault(
        status.DATA_SUFFICIENT,
        status.Condition(
            status.DATA_SUFFICIENT,
            True,
            "EnoughHistory",
            "Enough history for every configured SLI.",
        ),
    )
    if sli == "availability" and spec.current_objective and spec.current_objective.availability:
        unachievable = result.objective_unachievable
        work.conditions[status.OBJECTIVE_UNACHIEVABLE] = status.Condition(
            status.OBJECTIVE_UNACHIEVABLE,
            unachievable,
            "AboveDependencyCeiling" if unachievable else "WithinDependencyCeiling",
            f"currentObjective.availability {spec.current_objective.availability}% is "
            + ("above" if unachievable else "within")
            + " what the hard dependencies allow.",
        )
    doc = children.child_spec(
        parent_name=body["metadata"]["name"],
        service=spec.service,
        recommendation=result.to_spec(),
        generated_at=now,
        ttl_seconds=spec.ttl_seconds,
    )
    work.targets.extend((sli, t["name"], Decimal(t["target"])) for t in doc["tiers"])
    new_generation = int(body["metadata"].get("generation", 1))
    kids = by_sli[sli]
    child = await _find_or_create(
        ctx,
        body,
        doc,
        kids,
        work,
        generation=new_generation,
        ceiling=ceiling if sli == "availability" else None,
        now=now,
    )
    if children.state(child) == children.ACTIVE:
        # Same numbers after a spec change (historyLimit, say): record the generation it now serves.
        if children.computed_for_generation(child) != new_generation:
            updated = await ctx.kube.merge_patch(
                kube.path_for(
                    api.RECOMMENDATIONS, child["metadata"]["namespace"], child["metadata"]["name"]
                ),
                {"metadata": {"annotations": {api.ANNOTATION_GENERATION: str(new_generation)}}},
            )
            kids[:] = [updated if c is child else c for c in kids]
        return
    await _supersede_all(ctx, body, kids, work, keep=child["metadata"]["name"], now=now)
    await _set_state(ctx, kids, child, children.ACTIVE, work.activated, now=now)


#: Unresolved dependencies are looked up again on the next timer tick: a dependency created at the
#: same time usually has its observations a pass later, and the lookup is one GET per dependency.
DEPENDENCY_RETRY_TICKS = 1

#: Revisions tried for one content before giving up; content only comes back after a spec
#: flip-flop within one bucket, so two or three are ever used.
MAX_REVISIONS = 16


async def _find_or_create(
    ctx: Context,
    body: Mapping[str, Any],
    doc: Obj,
    kids: list[Obj],
    work: _Pass,
    *,
    generation: int,
    ceiling: str | None,
    now: float,
) -> Obj:
    """The child for this content: an existing Active/Pending one, or a new one.

    Retired children (Superseded/Expired) are never revived: the same content gets the next
    revision's name instead, which is just as deterministic for a retried pass.
    """
    sli = str(doc["sli"])
    existing = {c["metadata"]["name"]: c for c in kids}
    for revision in range(MAX_REVISIONS):
        name = children.child_name(body["metadata"]["name"], sli, doc, revision=revision)
        child = existing.get(name)
        if child is None:
            manifest = children.manifest(
                body, spec=doc, generation=generation, name=name, ceiling=ceiling
            )
            child, created = await _create(ctx, manifest)
            if created:
                work.created.append(name)
                kids.append(child)
                await _event(
                    ctx, body, "Normal", "Created", f"Created {sli} recommendation {name}", now=now
                )
        if children.state(child) in (children.ACTIVE, children.PENDING):
            return child
    raise errors.KubeError(f"No free name for a new {sli} recommendation after {MAX_REVISIONS}")


async def _recommend(
    source: prometheus.PrometheusClient,
    spec: specs.ServiceLevelSpec,
    sli: str,
    *,
    work: _Pass,
    start: int,
    end: int,
    bucket: int,
    exclusions: tuple[history.Exclusion, ...],
    seed: int,
    deps: Sequence[engine.Dependency],
    settings: engine.MethodSettings,
) -> results.SliResult:
    objective = spec.current_objective
    if sli == "availability":
        assert spec.availability is not None
        avail = await _timed(
            work,
            sli,
            source.read_availability(
                total=spec.availability.total_query,
                errors=spec.availability.error_query,
                start=start,
                end=end,
                bucket_seconds=bucket,
            ),
        )
        return engine.recommend_availability(
            history.exclude(avail, exclusions),
            window_seconds=spec.window_seconds,
            seed=seed,
            settings=settings,
            dependencies=deps,
            current_objective=objective.availability if objective else None,
        )
    assert spec.latency is not None
    lat = await _timed(
        work,
        sli,
        source.read_latency(
            histogram=spec.latency.histogram, start=start, end=end, bucket_seconds=bucket
        ),
    )
    latency_objective = None
    if objective and objective.latency:
        latency_objective = results.LatencyObjective(
            threshold=objective.latency.threshold, target=objective.latency.target
        )
    return engine.recommend_latency(
        history.exclude(lat, exclusions),
        percentile=spec.latency.percentile,
        window_seconds=spec.window_seconds,
        seed=seed,
        settings=settings,
        current_objective=latency_objective,
    )


async def _timed(work: _Pass, sli: str, read: Awaitable[T]) -> T:
    """Await a history read, recording how long it took and whether it failed (for metrics)."""
    began = time.perf_counter()
    try:
        value = await read
    except errors.SourceError:
        work.queries.append((sli, time.perf_counter() - began, False))
        raise
    work.queries.append((sli, time.perf_counter() - began, True))
    return value


async def _create(ctx: Context, manifest: Obj) -> tuple[Obj, bool]:
    meta = manifest["metadata"]
    path = kube.path_for(api.RECOMMENDATIONS, meta["namespace"])
    try:
        return await ctx.kube.create(path, manifest), True
    except errors.ConflictError:
        # A retried pass (after a crash) made this very child already: same inputs, same name.
        found = await ctx.kube.get(
            kube.path_for(api.RECOMMENDATIONS, meta["namespace"], meta["name"])
        )
        return found, False


async def _supersede_all(
    ctx: Context,
    body: Mapping[str, Any],
    kids: list[Obj],
    work: _Pass,
    *,
    keep: str | None,
    now: float,
) -> None:
    for child in list(kids):
        if child["metadata"]["name"] == keep:
            continue
        if children.state(child) in (children.ACTIVE, children.PENDING):
            await _set_state(
                ctx, kids, child, children.SUPERSEDED, work.superseded, now=now, superseded_by=keep
            )
            await _event(
                ctx,
                body,
                "Normal",
                "Superseded",
                f"Superseded {children.sli_of(child)} recommendation "
                f"{child['metadata']['name']}" + (f" by {keep}" if keep else ""),
                now=now,
            )


async def _expire(
    ctx: Context, body: Mapping[str, Any], kids: list[Obj], work: _Pass, *, now: float
) -> None:
    for child in expiry.overdue(kids, now=now):
        await _set_state(ctx, kids, dict(child), children.EXPIRED, work.expired, now=now)
        await _event(
            ctx,
            body,
            "Warning",
            "Expired",
            f"Expired {children.sli_of(child)} recommendation "
            f"{child['metadata']['name']}: not refreshed before {child['spec']['expiresAt']}",
            now=now,
        )


async def _prune(ctx: Context, kids: list[Obj], work: _Pass, *, keep: int) -> None:
    for child in expiry.to_prune(kids, keep=keep):
        meta = child["metadata"]
        await ctx.kube.delete(
            kube.path_for(api.RECOMMENDATIONS, meta["namespace"], meta["name"]),
            resource_version=meta.get("resourceVersion"),
        )
        work.pruned.append(meta["name"])
        kids[:] = [c for c in kids if c["metadata"]["name"] != meta["name"]]


async def _set_state(
    ctx: Context,
    kids: list[Obj],
    child: Mapping[str, Any],
    state: str,
    record: list[str],
    *,
    now: float,
    superseded_by: str | None = None,
) -> None:
    """Status first (the truth), then the label (for ``-l sloreco.dev/state=Active``)."""
    meta = child["metadata"]
    path = kube.path_for(api.RECOMMENDATIONS, meta["namespace"], meta["name"])
    new_status: Obj = {"state": state, "stateChangedAt": children.rfc3339(int(now))}
    if superseded_by:
        new_status["supersededBy"] = superseded_by
    updated = await ctx.kube.merge_patch(
        f"{path}/status",
        {"metadata": {"resourceVersion": meta["resourceVersion"]}, "status": new_status},
    )
    updated = await ctx.kube.merge_patch(
        path,
        {
            "metadata": {
                "resourceVersion": updated["metadata"]["resourceVersion"],
                "labels": {api.LABEL_STATE: state},
            }
        },
    )
    kids[:] = [updated if c["metadata"]["name"] == meta["name"] else c for c in kids]
    record.append(meta["name"])


async def _dependencies(
    ctx: Context, body: Mapping[str, Any], spec: specs.ServiceLevelSpec, work: _Pass
) -> tuple[str | None, list[engine.Dependency]]:
    """Hard dependencies as availabilities; a missing or cyclic reference is a condition."""
    hard = [d for d in spec.dependencies if d.type == "hard"]
    if not hard:
        return None, []
    namespace = body["metadata"]["namespace"]
    found: dict[str, engine.Dependency] = {}
    problems: list[str] = []
    for dep in hard:
        if dep.external is not None:
            assert dep.availability is not None
            found[f"external/{dep.external}"] = engine.Dependency(
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
        found[key] = engine.Dependency(name=key, availability=float(Decimal(median)) / 100)
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


async def _leads_back(ctx: Context, start: Mapping[str, Any], *, target: tuple[str, str]) -> bool:
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


async def _write_status(
    ctx: Context,
    body: Mapping[str, Any],
    work: _Pass,
    *,
    spec: specs.ServiceLevelSpec | None,
    kids: Mapping[str, list[Obj]],
    now: float,
    ceiling: str | None = None,
) -> bool:
    """One merge patch of the whole status, only when it differs from what is stored."""
    meta = body["metadata"]
    generation = int(meta.get("generation", 1))
    old = dict(body.get("status") or {})
    previous = {c["type"]: c for c in old.get("conditions") or [] if "type" in c}
    conditions = dict(work.conditions)
    # Conditions this pass did not re-evaluate keep their last value (e.g. no query was due).
    for kind in (status.DATA_SUFFICIENT, status.SOURCE_REACHABLE, status.OBJECTIVE_UNACHIEVABLE):
        if kind not in conditions and kind in previous:
            p = previous[kind]
            conditions[kind] = status.Condition(
                kind, p["status"] == "True", p["reason"], p["message"]
            )
    slis = spec.slis if spec else ()
    if spec is not None:
        if not (spec.current_objective and spec.current_objective.availability):
            conditions.pop(status.OBJECTIVE_UNACHIEVABLE, None)
        if not any(d.type == "hard" for d in spec.dependencies):
            conditions.pop(status.DEPENDENCIES_RESOLVED, None)
        why = next(
            (c.message for c in conditions.values() if not c.status and c.type != status.READY),
            "",
        )
        conditions[status.READY] = status.ready(slis, kids, why_not=why.rstrip("."))
    conditions[status.DEGRADED] = status.degraded(list(conditions.values()))
    new = status.build(
        generation=generation,
        conditions=status.merge_conditions(
            list(previous.values()),
            list(conditions.values()),
            generation=generation,
            now=children.rfc3339(int(now)),
        ),
        recommendations=status.recommendations(
            slis, kids, history=spec.history_limit if spec else 0
        ),
        observed=status.observed(slis, kids),
        ceiling=ceiling,
    )
    if children.canonical_json(new) == children.canonical_json(old):
        return False
    patch: Obj = {key: None for key in old if key not in new}  # merge patch deletes with null
    patch.update(new)
    await ctx.kube.merge_patch(
        kube.path_for(api.SERVICELEVELS, meta["namespace"], meta["name"], sub="status"),
        {"status": patch},
    )
    return True


async def _event(
    ctx: Context, body: Mapping[str, Any], type_: str, reason: str, message: str, *, now: float
) -> None:
    logger.info(
        "%s for ServiceLevel %s/%s.",
        message,
        body["metadata"]["namespace"],
        body["metadata"]["name"],
    )
    try:
        await ctx.kube.post_event(
            body,
            type_=type_,
            reason=reason,
            message=message,
            now=datetime.datetime.fromtimestamp(now, datetime.UTC),
        )
    except errors.KubeError as exc:  # an event is a courtesy; never fail the pass for it
        logger.warning("Failed to post event %s for %s: %s", reason, body["metadata"]["name"], exc)
