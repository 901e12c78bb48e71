"""``pyrra``: one Pyrra ``ServiceLevelObjective`` (``pyrra.dev/v1alpha1``) per SLI.

Pyrra writes its own recording rules and burn-rate alerts from ``target`` and ``window``; the
export gives it the objective and the indicator. Availability is a ``ratio`` indicator (errors
over total); latency a ``latency`` indicator whose ``success`` is the histogram bucket at the
tier's bound and whose ``total`` is the histogram's ``_count``, the two series Pyrra's admission
webhook expects (``le`` with a number; a ``_count`` total, else it warns).
"""

from __future__ import annotations

from collections.abc import Sequence

from sloreco import api
from sloreco.render.exports import base

API_VERSION = "pyrra.dev/v1alpha1"


def indicator(slo: base.Slo) -> api.Obj:
    found = slo.indicator
    if found.bad is not None:
        return {"ratio": {"errors": {"metric": found.bad}, "total": {"metric": found.total}}}
    if found.good is None or found.count is None:
        raise ValueError("a latency indicator needs good and count selectors")
    return {"latency": {"success": {"metric": found.good}, "total": {"metric": found.count}}}


class Pyrra:
    """The ``pyrra`` format (``base.Format``)."""

    name = "pyrra"
    plain = False

    def render(self, slos: Sequence[base.Slo], target: base.Target) -> list[api.Obj]:
        return [
            {
                "apiVersion": API_VERSION,
                "kind": "ServiceLevelObjective",
                "metadata": base.metadata(
                    target,
                    base.slo_name(target, slo.objective),
                    [slo.objective],
                    annotations=base.provenance(slo.objective),
                ),
                "spec": {
                    "description": (
                        f"{target.service} {slo.objective.sli}: {slo.objective.describe()} "
                        f"(sloreco's {slo.objective.tier} tier)"
                    ),
                    "target": base.number(slo.objective.target),
                    "window": slo.objective.window,
                    "indicator": indicator(slo),
                },
            }
            for slo in slos
        ]


FORMAT = Pyrra()
