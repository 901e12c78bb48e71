"""Adopt: keep the published objects of an adopted tier in step with the Active recommendations.

``spec.adopt: {tier, publish: [...]}`` asks the operator to write the tier, as ``sloreco export``
would, into one object per kind: a Prometheus Operator ``PrometheusRule``, Pyrra
``ServiceLevelObjective`` s (one per SLI) or a Sloth ``PrometheusServiceLevel``. Level-based, like
the rest of the pass: :func:`desired` computes the objects from the Active children (pure);
:func:`reconcile` compares them with what exists and writes only the difference —

* missing: created, owned by the ServiceLevel (controller owner reference, our labels);
* owned and different (a newer recommendation): merge-patched, guarded by ``resourceVersion``;
* owned and equal: left as it is (no write, so no event and no rule reload);
* not owned by this ServiceLevel (the user's own object of that name): left alone, and the
  ``Adopted`` condition says so;
* published before but no longer wanted (``publish`` shrank, ``adopt`` removed): deleted if owned.

The status records the adopted objective per SLI and where it went (``status.adopted``), and
nothing about when — so an idle pass changes nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from sloreco import api, errors
from sloreco.controller import children, context, status
from sloreco.render import exports
from sloreco.render.exports import base, document
from sloreco.spec import indicator
from sloreco.spec import model as specs

Obj = api.Obj

ADOPTED = status.ADOPTED


@dataclasses.dataclass(frozen=True)
class Kind:
    """A kind ``spec.adopt.publish`` can name: its export format and where its objects live."""

    format: str
    group: str
    version: str
    plural: str

    def path(self, namespace: str, name: str | None = None) -> str:
        tail = f"/{name}" if name else ""
        return f"/apis/{self.group}/{self.version}/namespaces/{namespace}/{self.plural}{tail}"


KINDS: Mapping[str, Kind] = {
    "PrometheusRule": Kind("prometheus-rule", "monitoring.coreos.com", "v1", "prometheusrules"),
    "ServiceLevelObjective": Kind("pyrra", "pyrra.dev", "v1alpha1", "servicelevelobjectives"),
    "PrometheusServiceLevel": Kind("sloth", "sloth.slok.dev", "v1", "prometheusservicelevels"),
}
#: The spec's selector fields, by the role ``spec.indicator`` reads them under.
FIELDS = {
    "total": "spec.availability.totalQuery",
    "errors": "spec.availability.errorQuery",
    "histogram": "spec.latency.histogram",
}


def objectives(
    spec: specs.ServiceLevelSpec, kids: Mapping[str, Sequence[Mapping[str, Any]]]
) -> list[base.Slo]:
    """The adopted tier of each configured SLI that has an Active recommendation."""
    if spec.adopt is None:
        return []
    selectors = {role: value for sel in spec.selectors().values() for role, value in sel.items()}
    found = []
    for sli in spec.slis:
        active = [c for c in kids.get(sli, ()) if children.state(c) == children.ACTIVE]
        if not active:
            continue
        child = active[0]
        objective = document.objective(
            child["spec"], tier=spec.adopt.tier, recommendation=child["metadata"]["name"]
        )
        found.append(base.Slo(objective, indicator.indicator(objective, selectors, fields=FIELDS)))
    return found


def desired(
    body: Mapping[str, Any], spec: specs.ServiceLevelSpec, slos: Sequence[base.Slo]
) -> list[tuple[str, Obj]]:
    """``(kind, object)`` for every object the adopted tier should be published as."""
    if spec.adopt is None or not slos:
        return []
    meta = body["metadata"]
    target = base.Target(name=meta["name"], service=spec.service, namespace=meta["namespace"])
    out: list[tuple[str, Obj]] = []
    for kind in spec.adopt.publish:
        for doc in exports.render(KINDS[kind].format, slos, target):
            doc["metadata"]["labels"][api.LABEL_SERVICE_LEVEL] = api.service_level_label(
                meta["name"]
            )
            doc["metadata"]["ownerReferences"] = [
                {
                    "apiVersion": body["apiVersion"],
                    "kind": body["kind"],
                    "name": meta["name"],
                    "uid": meta["uid"],
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ]
            out.append((kind, doc))
    return out


def owned_by(obj: Mapping[str, Any], body: Mapping[str, Any]) -> bool:
    uid = body["metadata"]["uid"]
    return any(ref.get("uid") == uid for ref in obj["metadata"].get("ownerReferences") or ())


def _differs(existing: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    """Whether the parts we manage differ: spec, our labels and annotations, owner references."""
    have, want = existing["metadata"], wanted["metadata"]
    return (
        children.canonical_json(existing.get("spec")) != children.canonical_json(wanted["spec"])
        or any((have.get("labels") or {}).get(k) != v for k, v in want["labels"].items())
        or any(
            (have.get("annotations") or {}).get(k) != v
            for k, v in (want.get("annotations") or {}).items()
        )
    )


@dataclasses.dataclass
class Result:
    """What adopting did this pass: the status block and the condition (None without adopt)."""

    adopted: Obj | None = None
    condition: status.Condition | None = None
    written: list[str] = dataclasses.field(default_factory=list)


async def reconcile(
    ctx: context.Context,
    body: Mapping[str, Any],
    spec: specs.ServiceLevelSpec,
    kids: Mapping[str, Sequence[Mapping[str, Any]]],
) -> Result:
    """Bring the published objects in line with the adopted tier; at most one write each."""
    namespace = body["metadata"]["namespace"]
    previous = ((body.get("status") or {}).get("adopted") or {}).get("published") or []
    result = Result()
    if spec.adopt is None:
        await _retire(ctx, body, previous, keep=set(), result=result)
        return result
    try:
        slos = objectives(spec, kids)
    except errors.InputError as exc:
        result.condition = status.Condition(ADOPTED, False, "CannotExport", str(exc))
        return result
    wanted = desired(body, spec, slos)
    published: list[Obj] = []
    problems: list[tuple[str, str]] = []
    for kind_name, doc in wanted:
        kind = KINDS[kind_name]
        name = doc["metadata"]["name"]
        path = kind.path(namespace, name)
        try:
            existing = await ctx.kube.get(path)
        except errors.NotFoundError:
            existing = None
        if existing is None:
            try:
                await ctx.kube.create(kind.path(namespace), doc)
            except errors.NotFoundError:
                problems.append(
                    (
                        "KindNotInstalled",
                        f"{kind_name} ({kind.group}/{kind.version}) is not installed",
                    )
                )
                continue
            except errors.ConflictError:
                problems.append(("Conflict", f"{kind_name} {name} appeared meanwhile; retrying"))
                continue
            result.written.append(f"{kind_name}/{name}")
        elif not owned_by(existing, body):
            problems.append(
                ("NameTaken", f"{kind_name} {name} exists and is not owned by this ServiceLevel")
            )
            continue
        elif _differs(existing, doc):
            patch = {
                "metadata": {
                    "resourceVersion": existing["metadata"]["resourceVersion"],
                    "labels": doc["metadata"]["labels"],
                    "annotations": doc["metadata"].get("annotations") or {},
                },
                "spec": doc["spec"],
            }
            await ctx.kube.merge_patch(path, patch)
            result.written.append(f"{kind_name}/{name}")
        published.append({"apiVersion": doc["apiVersion"], "kind": kind_name, "name": name})
    await _retire(
        ctx, body, previous, keep={(p["kind"], p["name"]) for p in published}, result=result
    )
    result.adopted = {
        "tier": spec.adopt.tier,
        "objectives": [_objective(s.objective) for s in slos],
        "published": published,
    }
    if problems:
        reason = problems[0][0]
        result.condition = status.Condition(
            ADOPTED, False, reason, "; ".join(text for _, text in problems) + "."
        )
    elif not slos:
        result.condition = status.Condition(
            ADOPTED, False, "NoRecommendation", "No Active recommendation to adopt yet."
        )
    else:
        where = ", ".join(f"{p['kind']} {p['name']}" for p in published)
        result.condition = status.Condition(
            ADOPTED, True, "Published", f"The {spec.adopt.tier} tier is published as {where}."
        )
    return result


def _objective(objective: base.Objective) -> Obj:
    out: Obj = {"sli": objective.sli, "target": str(objective.target), "window": objective.window}
    if objective.bucket_bound is not None:
        out["bucketBound"] = objective.bucket_bound
    if objective.recommendation is not None:
        out["recommendation"] = objective.recommendation
    return out


async def _retire(
    ctx: context.Context,
    body: Mapping[str, Any],
    previous: Sequence[Mapping[str, Any]],
    *,
    keep: set[tuple[str, str]],
    result: Result,
) -> None:
    """Delete what this ServiceLevel published before and no longer wants (only if it owns it)."""
    namespace = body["metadata"]["namespace"]
    for item in previous:
        kind = KINDS.get(str(item.get("kind")))
        if kind is None or (item["kind"], item["name"]) in keep:
            continue
        path = kind.path(namespace, str(item["name"]))
        try:
            existing = await ctx.kube.get(path)
        except errors.NotFoundError:
            continue
        if owned_by(existing, body):
            await ctx.kube.delete(path, resource_version=existing["metadata"]["resourceVersion"])
            result.written.append(f"-{item['kind']}/{item['name']}")
