"""One idempotent, level-based pass for one ServiceLevel (SPEC §2.4, §4).

Create, spec update, resume and the scheduler (refresh, expiry, retries) all call :func:`run`.
The pass looks at the world as it is (the parent, its children, Prometheus) and moves it one step
towards what it should be. It
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
import logging
import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeVar

from sloreco import api, errors
from sloreco.controller import analysis, children, context, dependencies, expiry, lifecycle, status
from sloreco.controller.context import Work
from sloreco.core import bootstrap, inputs, objective, slis
from sloreco.kube import client as kube
from sloreco.render import crd
from sloreco.sources import prometheus
from sloreco.spec import bounds
from sloreco.spec import model as specs

logger = logging.getLogger(__name__)
T = TypeVar("T")

Obj = api.Obj


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
    #: The Prometheus source the spec names (for metrics).
    source: str = ""
    #: The ServiceLevel no longer exists, or is being deleted: forget it.
    gone: bool = False


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
        slis.get(children.sli_of(child)).traits.capped_by_dependencies
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
    namespace: str, name: str, *, ctx: context.Context, now: float, may_query: bool = True
) -> Outcome:
    """Reconcile one ServiceLevel; ``now`` is epoch seconds, ``may_query`` honours backoff."""
    # Always read the object as it is now: a body handed over earlier may be stale, and a pass
    # queued behind a spec change would act on the old spec and flip-flop the children.
    try:
        body = await ctx.kube.get(kube.path_for(api.SERVICELEVELS, namespace, name))
    except errors.NotFoundError:
        return Outcome(gone=True)  # deleted meanwhile: its children go with it (owner refs)
    meta = body["metadata"]
    generation = int(meta.get("generation", 1))
    if meta.get("deletionTimestamp"):
        return Outcome(gone=True)  # being deleted: its children go with it (owner references)
    work = context.Work()
    try:
        spec = specs.parse_service_level_spec(body.get("spec") or {})
    except errors.InputError as exc:
        work.conditions[status.READY] = status.Condition(
            status.READY, False, "InvalidSpec", str(exc)
        )
        patched = await _write_status(ctx, body, work, spec=None, kids={}, now=now)
        return Outcome(status_patched=patched)
    misfit = bounds.bucket_misfit(
        refresh_seconds=spec.refresh_seconds,
        ttl_seconds=spec.ttl_seconds,
        bucket_seconds=ctx.settings.bucket_seconds,
    )
    if misfit is not None:
        work.conditions[status.READY] = status.Condition(
            status.READY, False, "BucketDoesNotFit", misfit
        )
        patched = await _write_status(ctx, body, work, spec=None, kids={}, now=now)
        return Outcome(status_patched=patched)

    listed = await ctx.kube.list(
        kube.path_for(api.RECOMMENDATIONS, namespace),
        label_selector=f"{api.LABEL_SERVICE_LEVEL}={api.service_level_label(name)}",
    )
    by_sli: dict[str, list[Obj]] = {sli: [] for sli in api.SLIS}
    for child in listed:
        if child["spec"].get("serviceLevel") == name:  # a shortened label may be shared
            by_sli.setdefault(children.sli_of(child), []).append(child)

    ceiling, deps = await dependencies.resolve(ctx, body, spec, work)
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
        await lifecycle.expire(ctx, body, by_sli[sli], work, now=now)
    for sli in api.SLIS:
        if sli not in spec.slis:  # an SLI removed from the spec retires its Active child
            await lifecycle.supersede_all(ctx, body, by_sli[sli], work, keep=None, now=now)
        await lifecycle.prune(ctx, by_sli[sli], work, keep=spec.history_limit)

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
        targets=children.active_targets(by_sli),
        queries=tuple(work.queries),
        source=spec.source,
    )


async def report_failure(
    namespace: str, name: str, *, ctx: context.Context, now: float, message: str
) -> bool:
    """Put a pass's unexpected failure on the object: ``Ready=False`` (``InternalError``) with
    ``message``, ``Degraded``, and a Warning event. The rest of the status is left as it was (the
    last good recommendations stay visible). False if the object is gone."""
    try:
        body = await ctx.kube.get(kube.path_for(api.SERVICELEVELS, namespace, name))
    except errors.NotFoundError:
        return False
    meta = body["metadata"]
    generation = int(meta.get("generation", 1))
    previous = [c for c in (body.get("status") or {}).get("conditions") or [] if "type" in c]
    ready = status.Condition(status.READY, False, "InternalError", message)
    kept = [
        status.Condition(c["type"], c["status"] == "True", c["reason"], c["message"])
        for c in previous
        if c["type"] in status.ORDER and c["type"] not in (status.READY, status.DEGRADED)
    ]
    merged = status.merge_conditions(
        previous,
        [*kept, ready, status.degraded([*kept, ready])],
        generation=generation,
        now=api.rfc3339(int(now)),
    )
    await ctx.kube.merge_patch(
        kube.path_for(api.SERVICELEVELS, namespace, name, sub="status"),
        {"status": {"conditions": merged}},
    )
    await lifecycle.event(ctx, body, "Warning", "InternalError", message, now=now)
    return True


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
    ctx: context.Context,
    body: Mapping[str, Any],
    *,
    spec: specs.ServiceLevelSpec,
    sli: str,
    by_sli: dict[str, list[Obj]],
    work: Work,
    now: float,
    deps: Sequence[inputs.Dependency],
    ceiling: str | None,
) -> None:
    source = ctx.sources.get(spec.source)
    if source is None:
        configured = ", ".join(sorted(ctx.sources)) or "none"
        await _report(
            ctx,
            body,
            work,
            status.Condition(
                status.SOURCE_REACHABLE,
                False,
                "UnknownSource",
                f"spec.source: no Prometheus source named {spec.source!r} is configured "
                f"on the operator (configured: {configured}).",
            ),
            now=now,
        )
        # A configuration error, not an outage: no backoff retries. A spec change or an
        # operator restart with new configuration runs a pass at once; otherwise look again
        # only at the next refresh, as for missing history.
        work.insufficient.append(sli)
        return
    bucket = ctx.settings.bucket_seconds
    end = prometheus.align_end(now, bucket)
    start = end - spec.lookback_seconds
    exclusions = spec.history_exclusions()
    seed = bootstrap.seed_from(str(body["metadata"]["uid"]), sli, str(end))
    try:
        result = await analysis.recommend(
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
    except errors.NoSeriesError as exc:
        work.insufficient.append(sli)
        field = "histogram" if exc.role == "histogram" else "totalQuery"
        await _report(
            ctx,
            body,
            work,
            status.Condition(
                status.DATA_SUFFICIENT, False, "NoSeries", f"spec.{sli}.{field}: {exc}."
            ),
            now=now,
        )
        return
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
    kind = slis.get(sli).traits
    doc = children.child_spec(
        parent_name=body["metadata"]["name"],
        service=spec.service,
        recommendation=crd.recommendation_spec(result),
        generated_at=now,
        ttl_seconds=spec.ttl_seconds,
    )
    new_generation = int(body["metadata"].get("generation", 1))
    kids = by_sli[sli]
    child = await lifecycle.find_or_create(
        ctx,
        body,
        doc,
        kids,
        work,
        generation=new_generation,
        ceiling=ceiling if kind.capped_by_dependencies else None,
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
    await lifecycle.supersede_all(ctx, body, kids, work, keep=child["metadata"]["name"], now=now)
    await lifecycle.set_state(ctx, kids, child, children.ACTIVE, work.activated, now=now)


async def _report(
    ctx: context.Context,
    body: Mapping[str, Any],
    work: Work,
    problem: status.Condition,
    *,
    now: float,
) -> None:
    """Set a configuration or data problem as a condition, and post it as a Warning event
    when it is new (not on every pass that finds it again)."""
    work.conditions[problem.type] = problem
    if status.is_new(body, problem):
        await lifecycle.event(ctx, body, "Warning", problem.reason, problem.message, now=now)


#: Unresolved dependencies are looked up again one timer interval later: a dependency created at
#: the same time usually has its observations a pass later, and the lookup is one GET each.
DEPENDENCY_RETRY_TICKS = 1


async def _write_status(
    ctx: context.Context,
    body: Mapping[str, Any],
    work: Work,
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
    for kind in (status.DATA_SUFFICIENT, status.SOURCE_REACHABLE):
        if kind not in conditions and kind in previous:
            p = previous[kind]
            conditions[kind] = status.Condition(
                kind, p["status"] == "True", p["reason"], p["message"]
            )
    slis = spec.slis if spec else ()
    if spec is not None:
        # Both read the Active children, so they hold between refreshes and agree with them.
        limit = objective.likely_limit(min(ctx.settings.method.confidences))
        verdict = status.objective(slis, kids, ceiling=ceiling, likely_limit=limit)
        if verdict is not None:
            conditions[status.OBJECTIVE_UNACHIEVABLE] = verdict
        quality = status.data_quality(conditions.get(status.DATA_SUFFICIENT), slis, kids)
        if quality is not None:
            conditions[status.DATA_SUFFICIENT] = quality
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
            now=api.rfc3339(int(now)),
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
