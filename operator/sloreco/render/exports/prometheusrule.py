"""``prometheus-rule``: a Prometheus Operator ``PrometheusRule`` (or, ``--plain``, a rule file).

Per SLI two groups: recording rules of the error ratio over every window an alert reads (5m to
3d), and the objective, the error budget and the two multi-window, multi-burn-rate alerts of the
SRE Workbook (``base.PAGE``, ``base.TICKET``) on those series. Recorded series carry
``sloreco_slo`` (``<name>-<sli>``), so several exports share one Prometheus without mixing.

The error ratio is what sloreco analysed: availability ``errors / total`` (no error series yet
means no errors: ``or vector(0)``), latency ``(+Inf bucket - bound bucket) / +Inf bucket``. An
alert has no ``for``: the short window is what stops it flapping (the workbook's design).
"""

from __future__ import annotations

from collections.abc import Sequence

from sloreco import api
from sloreco.render.exports import base

API_VERSION = "monitoring.coreos.com/v1"
#: The alert's name; ``severity`` (``page``/``ticket``) tells the two apart, as Sloth does.
ALERT = "SlorecoErrorBudgetBurn"
RATIO = "sloreco:sli_error:ratio_rate{window}"
OBJECTIVE = "sloreco:objective:ratio"
BUDGET = "sloreco:error_budget:ratio"


def error_ratio(indicator: base.Indicator, window: str) -> str:
    """The share of bad events over ``window`` as PromQL."""
    total = base.rate(indicator.total, window)
    if indicator.bad is not None:
        return f"({base.rate(indicator.bad, window)} or vector(0)) / {total}"
    if indicator.good is None:
        raise ValueError("an indicator needs bad or good events")
    return f"({total} - {base.rate(indicator.good, window)}) / {total}"


def series_labels(slo: base.Slo, target: base.Target) -> dict[str, str]:
    """Labels of every recorded series of ``slo`` (and of its alerts)."""
    return {
        "sloreco_slo": base.slo_name(target, slo.objective),
        "sloreco_service": target.service,
        "sloreco_sli": slo.objective.sli,
    }


def alert_expr(severity: base.Severity, slo_name: str, budget: str) -> str:
    """``(long > f*budget and short > f*budget) or (...)`` over the recorded ratios."""
    match = f'{{sloreco_slo="{slo_name}"}}'
    terms = [
        "(\n"
        f"  {RATIO.format(window=w.long)}{match} > ({base.number(w.factor)} * {budget})\n"
        "and\n"
        f"  {RATIO.format(window=w.short)}{match} > ({base.number(w.factor)} * {budget})\n"
        ")"
        for w in severity.windows
    ]
    return "\nor\n".join(terms) + "\n"


def rule_annotations(objective: base.Objective) -> dict[str, str]:
    """``base.provenance`` with keys that are Prometheus label names (``sloreco_data_end``)."""
    return {
        key.replace("sloreco.dev/", "sloreco_").replace("-", "_"): value
        for key, value in base.provenance(objective).items()
    }


def groups(slo: base.Slo, target: base.Target) -> list[api.Obj]:
    """The recording and the alerting group of one SLI."""
    objective = slo.objective
    name = base.slo_name(target, objective)
    labels = series_labels(slo, target)
    budget = base.number(objective.budget)
    recording = [
        {
            "record": RATIO.format(window=window),
            "expr": error_ratio(slo.indicator, window),
            "labels": dict(labels),
        }
        for window in base.rate_windows()
    ]
    tiered = {**labels, "sloreco_tier": objective.tier}
    alerting: list[api.Obj] = [
        {"record": OBJECTIVE, "expr": f"vector({base.number(objective.ratio)})", "labels": tiered},
        {"record": BUDGET, "expr": f"vector({budget})", "labels": dict(tiered)},
    ]
    for severity in base.SEVERITIES:
        fast = " or ".join(
            f"{base.number(w.factor)}x over {w.long} and {w.short}" for w in severity.windows
        )
        alerting.append(
            {
                "alert": ALERT,
                "expr": alert_expr(severity, name, budget),
                "labels": {"severity": severity.name, **tiered},
                "annotations": {
                    "summary": (
                        f"{target.service} {objective.sli} is burning its error budget "
                        f"({severity.name})"
                    ),
                    "description": (
                        f"{target.service} {objective.sli}: the {objective.tier} objective "
                        f"({objective.describe()}) is burning its error budget at {fast} "
                        "(times the rate that spends exactly the budget)."
                    ),
                    **rule_annotations(objective),
                },
            }
        )
    return [
        {"name": f"sloreco-{name}-sli", "rules": recording},
        {"name": f"sloreco-{name}-alerts", "rules": alerting},
    ]


class PrometheusRule:
    """The ``prometheus-rule`` format (``base.Format``)."""

    name = "prometheus-rule"
    plain = True

    def render(self, slos: Sequence[base.Slo], target: base.Target) -> list[api.Obj]:
        spec = {"groups": [g for slo in slos for g in groups(slo, target)]}
        if target.plain:
            return [spec]
        objectives = [s.objective for s in slos]
        annotations = base.provenance(objectives[0]) if len(objectives) == 1 else {}
        return [
            {
                "apiVersion": API_VERSION,
                "kind": "PrometheusRule",
                "metadata": base.metadata(target, target.name, objectives, annotations=annotations),
                "spec": spec,
            }
        ]


FORMAT = PrometheusRule()
