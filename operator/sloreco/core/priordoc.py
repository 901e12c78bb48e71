"""A prior's JSON document: written from a ``prior.Prior``, and read back, parsed at the boundary.

``sloreco recommend --prior FILE`` and the operator's fleet-prior ConfigMap
(``controller.fleet``) hold what ``document`` wrote, or what a user wrote by hand. Every field is
checked here, once, and an error names it (``prior.size.tail.shape``), so that nothing past this
module sees an unchecked number. Writing and reading live together so that a field added to one
is seen missing from the other.
"""

from __future__ import annotations

import json
import math
from typing import Any

from sloreco import errors
from sloreco.core.fleetspells import FleetSpells
from sloreco.core.fleettrend import FleetGrowth
from sloreco.core.prior import ANY, Prior
from sloreco.core.sizeshape import DEFAULT_QUANTILES, DEFAULT_TAIL

#: Version of the JSON document (``kind: SlorecoPrior``); bump when fields change meaning.
DOCUMENT_VERSION = "sloreco.dev/v1alpha1"


def document(prior: Prior) -> dict[str, Any]:
    """The JSON document ``sloreco recommend --prior FILE`` reads (keys in a fixed order)."""
    p = prior
    return {
        "apiVersion": DOCUMENT_VERSION,
        "kind": "SlorecoPrior",
        "origin": p.origin,
        "scope": p.scope,
        **_incidents(p),
        **({} if p.background is None else {"background": _background(p.background)}),
        **({} if p.growth is None else {"growth": _growth(p.growth)}),
        **({} if p.larger is None else {"larger": _larger(p.larger, p.kind_from)}),
    }


def _incidents(p: Prior) -> dict[str, Any]:
    """A prior's incidents: how many it pooled from how many services, their rate and size."""
    return {
        "services": p.services,
        "incidents": p.incidents,
        "rate": {"shape": rounded(p.rate_shape), "days": rounded(p.rate_days)},
        "size": {
            "unit": "full-outage minutes (log)",
            "logMean": rounded(p.size_log_mean),
            "strength": rounded(p.size_strength),
            "shape": rounded(p.size_shape),
            "scale": rounded(p.size_scale),
            "quantiles": [rounded(v) for v in p.size_quantiles],
            "tail": {"scale": rounded(p.size_tail[0]), "shape": rounded(p.size_tail[1])},
            **({"largest": rounded(p.largest_minutes)} if p.largest_minutes else {}),
        },
    }


def _larger(kind: Prior, start: float) -> dict[str, Any]:
    """The document's ``larger``: a larger kind of incident (``sizekinds``), from ``from``
    (log full-outage minutes, as ``size.logMean``) up."""
    return {"from": rounded(start), **_incidents(kind)}


def dumps(prior: Prior) -> str:
    """``document`` as the text the operator's ConfigMap and ``sloreco prior`` write."""
    return json.dumps(document(prior), indent=2) + "\n"


def _background(fleet: FleetSpells) -> dict[str, Any]:
    """The document's ``background``: the fleet's drift (``fleetspells``)."""
    return {
        "unit": (
            "relative variance of the daily bad share; lag-one autocorrelation"
            + ("" if fleet.level is None else "; level: log of the mean bad share")
        ),
        "variance": rounded(fleet.variance),
        "freedom": rounded(fleet.freedom),
        "phi": rounded(fleet.phi),
        "phiWeight": rounded(fleet.phi_weight),
        "services": fleet.services,
        "kurtosis": rounded(fleet.kurtosis),
        **(
            {}
            if fleet.level is None
            else {
                "level": rounded(fleet.level),
                "levelSpread": rounded(fleet.level_spread),
                "levelNoise": rounded(fleet.level_noise),
            }
        ),
    }


def _growth(fleet: FleetGrowth) -> dict[str, Any]:
    """The document's ``growth``: how the fleet's backgrounds creep (``fleettrend``)."""
    return {
        "unit": "log of the background's level per day",
        "mean": rounded(fleet.mean),
        "spread": rounded(fleet.spread),
        "services": fleet.services,
        "steps": fleet.steps,
    }


def rounded(value: float) -> float:
    """Nine significant digits: stable bytes across platforms, finer than any estimate."""
    return float(f"{value:.9g}")


