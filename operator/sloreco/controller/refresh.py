"""One SLI's refresh inside a pass: read its history, recommend, publish the child, settle.

:func:`run` is the step of :func:`.reconcile.run` that talks to a Prometheus source. It reads and
analyses one SLI's history (:mod:`.analysis`) and turns whatever went wrong with the source or
the data into a condition (an unknown source, missing series, too little history, an unreachable
server); otherwise it carries out steps 1-3 of the one-Active-child protocol that
:mod:`.reconcile` describes: find or create the child, supersede the others, activate it
(:func:`.plan.settle`).

It lives apart from :mod:`.reconcile` so that the pass reads as its outline (observe, refresh what
is due, clean up, adopt, write the status once) while the handling of one query's failures, most
of the code, reads in one place.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from sloreco import api, errors
from sloreco.controller import (
    analysis,
    children,
    context,
    datacheck,
    fleet,
    lifecycle,
    plan,
    status,
)
from sloreco.core import bootstrap, inputs, slis
from sloreco.core import prior as beliefs
from sloreco.render import crd
from sloreco.sources import prometheus

Obj = api.Obj


async def run(
    scope: context.Scope,
    observed: plan.Observed,
    sli: str,
    deps: Sequence[inputs.Dependency],
) -> list[Obj]:
    """Compute a new recommendation for ``sli`` and make it the Active child; return that SLI's
    children as they are afterwards (unchanged when there is nothing to publish)."""
    ctx, body, work, now = scope.ctx, scope.body, scope.work, scope.now
    spec, ceiling = observed.spec, observed.ceiling
    kids = list(observed.kids[sli])
    source = ctx.sources.get(spec.source)
    if source is None:
        configured = ", ".join(sorted(ctx.sources)) or "none"
        await _report(
            scope,
            status.Condition(
                status.SOURCE_REACHABLE,
                False,
                "UnknownSource",
                f"spec.source: no Prometheus source named {spec.source!r} is configured "
                f"on the operator (configured: {configured}).",
            ),
        )
        # A configuration error, not an outage: no backoff retries. A spec change or an
        # operator restart with new configuration runs a pass at once; otherwise look again
        # only at the next refresh, as for missing history.
        work.insufficient.append(sli)
        return kids
    bucket = ctx.settings.bucket_seconds
    end = prometheus.align_end(now, bucket)
    start = end - spec.lookback_seconds
    exclusions = spec.history_exclusions()
    seed = bootstrap.seed_from(str(body["metadata"]["uid"]), sli, str(end))
    try:
        job = analysis.Job(
            spec=spec,
            sli=sli,
            start=start,
            end=end,
            bucket=bucket,
            exclusions=exclusions,
            seed=seed,
            deps=deps,
            settings=ctx.settings.method,
            priors=observed.priors,  # the ones the plan compared its children's with
            observe=functools.partial(
                ctx.fleet.observe, spec.source, _key(body), sli, fleet=spec.fleet
            ),
        )
        result = await analysis.recommend(source, job, work=work, executor=ctx.analyses)
        result = result.noted(ctx.fleet.unlearned(spec.source, spec.fleet, result.scope))
    except errors.InconsistentDataError as exc:
        await _data_problem(
            scope,
            datacheck.Problem.of(sli, "InconsistentData", f"spec.{sli}.errorQuery {exc}"),
            event=True,
        )
        return kids
    except errors.NoSeriesError as exc:
        field = "histogram" if exc.role == "histogram" else "totalQuery"
        await _data_problem(
            scope, datacheck.Problem.of(sli, "NoSeries", f"spec.{sli}.{field}: {exc}"), event=True
        )
        return kids
    except errors.InsufficientDataError as exc:
        await _data_problem(
            scope, datacheck.Problem.of(sli, "InsufficientHistory", f"{sli}: {exc}")
        )
        return kids
    except errors.InputError as exc:
        # What Prometheus returned cannot be analysed (e.g. a histogram selector that matches no
        # series leaves only a +Inf bound): no usable data, said in words, not a crash.
        await _data_problem(scope, datacheck.Problem.of(sli, "NoUsableData", f"{sli}: {exc}"))
        return kids
    except errors.SourceError as exc:
        work.source_failed = True
        reason = "QueryFailed" if isinstance(exc, errors.QueryError) else "SourceUnreachable"
        work.conditions[status.SOURCE_REACHABLE] = status.Condition(
            status.SOURCE_REACHABLE, False, reason, f"{sli}: {exc}"
        )
        return kids
    work.conditions.setdefault(
        status.SOURCE_REACHABLE,
        status.Condition(
            status.SOURCE_REACHABLE,
            True,
            "QueriesSucceeded",
            f"Prometheus source {spec.source!r} answered.",
        ),
    )
    work.data[sli] = None
    kind = slis.get(sli).traits
    doc = children.child_spec(
        parent_name=body["metadata"]["name"],
        service=spec.service,
        recommendation=crd.recommendation_spec(result),
        generated_at=now,
        ttl_seconds=spec.ttl_seconds,
    )
    child, created = await lifecycle.find_or_create(
        scope,
        doc,
        kids,
        generation=observed.generation,
        under=children.Under(
            ceiling=ceiling if kind.capped_by_dependencies else None,
            prior=children.PriorUsed(
                beliefs.for_scope(job.priors, result.scope).origin, result.scope
            ),
        ),
    )
    if created:
        kids.append(child)
    return await _settle(
        scope, kids, keep=child["metadata"]["name"], generation=observed.generation
    )


async def _settle(
    scope: context.Scope, kids: list[Obj], *, keep: str, generation: int
) -> list[Obj]:
    """Carry out :func:`.plan.settle`: supersede the others, then activate ``keep``."""
    todo = plan.settle(kids, keep=keep, generation=generation)
    current = {c["metadata"]["name"]: c for c in kids}
    if todo.restamp is not None:
        current[todo.restamp] = await lifecycle.restamp(
            scope, current[todo.restamp], generation=generation
        )
    for name in todo.supersede:
        current[name] = await lifecycle.supersede(scope, current[name], by=keep)
    if todo.activate is not None:
        current[todo.activate] = await lifecycle.set_state(
            scope, current[todo.activate], children.ACTIVE
        )
    return [current[c["metadata"]["name"]] for c in kids]


async def _data_problem(
    scope: context.Scope, problem: datacheck.Problem, *, event: bool = False
) -> None:
    """Record why ``problem.sli``'s data could not be used (``datacheck`` combines the SLIs);
    with ``event``, post a Warning event when it is new for that SLI."""
    scope.work.insufficient.append(problem.sli)
    scope.work.data[problem.sli] = problem
    stored = next(
        (
            c
            for c in (scope.body.get("status") or {}).get("conditions") or ()
            if c.get("type") == status.DATA_SUFFICIENT
        ),
        None,
    )
    if event and datacheck.is_new(stored, problem):
        await lifecycle.event(scope, "Warning", problem.reason, problem.detail + ".")


async def _report(scope: context.Scope, problem: status.Condition) -> None:
    """Set a configuration or data problem as a condition, and post it as a Warning event
    when it is new (not on every pass that finds it again)."""
    scope.work.conditions[problem.type] = problem
    if status.is_new(scope.body, problem):
        await lifecycle.event(scope, "Warning", problem.reason, problem.message)


def _key(body: Mapping[str, Any]) -> str:
    """A ServiceLevel's key in its source's fleet (``fleet.member``)."""
    meta = body["metadata"]
    return fleet.member(meta.get("namespace", ""), meta["name"])
