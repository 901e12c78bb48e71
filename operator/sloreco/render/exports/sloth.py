"""``sloth``: a Sloth ``PrometheusServiceLevel`` (``sloth.slok.dev/v1``), or with ``--plain``
Sloth's ``prometheus/v1`` spec file for ``sloth generate``.

One Sloth SLO per SLI, as "events" (bad and total queries with Sloth's ``{{.window}}``). The SLO
period is not part of Sloth's spec: Sloth takes it from ``--default-slo-period`` (30d unless told)
and has windows for 28d and 30d built in, so the object says the recommendation's window in an
annotation and in the description, and a 28d recommendation wants ``--default-slo-period=28d``.
Sloth derives its burn rates from the share of the budget per alert window of that period; for
30 days they are exactly the SRE Workbook's (14.4x, 6x, 3x, 1x).
"""

from __future__ import annotations

from collections.abc import Sequence

from sloreco import api
from sloreco.render.exports import base, prometheusrule

API_VERSION = "sloth.slok.dev/v1"
PLAIN_VERSION = "prometheus/v1"
#: Sloth's template variable for the query window.
WINDOW = "{{.window}}"


def events(indicator: base.Indicator) -> tuple[str, str]:
    """``(error query, total query)`` with Sloth's window variable."""
    total = base.rate(indicator.total, WINDOW)
    if indicator.bad is not None:
        return f"({base.rate(indicator.bad, WINDOW)} or vector(0))", total
    if indicator.good is None:
        raise ValueError("an indicator needs bad or good events")
    return f"{total} - {base.rate(indicator.good, WINDOW)}", total


def slo(item: base.Slo, target: base.Target) -> api.Obj:
    """One entry of ``slos``, in the Kubernetes spelling (camelCase)."""
    objective = item.objective
    bad, total = events(item.indicator)
    return {
        "name": objective.sli,
        "objective": float(objective.target),
        "description": (
            f"{objective.describe()}; sloreco's {objective.tier} tier "
            f"(SLO period {objective.window})"
        ),
        "labels": prometheusrule.series_labels(item, target),
        "sli": {"events": {"errorQuery": bad, "totalQuery": total}},
        "alerting": {
            "name": prometheusrule.ALERT,
            # The SLO's labels reach only the recording rules; without its name here the two
            # SLIs' alerts are duplicates to ``promtool check rules``.
            "labels": {
                "sloreco_slo": base.slo_name(target, objective),
                "sloreco_tier": objective.tier,
            },
            "annotations": {
                "summary": f"{target.service} {objective.sli} is burning its error budget",
                **prometheusrule.rule_annotations(objective),
            },
            "pageAlert": {"labels": {"severity": base.PAGE.name}},
            "ticketAlert": {"labels": {"severity": base.TICKET.name}},
        },
    }


#: camelCase keys of the Kubernetes spec and their snake_case in the plain ``prometheus/v1`` file.
_PLAIN_KEYS = {
    "errorQuery": "error_query",
    "totalQuery": "total_query",
    "pageAlert": "page_alert",
    "ticketAlert": "ticket_alert",
}


def _plain(value: object) -> object:
    if isinstance(value, dict):
        return {_PLAIN_KEYS.get(k, k): _plain(v) for k, v in value.items()}
    return value


class Sloth:
    """The ``sloth`` format (``base.Format``)."""

    name = "sloth"
    plain = True

    def render(self, slos: Sequence[base.Slo], target: base.Target) -> list[api.Obj]:
        objectives = [s.objective for s in slos]
        tiers = {o.tier for o in objectives}
        labels = {"sloreco_tier": next(iter(tiers))} if len(tiers) == 1 else {}
        entries = [slo(item, target) for item in slos]
        if target.plain:
            return [
                {
                    "version": PLAIN_VERSION,
                    "service": target.service,
                    "labels": labels,
                    "slos": [_plain(e) for e in entries],
                }
            ]
        annotations = {"sloreco.dev/window": ",".join(sorted({o.window for o in objectives}))}
        if len(objectives) == 1:
            annotations.update(base.provenance(objectives[0]))
        return [
            {
                "apiVersion": API_VERSION,
                "kind": "PrometheusServiceLevel",
                "metadata": base.metadata(target, target.name, objectives, annotations=annotations),
                "spec": {"service": target.service, "labels": labels, "slos": entries},
            }
        ]


FORMAT = Sloth()