def loads(text: str) -> Prior:
    """A ``Prior`` from its JSON text; a clear error naming what is wrong otherwise."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise errors.InputError(f"not JSON: {exc.msg} at line {exc.lineno}", field="prior") from exc
    return from_document(document)


def from_document(document: object) -> Prior:
    """A ``Prior`` from its JSON document; a clear error naming the field otherwise."""
    if not isinstance(document, dict) or document.get("kind") != "SlorecoPrior":
        raise errors.InputError("not a SlorecoPrior document", field="prior.kind")
    rate, size = document.get("rate"), document.get("size")
    if not isinstance(rate, dict):
        raise errors.InputError("missing or not an object", field="prior.rate")
    if not isinstance(size, dict):
        raise errors.InputError("missing or not an object", field="prior.size")

    origin = document.get("origin", "file")
    # Before scopes, a document learned from a fleet was an availability fleet's, and one
    # written by hand applied to every SLI.
    scope = document.get(
        "scope", "availability" if _count(document, "services", "services") else ANY
    )
    if not isinstance(scope, str):
        raise errors.InputError("must be a string", field="prior.scope")
    larger, start = _read_larger(document.get("larger"), origin=origin, scope=scope)
    return Prior(
        **_read_incidents(document, rate, size, at=""),
        origin=origin if isinstance(origin, str) else "file",
        scope=scope,
        background=_read_background(document.get("background")),
        growth=_read_growth(document.get("growth")),
        larger=larger,
        kind_from=start,
    )


def _read_incidents(
    part: dict[str, Any], rate: dict[str, Any], size: dict[str, Any], *, at: str
) -> dict[str, Any]:
    """A ``Prior``'s incident fields from ``part`` and its ``rate`` and ``size`` (``at``: the
    fields' prefix in errors, ``larger.`` for a larger kind)."""
    quantiles = size.get("quantiles", list(DEFAULT_QUANTILES))
    if not isinstance(quantiles, list) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in quantiles
    ):
        raise errors.InputError("must be a list of numbers", field=f"prior.{at}size.quantiles")
    tail = size.get("tail", {"scale": DEFAULT_TAIL[0], "shape": DEFAULT_TAIL[1]})
    if not isinstance(tail, dict):
        raise errors.InputError("must be an object", field=f"prior.{at}size.tail")
    return {
        "rate_shape": _number(rate, "shape", f"{at}rate.shape"),
        "rate_days": _number(rate, "days", f"{at}rate.days"),
        "size_log_mean": _number(size, "logMean", f"{at}size.logMean"),
        "size_strength": _number(size, "strength", f"{at}size.strength"),
        "size_shape": _number(size, "shape", f"{at}size.shape"),
        "size_scale": _number(size, "scale", f"{at}size.scale"),
        "services": _count(part, "services", f"{at}services"),
        "incidents": _count(part, "incidents", f"{at}incidents"),
        "size_quantiles": tuple(float(v) for v in quantiles),
        "size_tail": (
            _number(tail, "scale", f"{at}size.tail.scale"),
            _number(tail, "shape", f"{at}size.tail.shape"),
        ),
        "largest_minutes": (
            _number(size, "largest", f"{at}size.largest") if "largest" in size else 0.0
        ),
    }


def _read_larger(part: object, *, origin: object, scope: str) -> tuple[Prior | None, float]:
    """``larger`` of a document (``sizekinds``); absent (one kind, documents before method
    v28): None."""
    if part is None:
        return None, math.inf
    if not isinstance(part, dict):
        raise errors.InputError("must be an object", field="prior.larger")
    start = _number(part, "from", "larger.from")
    if not math.isfinite(start):
        raise errors.InputError(f"must be a finite number, got {start}", field="prior.larger.from")
    rate, size = part.get("rate"), part.get("size")
    if not isinstance(rate, dict):
        raise errors.InputError("missing or not an object", field="prior.larger.rate")
    if not isinstance(size, dict):
        raise errors.InputError("missing or not an object", field="prior.larger.size")
    fields = _read_incidents(part, rate, size, at="larger.")
    try:
        kind = Prior(**fields, origin=origin if isinstance(origin, str) else "file", scope=scope)
    except errors.InputError as exc:  # its checks name the top-level fields
        field = (exc.field or "prior").replace("prior.", "prior.larger.", 1)
        raise errors.InputError(exc.reason, field=field) from exc
    return kind, start


