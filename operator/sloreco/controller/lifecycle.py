"""The writes that move SloRecommendations through their lifecycle (SPEC §2.4).

Create (or re-find) a child, supersede the others, activate it, expire it, prune it — each state
change as one merge patch of the child's status and state label carrying its resourceVersion;
each notable change as an event. This module only carries them out and records them
in the pass's :class:`~.context.Work`. *Which* changes a pass makes is decided in :mod:`.plan`;
the ordering that keeps one Active child per SLI is described in :mod:`.reconcile`. Each write
returns the child as the apiserver now has it; nothing here changes the caller's lists.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sloreco import api, errors
from sloreco.controller import children, context
from sloreco.kube import client as kube

logger = logging.getLogger(__name__)

Obj = api.Obj


#: Revisions tried for one content before giving up; content only comes back after a spec
#: flip-flop within one bucket, so two or three are ever used.
MAX_REVISIONS = 16


async def find_or_create(
    scope: context.Scope,
    doc: Obj,
    kids: Sequence[Mapping[str, Any]],
    *,
    generation: int,
    under: children.Under,
) -> tuple[Obj, bool]:
    """The child for this content, and whether this pass created it: an existing Active or
    Pending one, or a new one.

    Retired children (Superseded/Expired) are never revived: the same content gets the next
    revision's name instead, which is just as deterministic for a retried pass.
    """
    sli = str(doc["sli"])
    existing = {c["metadata"]["name"]: c for c in kids}
    for revision in range(MAX_REVISIONS):
        name = children.child_name(scope.body["metadata"]["name"], sli, doc, revision=revision)
        child = existing.get(name)
        created = False
        if child is None:
            manifest = children.manifest(
                scope.body, spec=doc, generation=generation, name=name, under=under
            )
            first = children.first_state(kids)
            child, created = await create(
                scope.ctx, children.entering(manifest, first, now=scope.now)
            )
            if created:
                scope.work.created.append(name)
                if first == children.ACTIVE:
                    scope.work.activated.append(name)
                await event(scope, "Normal", "Created", f"Created {sli} recommendation {name}")
        if children.state(child) in (children.ACTIVE, children.PENDING):
            return dict(child), created
    raise errors.KubeError(f"No free name for a new {sli} recommendation after {MAX_REVISIONS}")


async def create(ctx: context.Context, manifest: Obj) -> tuple[Obj, bool]:
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


async def supersede(scope: context.Scope, child: Mapping[str, Any], *, by: str | None) -> Obj:
    updated = await set_state(scope, child, children.SUPERSEDED, superseded_by=by)
    await event(
        scope,
        "Normal",
        "Superseded",
        f"Superseded {children.sli_of(child)} recommendation {child['metadata']['name']}"
        + (f" by {by}" if by else ""),
    )
    return updated


async def expire(scope: context.Scope, child: Mapping[str, Any]) -> Obj:
    updated = await set_state(scope, child, children.EXPIRED)
    await event(
        scope,
        "Warning",
        "Expired",
        f"Expired {children.sli_of(child)} recommendation {child['metadata']['name']}: "
        f"not refreshed before {child['spec']['expiresAt']}",
    )
    return updated


async def prune(scope: context.Scope, child: Mapping[str, Any]) -> None:
    meta = child["metadata"]
    await scope.ctx.kube.delete(
        kube.path_for(api.RECOMMENDATIONS, meta["namespace"], meta["name"]),
        resource_version=meta.get("resourceVersion"),
    )
    scope.work.pruned.append(meta["name"])


async def restamp(scope: context.Scope, child: Mapping[str, Any], *, generation: int) -> Obj:
    """Record the parent generation an unchanged Active child now serves."""
    meta = child["metadata"]
    return await scope.ctx.kube.merge_patch(
        kube.path_for(api.RECOMMENDATIONS, meta["namespace"], meta["name"]),
        {"metadata": {"annotations": {api.ANNOTATION_GENERATION: str(generation)}}},
    )


async def set_state(
    scope: context.Scope,
    child: Mapping[str, Any],
    state: str,
    *,
    superseded_by: str | None = None,
) -> Obj:
    """Status and label in one merge patch, guarded by the child's resourceVersion: they never
    disagree, and a racing writer gets 409 instead of a silent overwrite."""
    meta = child["metadata"]
    updated = await scope.ctx.kube.merge_patch(
        kube.path_for(api.RECOMMENDATIONS, meta["namespace"], meta["name"]),
        {
            "metadata": {
                "resourceVersion": meta["resourceVersion"],
                "labels": {api.LABEL_STATE: children.label(state)},
            },
            "status": children.state_status(state, now=scope.now, superseded_by=superseded_by),
        },
    )
    _RECORDS[state](scope.work).append(meta["name"])
    return updated


_RECORDS: dict[str, Callable[[context.Work], list[str]]] = {
    children.ACTIVE: lambda work: work.activated,
    children.SUPERSEDED: lambda work: work.superseded,
    children.EXPIRED: lambda work: work.expired,
}


async def event(scope: context.Scope, type_: str, reason: str, message: str) -> None:
    body = scope.body
    logger.info(
        "%s for ServiceLevel %s/%s.",
        message,
        body["metadata"]["namespace"],
        body["metadata"]["name"],
    )
    try:
        await scope.ctx.kube.post_event(
            body, type_=type_, reason=reason, message=message, now=scope.now
        )
    except errors.KubeError as exc:  # an event is a courtesy; never fail the pass for it
        logger.warning("Failed to post event %s for %s: %s", reason, body["metadata"]["name"], exc)
