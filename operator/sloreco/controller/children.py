"""SloRecommendation manifests: deterministic names, owner references, our own labels.

Pure: the reconcile pass decides *what* to write from these values; ``kube`` writes them.

The name is ``<servicelevel>-<sli>-<hash of the spec>``. Because the data end is aligned to the
bucket and the statistics are seeded, a pass that crashes after creating its child and is retried
computes the same spec, so it re-finds the child by name (the create answers 409) instead of making
a duplicate (SPEC §2.3).

Labels are ours only: copying the parent's labels (kopf's ``adopt`` does) would make Argo CD treat
the children as part of the application and prune them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from sloreco import api
from sloreco.api import ANNOTATION_GENERATION, LABEL_SERVICE_LEVEL, LABEL_SLI, LABEL_STATE

ACTIVE, SUPERSEDED, EXPIRED = "Active", "Superseded", "Expired"
#: A child whose create landed but whose activation did not (a crash in between) has no state.
PENDING = ""
#: The state label of such a child (labels cannot be empty and say what ``kubectl -l`` matches).
PENDING_LABEL = "Pending"

#: Names are DNS subdomains: at most 253 characters (Kubernetes API conventions).
MAX_NAME = 253
#: 10 hex digits = 40 bits: a collision among one parent's few dozen children is not a concern.
HASH_LENGTH = 10

Obj = api.Obj


def canonical_json(doc: object) -> str:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


#: Spec fields that say *when* a recommendation was made, not *what* it says; the name ignores
#: them so a pass retried after a crash (a later clock, the same data) re-finds its child.
TIMING_FIELDS = ("generatedAt", "expiresAt")


def child_name(parent: str, sli: str, spec: Mapping[str, Any], *, revision: int = 0) -> str:
    """``<parent>-<sli>-<hash of the content>``; ``revision`` > 0 only when the same content
    comes back after its first child was retired (then it needs a new, equally stable name)."""
    content = {k: v for k, v in spec.items() if k not in TIMING_FIELDS}
    salt = f"#{revision}" if revision else ""
    digest = hashlib.sha256((canonical_json(content) + salt).encode()).hexdigest()[:HASH_LENGTH]
    prefix = f"{parent}-{sli}"[: MAX_NAME - HASH_LENGTH - 1].rstrip("-.")
    return f"{prefix}-{digest}"


def tier_summary(sli: str, tier: Mapping[str, Any], *, percentile: object = None) -> str:
    """The short form shown in ``kubectl get sloreco`` columns: the target for availability;
    for latency the objective as adopted — the share of requests within the tiers' one
    histogram bound, ``99.2% ≤ 500ms`` (issue 9). The interpolated P-quantile stays in the
    tier's ``threshold`` field, as information."""
    del sli, percentile  # the document says it; kept so every caller reads the same
    if tier.get("bucketBound") is not None:
        return f"{tier['target']}% ≤ {bound_text(str(tier['bucketBound']))}"
    return f"{tier['target']}%"


def bound_text(seconds: str) -> str:
    """A histogram bound for a column: milliseconds under a second (``500ms``), else seconds."""
    value = Decimal(seconds)
    if value < 1:
        return f"{(value * 1000).normalize():f}ms"
    return f"{value.normalize():f}s"


def child_spec(
    *,
    parent_name: str,
    service: str,
    recommendation: Mapping[str, Any],
    generated_at: float,
    ttl_seconds: int,
) -> Obj:
    """The immutable spec: the engine's document plus who it is for and when it expires."""
    sli = str(recommendation["sli"])
    percentile = recommendation.get("percentile")
    tiers = [
        {**tier, "summary": tier_summary(sli, tier, percentile=percentile)}
        for tier in recommendation["tiers"]
    ]
    return {
        "serviceLevel": parent_name,
        "service": service,
        **recommendation,
        "tiers": tiers,
        "generatedAt": api.rfc3339(generated_at),
        "expiresAt": api.rfc3339(generated_at + ttl_seconds),
    }


@dataclasses.dataclass(frozen=True)
class PriorUsed:
    """The incident prior a child was computed under: its origin, and the scope it was chosen
    for (``core.prior.for_scope``)."""

    origin: str
    scope: str


@dataclasses.dataclass(frozen=True)
class Under:
    """What a child was computed under, recorded in its annotations so that a pass can tell when
    it is stale (``plan.refresh_due``): the dependency ceiling, for the kinds it caps, and the
    incident prior."""

    ceiling: str | None = None
    prior: PriorUsed | None = None