def _read_background(part: object) -> FleetSpells | None:
    """``background`` of a document; absent (older documents, the default's): None."""
    if part is None:
        return None
    if not isinstance(part, dict):
        raise errors.InputError("must be an object", field="prior.background")
    values = {}
    for key, low, high in (
        ("variance", 0.0, math.inf),
        ("freedom", 1.0, math.inf),
        ("phi", 0.0, 1.0),
        ("phiWeight", 0.0, math.inf),
    ):
        value = _number(part, key, f"background.{key}")
        if not (math.isfinite(value) and low <= value <= high):
            raise errors.InputError(
                f"must be a finite number in [{low:g}, {high:g}], got {value}",
                field=f"prior.background.{key}",
            )
        values[key] = value
    # Absent in documents written before it was kept: normal days, as those were read.
    kurtosis = _number(part, "kurtosis", "background.kurtosis") if "kurtosis" in part else 3.0
    if not (math.isfinite(kurtosis) and kurtosis >= 1.0):
        raise errors.InputError(
            f"must be a finite number >= 1 (a kurtosis), got {kurtosis}",
            field="prior.background.kurtosis",
        )
    level, spread, noise = _read_level(part)
    return FleetSpells(
        variance=values["variance"],
        freedom=values["freedom"],
        phi=values["phi"],
        phi_weight=values["phiWeight"],
        services=_count(part, "services", "background.services"),
        kurtosis=kurtosis,
        level=level,
        level_spread=spread,
        level_noise=noise,
    )


def _read_level(part: dict[str, Any]) -> tuple[float | None, float, float]:
    """``background.level`` (the mean log level of the fleet's services), ``levelSpread`` (a
    service's level's variance about it) and ``levelNoise`` (how poorly a history of them knows
    its own, on average); the first two absent in documents written before method v25, whose
    services each keep their own level, the last before v26, which counted each history's own
    noise as it read it."""
    if "level" not in part:
        return None, 0.0, 0.0
    level = _number(part, "level", "background.level")
    if not math.isfinite(level) or level >= 0:
        raise errors.InputError(
            f"must be a finite negative number (the log of a bad share), got {level}",
            field="prior.background.level",
        )
    spread = _number(part, "levelSpread", "background.levelSpread")
    if not (math.isfinite(spread) and spread > 0):
        raise errors.InputError(
            f"must be a finite positive number (a variance), got {spread}",
            field="prior.background.levelSpread",
        )
    noise = _number(part, "levelNoise", "background.levelNoise") if "levelNoise" in part else 0.0
    if not (math.isfinite(noise) and noise >= 0):
        raise errors.InputError(
            f"must be a finite number >= 0 (a variance), got {noise}",
            field="prior.background.levelNoise",
        )
    return level, spread, noise


def _read_growth(part: object) -> FleetGrowth | None:
    """``growth`` of a document; absent (older documents, the default's): None."""
    if part is None:
        return None
    if not isinstance(part, dict):
        raise errors.InputError("must be an object", field="prior.growth")
    mean = _number(part, "mean", "growth.mean")
    if not math.isfinite(mean):
        raise errors.InputError(f"must be a finite number, got {mean}", field="prior.growth.mean")
    spread = _number(part, "spread", "growth.spread")
    if not (math.isfinite(spread) and spread > 0):
        raise errors.InputError(
            f"must be a positive number, got {spread}", field="prior.growth.spread"
        )
    return FleetGrowth(
        mean,
        spread,
        _count(part, "services", "growth.services"),
        _count(part, "steps", "growth.steps"),  # absent from older documents: 0
    )


def _number(part: dict[str, Any], key: str, field: str) -> float:
    """``part[key]`` as a number; an error naming ``prior.<field>`` otherwise."""
    value = part.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise errors.InputError("missing or not a number", field=f"prior.{field}")
    return float(value)


def _count(part: dict[str, Any], key: str, field: str) -> int:
    """``part[key]`` (0 when absent) as a non-negative integer; an error naming it otherwise."""
    value = part.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise errors.InputError("must be a non-negative integer", field=f"prior.{field}")
    return value
