"""A recommendation document, parsed once: the tier a user adopts as a ``base.Objective``.

Accepts what ``sloreco recommend --output json|yaml`` prints, a ``SloRecommendation`` as
``kubectl get sloreco NAME -o yaml`` prints it, or a ``List`` of them; every problem is an
``errors.InputError`` naming the field, so the CLI exits 2 with one line.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from sloreco import api, errors
from sloreco.render.exports.base import Objective


def recommendations(doc: object) -> tuple[list[Mapping[str, Any]], dict[str, str]]:
    """The recommendation specs in ``doc`` and what the document says about them.

    ``doc`` is what ``sloreco recommend --output json|yaml`` prints (``{"recommendations":
    [...]}``), a ``SloRecommendation`` as ``kubectl get sloreco NAME -o yaml`` prints it, or a
    ``List`` of them. The second value holds ``service`` and, for an object, ``recommendation``
    (its name) and ``serviceLevel``.
    """
    if not isinstance(doc, Mapping):
        raise errors.InputError("not a recommendation: expected a JSON or YAML object")
    if doc.get("kind") == "List" or (doc.get("kind") is None and "items" in doc):
        items = doc.get("items")
        if not isinstance(items, list) or not items:
            raise errors.InputError("a List with no SloRecommendation in it", field="items")
        specs: list[Mapping[str, Any]] = []
        about: dict[str, str] = {}
        for i, item in enumerate(items):
            found, meta = _object(item, field=f"items[{i}]")
            specs.append(found)
            about = about or meta
        return specs, about
    if "kind" in doc or "apiVersion" in doc:
        spec, meta = _object(doc, field="")
        return [spec], meta
    recs = doc.get("recommendations")
    if not isinstance(recs, list):
        raise errors.InputError(
            "not a recommendation: expected 'recommendations' (sloreco recommend --output json) "
            "or a SloRecommendation",
            field="recommendations",
        )
    if not recs:
        raise errors.InputError("the document holds no recommendation", field="recommendations")
    about = {"service": str(doc["service"])} if isinstance(doc.get("service"), str) else {}
    return [_mapping(r, field=f"recommendations[{i}]") for i, r in enumerate(recs)], about


def _object(doc: object, *, field: str) -> tuple[Mapping[str, Any], dict[str, str]]:
    prefix = f"{field}." if field else ""
    item = _mapping(doc, field=field or "document")
    if item.get("kind") != "SloRecommendation" or item.get("apiVersion") != api.API_VERSION:
        raise errors.InputError(
            f"not a SloRecommendation (kind {item.get('kind')!r}, "
            f"apiVersion {item.get('apiVersion')!r})",
            field=f"{prefix}kind",
        )
    spec = _mapping(item.get("spec"), field=f"{prefix}spec")
    raw_meta = item.get("metadata")
    meta: Mapping[str, Any] = raw_meta if isinstance(raw_meta, Mapping) else {}
    about = {
        key: str(value)
        for key, value in (
            ("recommendation", meta.get("name")),
            ("service", spec.get("service")),
            ("serviceLevel", spec.get("serviceLevel")),
        )
        if isinstance(value, str)
    }
    return spec, about


def _mapping(value: object, *, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise errors.InputError("must be an object", field=field)
    return value


def objective(
    spec: Mapping[str, Any], *, tier: str, recommendation: str | None = None
) -> Objective:
    """The tier called ``tier`` of one recommendation spec; ``InputError`` naming the field."""
    sli = spec.get("sli")
    if not isinstance(sli, str) or sli not in api.SLIS:
        raise errors.InputError(f"unknown SLI {sli!r}; known: {', '.join(api.SLIS)}", field="sli")
    window = spec.get("window")
    if not isinstance(window, str) or not window:
        raise errors.InputError("missing", field=f"{sli}.window")
    tiers = spec.get("tiers")
    if not isinstance(tiers, list):
        raise errors.InputError("missing", field=f"{sli}.tiers")
    chosen = next((t for t in tiers if isinstance(t, Mapping) and t.get("name") == tier), None)
    if chosen is None:
        names = [str(t.get("name")) for t in tiers if isinstance(t, Mapping)]
        raise errors.InputError(
            f"no tier {tier!r} in the {sli} recommendation (it has {', '.join(names)})",
            field="--tier",
        )
    field = f"{sli}.tiers[{tier}]"
    target = _percent(chosen.get("target"), field=f"{field}.target")
    bound = chosen.get("bucketBound")
    if sli == "latency":
        if not isinstance(bound, str) or not _finite(bound):
            raise errors.InputError(
                f"a latency tier needs a finite histogram bound, got {bound!r}",
                field=f"{field}.bucketBound",
            )
    else:
        bound = None
    lookback = spec.get("lookback")
    method = spec.get("method")
    return Objective(
        sli=sli,
        tier=tier,
        target=target,
        window=window,
        bucket_bound=bound,
        percentile=str(spec["percentile"]) if spec.get("percentile") is not None else None,
        recommendation=recommendation,
        data_end=str(lookback["end"])
        if isinstance(lookback, Mapping) and "end" in lookback
        else None,
        method=(
            f"{method.get('name')}/{method.get('version')}"
            if isinstance(method, Mapping) and "name" in method
            else None
        ),
    )


def _percent(value: object, *, field: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise errors.InputError(f"not a percentage: {value!r}", field=field) from None
    if not number.is_finite() or not 0 < number < 100:
        raise errors.InputError(f"must be between 0 and 100 exclusive, got {value}", field=field)
    return number


def _finite(text: str) -> bool:
    try:
        return Decimal(text).is_finite() and Decimal(text) > 0
    except InvalidOperation:
        return False
