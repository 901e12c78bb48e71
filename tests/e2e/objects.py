"""The sample ServiceLevels as the end-to-end run expects to see them reconciled.

Read from ``deploy/samples/`` rather than listed here, so a new sample is covered without an edit.
"""

from __future__ import annotations

from typing import Any

import yaml

from sloreco import api
from sloreco.controller import children
from tests.e2e import kind

Obj = dict[str, Any]


def expected_slis() -> dict[str, tuple[str, ...]]:
    """ServiceLevel name -> the SLIs its sample configures."""
    found: dict[str, tuple[str, ...]] = {}
    for path in sorted(kind.SAMPLES.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc.get("kind") == "ServiceLevel":
                spec = doc["spec"]
                found[doc["metadata"]["name"]] = tuple(sli for sli in api.SLIS if spec.get(sli))
    return found


def ready(sl: Obj) -> bool:
    """Ready=True for the ServiceLevel's current generation."""
    status = sl.get("status") or {}
    conditions = {c["type"]: c for c in status.get("conditions") or []}
    return (
        status.get("observedGeneration") == sl["metadata"]["generation"]
        and conditions.get("Ready", {}).get("status") == "True"
    )


def active_children(items: list[Obj], name: str) -> dict[str, list[Obj]]:
    """SLI -> the Active SloRecommendations of ServiceLevel ``name`` among ``items``."""
    out: dict[str, list[Obj]] = {}
    for child in items:
        labels = child["metadata"].get("labels") or {}
        if labels.get(api.LABEL_SERVICE_LEVEL) == name and children.state(child) == "Active":
            out.setdefault(children.sli_of(child), []).append(child)
    return out


def describe(servicelevels: list[Obj], recommendations: list[Obj]) -> str:
    """One line per ServiceLevel: its Active SLIs and conditions (for timeout messages)."""
    lines = []
    for sl in servicelevels:
        name = sl["metadata"]["name"]
        conditions = (sl.get("status") or {}).get("conditions") or []
        shown = "; ".join(
            f"{c['type']}={c['status']} ({c.get('reason')}: {c.get('message')})" for c in conditions
        )
        active = sorted(active_children(recommendations, name))
        lines.append(f"{name}: Active for {active}; {shown or 'no status yet'}")
    return "\n".join(lines)
