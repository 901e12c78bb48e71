"""The pass's writes to the ServiceLevel's own status: the whole status once per pass, or, after
an unexpected failure, the conditions that say so.

Split from :mod:`.reconcile` so the pass reads as observe → plan → apply; the status itself is
built by :mod:`.status` (conditions, summaries), and written here only when it differs from what
is stored (identical inputs, byte-identical status, no patch, no watch event: SPEC §2.2).
"""

from __future__ import annotations

from collections.abc import Mapping

from sloreco import api, errors
from sloreco.controller import children, context, datacheck, lifecycle, status
from sloreco.core import objective
from sloreco.kube import client as kube
from sloreco.spec import model as specs

Obj = api.Obj


async def write_status(
    scope: context.Scope,
    *,
    spec: specs.ServiceLevelSpec | None,
    kids: Mapping[str, list[Obj]],
    ceiling: str | None = None,
    adopted: Obj | None = None,
) -> bool:
    """One merge patch of the whole status, only when it differs from what is stored."""
    ctx, body, work, now = scope.ctx, scope.body, scope.work, scope.now
    meta = body["metadata"]
    generation = int(meta.get("generation", 1))
    old = dict(body.get("status") or {})
    previous = {c["type"]: c for c in old.get("conditions") or [] if "type" in c}
    conditions = dict(work.conditions)
    slis = spec.slis if spec else ()
    data = (
        datacheck.combine(slis, work.data, previous.get(status.DATA_SUFFICIENT)) if spec else None
    )
    if data is not None:
        conditions[status.DATA_SUFFICIENT] = data
    # Conditions this pass did not re-evaluate keep their last value (e.g. no query was due).
    for kind in (status.DATA_SUFFICIENT, status.SOURCE_REACHABLE):
        if kind not in conditions and kind in previous:
            p = previous[kind]
            conditions[kind] = status.Condition(
                kind, p["status"] == "True", p["reason"], p["message"]
            )
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
    if adopted is not None:  # spec.adopt's objective and objects (controller.adopt)
        new["adopted"] = adopted
    if children.canonical_json(new) == children.canonical_json(old):
        return False
    patch: Obj = {key: None for key in old if key not in new}  # merge patch deletes with null
    patch.update(new)
    await ctx.kube.merge_patch(
        kube.path_for(api.SERVICELEVELS, meta["namespace"], meta["name"], sub="status"),
        {"status": patch},
    )
    return True


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
    await lifecycle.event(
        context.Scope(ctx, body, context.Work(), now), "Warning", "InternalError", message
    )
    return True
