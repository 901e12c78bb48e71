"""The ServiceLevel status, computed whole from what a pass observed (pure).

The status is a function of the children and of the conditions the pass determined; nothing in it
records *when the pass ran*. That is what makes identical inputs produce byte-identical status,
so an idle pass sends no patch and fires no watch event (SPEC §2.2). ``lastTransitionTime`` moves
only when a condition's status flips (Kubernetes API conventions for metav1.Condition).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from sloreco import api
from sloreco.controller import children

#: Condition types in the order they are written (a fixed order keeps the status byte-stable).
READY = "Ready"
DATA_SUFFICIENT = "DataSufficient"
SOURCE_REACHABLE = "SourceReachable"
DEPENDENCIES_RESOLVED = "DependenciesResolved"
OBJECTIVE_UNACHIEVABLE = "ObjectiveUnachievable"
DEGRADED = "Degraded"
ORDER = (
    READY,
    DATA_SUFFICIENT,
    SOURCE_REACHABLE,
    DEPENDENCIES_RESOLVED,
    OBJECTIVE_UNACHIEVABLE,
    DEGRADED,
)
#: Conditions whose False means something is wrong (ObjectiveUnachievable is wrong when True).
HEALTHY_WHEN_TRUE = (READY, DATA_SUFFICIENT, SOURCE_REACHABLE, DEPENDENCIES_RESOLVED)

Obj = api.Obj


@dataclasses.dataclass(frozen=True)
class Condition:
    type: str
    status: bool
    reason: str
    message: str


def merge_conditions(
    previous: Sequence[Mapping[str, Any]],
    current: Sequence[Condition],
    *,
    generation: int,
    now: str,
) -> list[Obj]:
    """metav1.Conditions in a fixed order; transition times survive unless the status flips."""
    before = {str(c.get("type")): c for c in previous}
    out = []
    for condition in sorted(current, key=lambda c: ORDER.index(c.type)):
        status = "True" if condition.status else "False"
        old = before.get(condition.type)
        since = old.get("lastTransitionTime") if old and old.get("status") == status else None
        out.append(
            {
                "type": condition.type,
                "status": status,
                "reason": condition.reason,
                "message": condition.message,
                "lastTransitionTime": since or now,
                "observedGeneration": generation,
            }
        )
    return out


def degraded(conditions: Sequence[Condition]) -> Condition:
    problems = [
        c
        for c in conditions
        if (c.type in HEALTHY_WHEN_TRUE and not c.status)
        or (c.type == OBJECTIVE_UNACHIEVABLE and c.status)
    ]
    if not problems:
        return Condition(DEGRADED, False, "AsExpected", "Nothing is wrong.")
    first = problems[0]
    return Condition(DEGRADED, True, first.reason, first.message)


def ready(
    slis: Sequence[str], by_sli: Mapping[str, Sequence[Mapping[str, Any]]], *, why_not: str
) -> Condition:
    """Ready when every configured SLI has an Active child; otherwise say why per SLI."""
    missing = []
    reason = "RecommendationMissing"
    for sli in slis:
        states = {children.state(c) for c in by_sli.get(sli, ())}
        if children.ACTIVE in states:
            continue
        if children.EXPIRED in states:
            reason = "RecommendationExpired"
            missing.append(f"the {sli} recommendation expired before it could be refreshed")
        else:
            missing.append(f"no {sli} recommendation yet")
    if not missing:
        return Condition(READY, True, "RecommendationsCurrent", "Every SLI has a current one.")
    message = "; ".join(missing) + (f" ({why_not})" if why_not else "") + "."
    return Condition(READY, False, reason, message[0].upper() + message[1:])


def recommendations(
    slis: Sequence[str], by_sli: Mapping[str, Sequence[Mapping[str, Any]]], *, history: int
) -> list[Obj]:
    """Per SLI: the Active child's summary and the last few non-active ones (newest first)."""
    out = []
    for sli in slis:
        ordered = children.newest_first(by_sli.get(sli, ()))
        active = [c for c in ordered if children.state(c) == children.ACTIVE]
        others = [
            c for c in ordered if children.state(c) in (children.SUPERSEDED, children.EXPIRED)
        ]
        entry: Obj = {"sli": sli}
        if active:
            spec = active[0]["spec"]
            entry.update(
                name=active[0]["metadata"]["name"],
                generatedAt=spec["generatedAt"],
                expiresAt=spec["expiresAt"],
                tiers=[_tier_summary(t) for t in spec["tiers"]],
            )
        entry["superseded"] = [
            {
                "name": c["metadata"]["name"],
                "generatedAt": c["spec"]["generatedAt"],
                "state": children.state(c),
            }
            for c in others[:history]
        ]
        out.append(entry)
    return out


def _tier_summary(tier: Mapping[str, Any]) -> Obj:
    summary = {"name": tier["name"], "target": tier["target"]}
    if "bucketBound" in tier:
        summary["bucketBound"] = tier["bucketBound"]
    return summary


def observed(slis: Sequence[str], by_sli: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[Obj]:
    """What history showed, taken from the Active child (so an idle pass recomputes nothing)."""
    out = []
    for sli in slis:
        active = [c for c in by_sli.get(sli, ()) if children.state(c) == children.ACTIVE]
        if not active:
            continue
        spec = active[0]["spec"]
        quality = spec.get("dataQuality") or {}
        windows = (spec.get("explanation") or {}).get("observed") or {}
        entry: Obj = {
            "sli": sli,
            "coverage": quality.get("coverage"),
            "daysAnalysed": quality.get("daysAnalysed"),
            "lowConfidence": bool(quality.get("lowConfidence", False)),
        }
        for key in ("worst", "median", "best"):
            if windows.get(key) is not None:
                entry[key] = windows[key]
        out.append({k: v for k, v in entry.items() if v is not None})
    return out


def build(
    *,
    generation: int,
    conditions: list[Obj],
    recommendations: list[Obj],
    observed: list[Obj],
    ceiling: str | None,
) -> Obj:
    status: Obj = {
        "observedGeneration": generation,
        "conditions": conditions,
        "recommendations": recommendations,
        "observed": observed,
    }
    if ceiling is not None:
        status["ceiling"] = ceiling
    return status
