"""``openslo``: one OpenSLO v1 ``SLO`` per SLI, its ``SLI`` inline.

A ``ratioMetric`` over counters (``counter: true``: the consumer takes the rate): bad and total
for availability, good (the bucket at the tier's bound) and total (the ``+Inf`` bucket) for
latency, each a Prometheus ``metricSource`` whose query is the user's own selector. The window is
rolling, budgeting by occurrences (events, as sloreco counts them); OpenSLO's target is a ratio
(0.995), not a percent.
"""

from __future__ import annotations

from collections.abc import Sequence

from sloreco import api
from sloreco.render.exports import base

API_VERSION = "openslo/v1"
#: OpenSLO's limit on ``metadata.displayName``.
DISPLAY_NAME_MAX = 63


def _source(query: str) -> api.Obj:
    return {"metricSource": {"type": "Prometheus", "spec": {"query": query}}}


def ratio_metric(indicator: base.Indicator) -> api.Obj:
    if indicator.bad is not None:
        return {"counter": True, "bad": _source(indicator.bad), "total": _source(indicator.total)}
    if indicator.good is None:
        raise ValueError("an indicator needs bad or good events")
    return {"counter": True, "good": _source(indicator.good), "total": _source(indicator.total)}


class OpenSlo:
    """The ``openslo`` format (``base.Format``)."""

    name = "openslo"
    plain = False

    def render(self, slos: Sequence[base.Slo], target: base.Target) -> list[api.Obj]:
        docs: list[api.Obj] = []
        for slo in slos:
            objective = slo.objective
            name = base.slo_name(target, objective)
            docs.append(
                {
                    "apiVersion": API_VERSION,
                    "kind": "SLO",
                    "metadata": {
                        "name": name,
                        "displayName": f"{target.service} {objective.sli} ({objective.tier})"[
                            :DISPLAY_NAME_MAX
                        ],
                        "annotations": base.provenance(objective),
                    },
                    "spec": {
                        "description": (
                            f"{objective.describe()} (sloreco's {objective.tier} tier)"
                        ),
                        "service": target.service,
                        "indicator": {
                            "metadata": {"name": name},
                            "spec": {"ratioMetric": ratio_metric(slo.indicator)},
                        },
                        "timeWindow": [{"duration": objective.window, "isRolling": True}],
                        "budgetingMethod": "Occurrences",
                        "objectives": [
                            {"displayName": objective.tier, "target": float(objective.ratio)}
                        ],
                    },
                }
            )
        return docs


FORMAT = OpenSlo()
