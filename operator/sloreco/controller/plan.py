"""What one pass decides, as data: ``plan(observed) -> actions``, with time as an argument.

The reconcile pass (:mod:`.reconcile`) observes the world (the parent, its children, the
dependency ceiling), asks this module what to do, and carries it out (:mod:`.lifecycle`). Every
decision lives here, once, and is tested as data (``tests/unit/test_plan.py``):

* :func:`refreshes` — which SLIs get a new recommendation (no Active child, a spec change, a new
  dependency ceiling, or the schedule);
* :func:`cleanup` — which children expire, which are retired (their SLI left the spec) and which
  are pruned beyond ``historyLimit`` — computed on the states those changes leave behind;
* :func:`settle` — after a refresh found or made its child: whom to supersede, whether to
  activate it, or only to restamp the generation it serves;
* :func:`requeue_after` — when the next pass is needed (a refresh, an expiry, more history).

Pure: no I/O, no clock; children are the raw objects the apiserver returned.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

from sloreco import api
from sloreco.controller import children, expiry
from sloreco.controller import fleet as fleets
from sloreco.core import prior as beliefs
from sloreco.core import slis
from sloreco.spec import model as specs

Kids = Mapping[str, Sequence[api.Obj]]


@dataclasses.dataclass(frozen=True)
class Observed:
    """What a pass saw: the parsed spec, the parent's generation, its children by SLI (every
    name in ``api.SLIS`` is a key), the dependency ceiling, the time and the bucket."""

    spec: specs.ServiceLevelSpec
    generation: int
    kids: Kids
    ceiling: str | None
    now: float
    bucket_seconds: int
    #: The incident priors a new recommendation would be computed with now (the fleet's,
    #: ``controller.fleet.Fleet.priors``; none: the default).
    priors: tuple[beliefs.Prior, ...] = ()


def refresh_due(kids: Sequence[Mapping[str, Any]], observed: Observed) -> bool:
    """A new recommendation is due for one SLI's ``kids`` without an Active child, after a spec
    change, when the dependency ceiling moved (for kinds the ceiling caps), when a prior closer
    to it than the one it was computed under is now in force, or on schedule.

    Closer means of a narrower origin (``fleet.specificity``: the default, the source's fleet,
    the fleet it names), not relearned: a fleet's prior is relearned every few minutes, and
    refreshing every child each time would multiply the analyses; a relearned prior waits for
    the schedule. A fleet's first prior does not: without it a service waits out its
    ``refreshInterval`` (an hour by default, a day for some) under the default's tiers, which
    are far more cautious (README, "Calibration"). Never wider: a prior that is gone (a fleet
    that shrank, an operator that could not read its ConfigMap back) waits for the schedule
    too, rather than every child flipping to the default and back."""
    active = [c for c in kids if children.state(c) == children.ACTIVE]
    if not active:
        return True
    child = active[0]
    if children.computed_for_generation(child) != observed.generation:
        return True
    if (
        slis.get(children.sli_of(child)).traits.capped_by_dependencies
        and children.computed_under_ceiling(child) != observed.ceiling
    ):
        return True
    used = children.computed_under_prior(child)
    if used is not None and fleets.specificity(
        beliefs.for_scope(observed.priors, used.scope).origin
    ) > fleets.specificity(used.origin):
        return True
    return observed.now >= next_refresh(
        child, spec=observed.spec, bucket_seconds=observed.bucket_seconds
    )


def next_refresh(
    child: Mapping[str, Any], *, spec: specs.ServiceLevelSpec, bucket_seconds: int
) -> float:
    """When the Active child is next replaced: after ``refreshInterval``, and once a newer bucket
    exists (before that the same data would give the same content)."""
    return max(
        children.generated_at(child) + spec.refresh_seconds,
        children.data_end(child) + bucket_seconds,
    )


def refreshes(observed: Observed) -> tuple[str, ...]:
    """The configured SLIs that need a new recommendation now."""
    return tuple(sli for sli in observed.spec.slis if refresh_due(observed.kids[sli], observed))


@dataclasses.dataclass(frozen=True)
class Cleanup:
    """Child names, in the order the changes are made."""

    expire: tuple[str, ...] = ()
    retire: tuple[str, ...] = ()
    prune: tuple[str, ...] = ()


def cleanup(observed: Observed) -> Cleanup:
    """Expire overdue Active children, retire the Active/Pending children of SLIs no longer in
    the spec, and prune non-active children beyond ``historyLimit`` — counting the children the
    first two just retired (a pass leaves at most ``historyLimit`` non-active ones per SLI)."""
    expire: list[str] = []
    retire: list[str] = []
    prune: list[str] = []
    for sli in api.SLIS:
        kids: list[Mapping[str, Any]] = list(observed.kids[sli])
        if sli in observed.spec.slis:
            overdue = [_name(c) for c in expiry.overdue(kids, now=observed.now)]
            expire += overdue
            kids = [_with_state(c, children.EXPIRED) if _name(c) in overdue else c for c in kids]
        else:
            live = [_name(c) for c in kids if _live(c)]
            retire += live
            kids = [_with_state(c, children.SUPERSEDED) if _name(c) in live else c for c in kids]
        prune += [_name(c) for c in expiry.to_prune(kids, keep=observed.spec.history_limit)]
    return Cleanup(expire=tuple(expire), retire=tuple(retire), prune=tuple(prune))


@dataclasses.dataclass(frozen=True)
class Settle:
    """What makes ``keep`` the one Active child of its SLI."""

    supersede: tuple[str, ...] = ()
    #: The child to mark Active (None: it already is).
    activate: str | None = None
    #: An Active child with the same numbers after a spec change: record the generation it
    #: now serves, nothing else.
    restamp: str | None = None


def settle(kids: Sequence[Mapping[str, Any]], *, keep: str, generation: int) -> Settle:
    """The protocol of :mod:`.reconcile`: supersede every *other* Active or Pending child, then
    activate ``keep`` — or, when ``keep`` is Active already, only restamp its generation."""
    child = next(c for c in kids if _name(c) == keep)
    if children.state(child) == children.ACTIVE:
        stale = children.computed_for_generation(child) != generation
        return Settle(restamp=keep if stale else None)
    others = tuple(_name(c) for c in kids if _name(c) != keep and _live(c))
    return Settle(supersede=others, activate=keep)


def requeue_after(
    observed: Observed,
    *,
    waiting_for_data: Sequence[str] = (),
    retry_dependencies: int | None = None,
) -> int | None:
    """Seconds until the next pass is needed (0: at once), None if nothing is ever due."""
    waits: list[int] = []
    due = set(refreshes(observed))
    for sli in observed.spec.slis:
        kids = observed.kids[sli]
        if sli in waiting_for_data:
            waits.append(observed.spec.refresh_seconds)  # history grows slowly; next refresh
        elif sli in due:
            return 0
        active = [c for c in kids if children.state(c) == children.ACTIVE]
        if active:
            when = next_refresh(
                active[0], spec=observed.spec, bucket_seconds=observed.bucket_seconds
            )
            waits.append(math.ceil(when - observed.now))
        until_expiry = expiry.seconds_until_next(kids, now=observed.now)
        if until_expiry is not None:
            waits.append(until_expiry)
    if retry_dependencies is not None:
        waits.append(retry_dependencies)  # a dependency may get its observations soon
    return max(0, min(waits)) if waits else None


def _name(child: Mapping[str, Any]) -> str:
    return str(child["metadata"]["name"])


def _live(child: Mapping[str, Any]) -> bool:
    return children.state(child) in (children.ACTIVE, children.PENDING)


def _with_state(child: Mapping[str, Any], state: str) -> Mapping[str, Any]:
    return {**child, "status": {**(child.get("status") or {}), "state": state}}
