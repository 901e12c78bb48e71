"""The writes that move SloRecommendations through their lifecycle (SPEC §2.4).

Create (or re-find) a child, supersede the others, activate it, expire it, prune it — each state
change as a merge patch of the status subresource carrying the child's resourceVersion, then the
state label; each notable change as an event. :mod:`.reconcile` decides *which* of these a
pass needs; this module only carries them out and records them in the pass's
:class:`~.context.Work`. The ordering that keeps one Active child per SLI is described in
:mod:`sloreco.controller.reconcile`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sloreco import api, errors
from sloreco.controller import children, context, expiry
from sloreco.controller.context import Work
from sloreco.kube import client as kube

logger = logging.getLogger(__name__)

Obj = api.Obj


#: Revisions tried for one content before giving up; content only comes back after a spec
#: flip-flop within one bucket, so two or three are ever used.
MAX_REVISIONS = 16


async def find_or_create(
    ctx: context.Context,
    body: Mapping[str, Any],
    doc: Obj,
    kids: list[Obj],
    work: Work,
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
            child, created = await create(ctx, manifest)
            if created:
                work.created.append(name)
                kids.append(child)
                await event(
                    ctx, body, "Normal", "Created", f"Created {sli} recommendation {name}", now=now
                )
        if children.state(child) in (children.ACTIVE, children.PENDING):
            return child
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


async def supersede_all(
    ctx: context.Context,
    body: Mapping[str, Any],
    kids: list[Obj],
    work: Work,
    *,
    keep: str | None,
    now: float,
) -> None:
    for child in list(kids):
        if child["metadata"]["name"] == keep:
            continue
        if children.state(child) in (children.ACTIVE, children.PENDING):
            await set_state(
                ctx, kids, child, children.SUPERSEDED, work.superseded, now=now, superseded_by=keep
            )
            await event(
                ctx,
                body,
                "Normal",
                "Superseded",
                f"Superseded {children.sli_of(child)} recommendation "
                f"{child['metadata']['name']}" + (f" by {keep}" if keep else ""),
                now=now,
            )


async def expire(
    ctx: context.Context, body: Mapping[str, Any], kids: list[Obj], work: Work, *, now: float
) -> None:
    for child in expiry.overdue(kids, now=now):
        await set_state(ctx, kids, dict(child), children.EXPIRED, work.expired, now=now)
        await event(
            ctx,
            body,
            "Warning",
            "Expired",
            f"Expired {children.sli_of(child)} recommendation "
            f"{child['metadata']['name']}: not refreshed before {child['spec']['expiresAt']}",
            now=now,
        )


async def prune(ctx: context.Context, kids: list[Obj], work: Work, *, keep: int) -> None:
    for child in expiry.to_prune(kids, keep=keep):
        meta = child["metadata"]
        await ctx.kube.delete(
            kube.path_for(api.RECOMMENDATIONS, meta["namespace"], meta["name"]),
            resource_version=meta.get("resourceVersion"),
        )
        work.pruned.append(meta["name"])
        kids[:] = [c for c in kids if c["metadata"]["name"] != meta["name"]]


async def set_state(
    ctx: context.Context,
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
    new_status: Obj = {"state": state, "stateChangedAt": api.rfc3339(int(now))}
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


async def event(
    ctx: context.Context,
    body: Mapping[str, Any],
    type_: str,
    reason: str,
    message: str,
    *,
    now: float,
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
            now=now,
        )
    except errors.KubeError as exc:  # an event is a courtesy; never fail the pass for it
        logger.warning("Failed to post event %s for %s: %s", reason, body["metadata"]["name"], exc)
