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
from sloreco.core import durations

#: Condition types in the order they are written (a fixed order keeps the status byte-stable).
READY = "Ready"
DATA_SUFFICIENT = "DataSufficient"
SOURCE_REACHABLE = "SourceReachable"
DEPENDENCIES_RESOLVED = "DependenciesResolved"
OBJECTIVE_UNACHIEVABLE = "ObjectiveUnachievable"
#: Only with ``spec.adopt``: whether the adopted tier is published (``controller.adopt``).
ADOPTED = "Adopted"
DEGRADED = "Degraded"
ORDER = (
    READY,
    DATA_SUFFICIENT,
    SOURCE_REACHABLE,
    DEPENDENCIES_RESOLVED,
    OBJECTIVE_UNACHIEVABLE,
    ADOPTED,
    DEGRADED,
)
#: Conditions whose False means something is wrong (ObjectiveUnachievable is wrong when True).
HEALTHY_WHEN_TRUE = (READY, DATA_SUFFICIENT, SOURCE_REACHABLE, DEPENDENCIES_RESOLVED, ADOPTED)

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


def is_new(body: Mapping[str, Any], condition: Condition) -> bool:
    """Whether ``condition`` differs from the one stored on ``body`` (worth an event)."""
    for stored in (body.get("status") or {}).get("conditions") or ():
        if stored.get("type") == condition.type:
            return (
                stored.get("status") == "True",
                stored.get("reason"),
                stored.get("message"),
            ) != (
                condition.status,
                condition.reason,
                condition.message,
            )
    return True


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


def _active(sli: str, by_sli: Mapping[str, Sequence[Mapping[str, Any]]]) -> Mapping[str, Any]:
    """The Active child's spec for ``sli``, or an empty mapping."""
    for child in by_sli.get(sli, ()):
        if children.state(child) == children.ACTIVE:
            return dict(child["spec"])
    return {}


#: Reasons of ``ObjectiveUnachievable=True`` by ``core.objective`` cause.
UNACHIEVABLE_REASONS = {
    "ceiling": "AboveDependencyCeiling",
    "backtest": "MostPastWindowsMissed",
    "predicted": "LikelyMissed",
}


def objective(
    slis: Sequence[str],
    by_sli: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    ceiling: str | None,
    likely_limit: float,
) -> Condition | None:
    """How the current objective fares, read from the Active children's explanation.

    The verdict is the engine's (``explanation.currentObjective.achievable`` and
    ``unachievableBecause``), so the condition and the explanation always agree; the message
    gives the numbers behind it. None when no Active child reports on a current objective.
    """
    sentences: list[tuple[bool, str, str]] = []
    for sli in slis:
        spec = _active(sli, by_sli)
        report = (spec.get("explanation") or {}).get("currentObjective")
        if not report:
            continue
        cause = report.get("unachievableBecause")
        achievable = bool(report.get("achievable", True))
        backtest = report.get("backtest") or {}
        evaluations, breaches = backtest.get("evaluations", 0), backtest.get("breaches", 0)
        probability = float(report.get("breachProbability", 0))
        window = spec.get("window", "")
        if "availability" in report:
            what = f"{sli} objective {report['availability']}%"
        else:
            latency = report.get("latency") or {}
            what = f"{sli} objective {latency.get('target')}% within {latency.get('threshold')}s"
        tested = (
            f"missed in {breaches} of {evaluations} past {window} windows"
            if evaluations
            else "not backtested yet (history too short)"
        )
        numbers = (
            f"{tested}; predicted to miss {probability * 100:.2f}% of future windows "
            f"(unachievable above {likely_limit * 100:g}%)"
        )
        if cause == "ceiling":
            numbers = f"above the hard dependencies' ceiling {ceiling}%; " + numbers
        verdict = "unachievable" if not achievable else "achievable"
        reason = UNACHIEVABLE_REASONS.get(str(cause), "Unachievable") if not achievable else ""
        sentences.append((not achievable, reason, f"{what} is {verdict}: {numbers}"))
    if not sentences:
        return None
    failing = [s for s in sentences if s[0]]
    message = "; ".join(text for _, _, text in (failing or sentences)) + "."
    message = message[0].upper() + message[1:]
    if failing:
        return Condition(OBJECTIVE_UNACHIEVABLE, True, failing[0][1], message)
    return Condition(OBJECTIVE_UNACHIEVABLE, False, "Achievable", message)


def data_quality(
    current: Condition | None,
    slis: Sequence[str],
    by_sli: Mapping[str, Sequence[Mapping[str, Any]]],
) -> Condition | None:
    """``DataSufficient`` with low confidence made visible.

    A recommendation made from less history than one window is still made (SPEC §3.1), so the
    condition stays True, with reason ``LowConfidence`` and the days found and wanted; a False
    condition (too little history, no series) is kept as the pass determined it.
    """
    if current is not None and not current.status:
        return current
    short = []
    for sli in slis:
        quality = _active(sli, by_sli).get("dataQuality") or {}
        if quality.get("lowConfidence"):
            window = str(_active(sli, by_sli).get("window", "0d"))
            wanted = durations.parse(window, field="window") // 86400
            days = str(quality.get("daysAnalysed", "?"))
            short.append(
                f"{sli}: {days} days of history, fewer than one {window} window ({wanted} days)"
            )
    if short:
        return Condition(
            DATA_SUFFICIENT,
            True,
            "LowConfidence",
            "; ".join(short) + ": simulated windows reuse the same days, so the tiers are "
            "low-confidence.",
        )
    if current is None:
        return None
    return Condition(
        DATA_SUFFICIENT, True, "EnoughHistory", "Enough history for every configured SLI."
    )


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
    if "summary" in tier:  # kubectl get svclevel shows it (the child's own column text)
        summary["summary"] = tier["summary"]
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