def manifest(
    parent: Mapping[str, Any], *, spec: Obj, generation: int, name: str, under: Under = Under()
) -> Obj:
    """The new child, ``Pending``: labelled so, with no status (see :func:`entering`)."""
    meta = parent["metadata"]
    sli = str(spec["sli"])
    annotations = {api.ANNOTATION_GENERATION: str(generation)}
    if under.ceiling is not None:
        annotations[api.ANNOTATION_CEILING] = under.ceiling
    if under.prior is not None:
        annotations[api.ANNOTATION_PRIOR] = under.prior.origin
        annotations[api.ANNOTATION_PRIOR_SCOPE] = under.prior.scope
    return {
        "apiVersion": api.API_VERSION,
        "kind": "SloRecommendation",
        "metadata": {
            "name": name,
            "namespace": meta["namespace"],
            "labels": {
                LABEL_SERVICE_LEVEL: api.service_level_label(meta["name"]),
                LABEL_SLI: sli,
                LABEL_STATE: PENDING_LABEL,
            },
            "annotations": annotations,
            "ownerReferences": [
                {
                    "apiVersion": parent["apiVersion"],
                    "kind": parent["kind"],
                    "name": meta["name"],
                    "uid": meta["uid"],
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": spec,
    }


def entering(child: Obj, child_state: str, *, now: float) -> Obj:
    """``child`` (a manifest) created in ``child_state`` since ``now``: its label, and a status
    unless Pending (which has none)."""
    labels = {**child["metadata"]["labels"], LABEL_STATE: label(child_state)}
    entered = {**child, "metadata": {**child["metadata"], "labels": labels}}
    if child_state != PENDING:
        entered["status"] = state_status(child_state, now=now)
    return entered


def first_state(siblings: Iterable[Mapping[str, Any]]) -> str:
    """The state a new child is created in.

    When no sibling of its SLI is Active or Pending, the pass would activate the new child at
    once and supersede nothing (:func:`.plan.settle`), so it is created ``Active``: no state
    write follows, and a fleet's cold start costs one request per recommendation, the create
    (the kind has no status subresource for this: ``crds/slorecommendations.yaml``). Otherwise
    ``Pending``, activated only after the others are superseded: never two Active children.
    """
    live = any(state(c) in (ACTIVE, PENDING) for c in siblings)
    return PENDING if live else ACTIVE


def label(child_state: str) -> str:
    """The ``sloreco.dev/state`` label of a state (``kubectl get sloreco -l ...=Active``)."""
    return child_state or PENDING_LABEL


def state_status(
    child_state: str, *, now: float, superseded_by: str | None = None
) -> dict[str, str]:
    """The status that records ``child_state``, entered at ``now``."""
    status = {"state": child_state, "stateChangedAt": api.rfc3339(int(now))}
    if superseded_by:
        status["supersededBy"] = superseded_by
    return status


def state(child: Mapping[str, Any]) -> str:
    return str((child.get("status") or {}).get("state") or PENDING)


def sli_of(child: Mapping[str, Any]) -> str:
    return str(child["spec"]["sli"])


def generated_at(child: Mapping[str, Any]) -> float:
    return api.parse_rfc3339(child["spec"]["generatedAt"])


def data_end(child: Mapping[str, Any]) -> float:
    return api.parse_rfc3339(child["spec"]["lookback"]["end"])


def expires_at(child: Mapping[str, Any]) -> float:
    return api.parse_rfc3339(child["spec"]["expiresAt"])


def computed_under_ceiling(child: Mapping[str, Any]) -> str | None:
    annotations = child["metadata"].get("annotations") or {}
    value = annotations.get(api.ANNOTATION_CEILING)
    return str(value) if value is not None else None


def computed_under_prior(child: Mapping[str, Any]) -> PriorUsed | None:
    """The prior a child was computed under; None for a child made before children recorded it
    (such a child waits for its scheduled refresh, rather than every child of an upgraded
    operator being recomputed at once)."""
    annotations = child["metadata"].get("annotations") or {}
    origin, scope = (
        annotations.get(api.ANNOTATION_PRIOR),
        annotations.get(api.ANNOTATION_PRIOR_SCOPE),
    )
    if origin is None or scope is None:
        return None
    return PriorUsed(str(origin), str(scope))


def computed_for_generation(child: Mapping[str, Any]) -> int:
    annotations = child["metadata"].get("annotations") or {}
    return int(annotations.get(ANNOTATION_GENERATION, "0"))


def newest_first(children: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Newest data first; the name breaks ties so the order never depends on list order."""
    return sorted(children, key=lambda c: (-generated_at(c), str(c["metadata"]["name"])))


def active_targets(
    by_sli: Mapping[str, Iterable[Mapping[str, Any]]],
) -> tuple[tuple[str, str, Decimal], ...]:
    """``(sli, tier, target)`` of every Active child: what the metrics export after any pass,
    so an operator that restarted exports the recommendations it resumed, not only the ones it
    recomputed."""
    return tuple(
        (str(child["spec"]["sli"]), str(tier["name"]), Decimal(str(tier["target"])))
        for kids in by_sli.values()
        for child in kids
        if state(child) == ACTIVE
        for tier in child["spec"]["tiers"]
    )
