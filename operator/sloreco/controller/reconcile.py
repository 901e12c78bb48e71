"""One idempotent, level-based pass for one ServiceLevel (SPEC §2.4, §4).

Create, spec update, resume and the scheduler (refresh, expiry, retries) all call :func:`run`.
The pass observes the world as it is (the parent, its children, the dependency ceiling), asks
:mod:`.plan` what to do — pure decisions, tested as data — and carries them out through
:mod:`.lifecycle` (a due SLI's new recommendation through :mod:`.refresh`), moving the world one
step towards what it should be. It writes at most: one new child, the state changes that keep
exactly one child Active per SLI, expiries, pruning beyond ``historyLimit``, and one status patch
(:mod:`.publish`) — and nothing when nothing changed.

The protocol that keeps "at most one Active per (ServiceLevel, SLI), ever" across crashes:

1. create the new child (deterministic name; ``409 AlreadyExists`` means a retried pass made it),
   Pending — or Active at once when no other child of its SLI is Active or Pending
   (``children.first_state``), which ends the protocol there;
2. mark every *other* Active or Pending child of that SLI Superseded;
3. mark the new child Active.

A crash after 1 leaves a Pending child that the next pass either activates (same inputs, same
name) or supersedes (newer inputs). A crash after 2 leaves no Active child for a moment, never two.
State writes carry the child's resourceVersion, so a racing writer gets 409 instead of a silent
overwrite.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from sloreco import api, errors
from sloreco.controller import (
    adopt,
    children,
    context,
    dependencies,
    lifecycle,
    plan,
    publish,
    refresh,
    status,
)
from sloreco.kube import client as kube
from sloreco.spec import bounds
from sloreco.spec import model as specs

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
        patched = await publish.write_status(
            context.Scope(ctx, body, work, now), spec=None, kids={}
        )
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
        patched = await publish.write_status(
            context.Scope(ctx, body, work, now), spec=None, kids={}
        )
        return Outcome(status_patched=patched)

    listed = await ctx.kube.list(
        kube.path_for(api.RECOMMENDATIONS, namespace),
        label_selector=f"{api.LABEL_SERVICE_LEVEL}={api.service_level_label(name)}",
    )
    kids: dict[str, list[Obj]] = {sli: [] for sli in api.SLIS}
    for child in listed:
        if child["spec"].get("serviceLevel") == name:  # a shortened label may be shared
            kids.setdefault(children.sli_of(child), []).append(child)

    ceiling, deps = await dependencies.resolve(ctx, body, spec, work)
    scope = context.Scope(ctx, body, work, now)
    observed = plan.Observed(
        spec=spec,
        generation=generation,
        kids=kids,
        ceiling=ceiling,
        now=now,
        bucket_seconds=ctx.settings.bucket_seconds,
        priors=ctx.fleet.priors(spec.source, spec.fleet),
    )
    if may_query:
        for sli in plan.refreshes(observed):
            kids[sli] = await refresh.run(scope, observed, sli, deps)
    kids = await _clean_up(scope, dataclasses.replace(observed, kids=kids))

    adopted = await adopt.reconcile(ctx, body, spec, kids)
    if adopted.condition is not None:
        work.conditions[status.ADOPTED] = adopted.condition
    patched = await publish.write_status(
        scope, spec=spec, kids=kids, ceiling=ceiling, adopted=adopted.adopted
    )
    dependencies_unresolved = (
        status.DEPENDENCIES_RESOLVED in work.conditions
        and not work.conditions[status.DEPENDENCIES_RESOLVED].status
    )
    return Outcome(
        created=tuple(work.created),
        activated=tuple(work.activated),
        superseded=tuple(work.superseded),
        expired=tuple(work.expired),
        pruned=tuple(work.pruned),
        status_patched=patched,
        source_failed=work.source_failed,
        requeue_after=plan.requeue_after(
            dataclasses.replace(observed, kids=kids),
            waiting_for_data=work.insufficient,
            retry_dependencies=(
                DEPENDENCY_RETRY_TICKS * int(ctx.settings.timer_interval)
                if dependencies_unresolved
                else None
            ),
        ),
        targets=children.active_targets(kids),
        queries=tuple(work.queries),
        source=spec.source,
    )


async def _clean_up(scope: context.Scope, observed: plan.Observed) -> dict[str, list[Obj]]:
    """Carry out :func:`.plan.cleanup`: expire, retire, prune; return the children left."""
    todo = plan.cleanup(observed)
    current = {c["metadata"]["name"]: c for kids in observed.kids.values() for c in kids}
    for name in todo.expire:
        current[name] = await lifecycle.expire(scope, current[name])
    for name in todo.retire:
        current[name] = await lifecycle.supersede(scope, current[name], by=None)
    for name in todo.prune:
        await lifecycle.prune(scope, current.pop(name))
    return {
        sli: [current[c["metadata"]["name"]] for c in kids if c["metadata"]["name"] in current]
        for sli, kids in observed.kids.items()
    }


#: Unresolved dependencies are looked up again one timer interval later: a dependency created at
#: the same time usually has its observations a pass later, and the lookup is one GET each.
DEPENDENCY_RETRY_TICKS = 1
