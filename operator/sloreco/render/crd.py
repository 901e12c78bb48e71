"""A recommendation as the API object: the JSON-ready ``SloRecommendation.spec``.

The one place that decides how typed results become API strings (percents and seconds as decimal
strings per the Kubernetes API conventions, RFC 3339 times, probabilities at fixed places). The
operator writes it into children; ``sloreco recommend --output json|yaml`` prints it.
"""

from __future__ import annotations

from decimal import Decimal

from sloreco.core import alerting, durations, results


def recommendation_spec(result: results.SliResult) -> dict[str, object]:
    """The JSON-ready document for ``SloRecommendation.spec``."""
    doc: dict[str, object] = {
        "sli": result.sli,
        "window": durations.format(result.window_seconds),
        "lookback": {
            "start": results.rfc3339(result.lookback_start),
            "end": results.rfc3339(result.lookback_end),
        },
    }
    if result.percentile is not None:
        doc["percentile"] = results.number(result.percentile)
    doc["tiers"] = [_tier(t) for t in result.tiers]
    doc["backtest"] = {
        "kind": "out-of-sample",
        "description": result.backtest.description,
        "tiers": [
            {"name": t.name, "evaluations": t.evaluations, "breaches": t.breaches}
            for t in result.backtest.tiers
        ],
    }
    doc["explanation"] = _explanation(result.explanation, result.kind)
    quality = result.data_quality
    doc["dataQuality"] = {
        "coverage": results.fixed(quality.coverage, results.PROBABILITY_PLACES),
        "daysAnalysed": results.fixed(quality.days_analysed, 2),
        "gaps": [
            {"start": results.rfc3339(g.start), "end": results.rfc3339(g.end)} for g in quality.gaps
        ],
        "excludedBuckets": quality.excluded_buckets,
        "lowConfidence": quality.low_confidence,
        "lowTraffic": quality.low_traffic,
        "notes": list(quality.notes),
    }
    doc["method"] = {
        "name": results.METHOD_NAME,
        "version": results.METHOD_VERSION,
        "resamples": result.method.resamples,
        "blockDays": result.method.block_days,
        # A string: 64-bit seeds do not survive JSON numbers in every client.
        "seed": str(result.method.seed),
    }
    return doc


def _tier(tier: results.Tier) -> dict[str, object]:
    out: dict[str, object] = {"name": tier.name, "target": results.number(tier.target)}
    if tier.threshold is not None and tier.bucket_bound is not None:
        out["threshold"] = results.number(tier.threshold)
        out["bucketBound"] = results.bound(tier.bucket_bound)
    interval = tier.confidence_interval
    out["breachProbability"] = results.fixed(tier.breach_probability, results.PROBABILITY_PLACES)
    out["confidenceInterval"] = {
        "level": results.number(Decimal(repr(interval.level * 100)).normalize()),
        "lower": results.number(interval.lower),
        "upper": results.number(interval.upper),
    }
    out["errorBudget"] = {
        "badEventsPerWindow": tier.error_budget.bad_events_per_window,
        "outageMinutesPerWindow": results.number(tier.error_budget.outage_minutes_per_window),
    }
    out["capped"] = tier.capped
    if tier.alerting is not None:
        out["alerting"] = _alerting(tier.alerting)
    return out


def _alerting(cost: alerting.Cost) -> dict[str, object]:
    """The tier's pager cost (``core.alerting``): counts, rates per 28 days, detections."""
    out: dict[str, object] = {
        "evaluationInterval": alerting.duration(cost.evaluation_seconds),
        "pages": cost.pages,
        "tickets": cost.tickets,
        "pagesPer28d": results.fixed(cost.per_period(cost.pages), 2),
        "ticketsPer28d": results.fixed(cost.per_period(cost.tickets), 2),
        "incidents": len(cost.detections),
        "incidentsPaged": len(cost.paged),
    }
    if cost.paged:
        out["medianTimeToDetect"] = alerting.duration(alerting.median_detection(cost))
    out["detections"] = [_detection(d) for d in cost.detections]
    return out


def _detection(found: alerting.Detection) -> dict[str, object]:
    out: dict[str, object] = {
        "start": results.rfc3339(found.start),
        "end": results.rfc3339(found.end),
        "paged": found.time_to_detect is not None,
    }
    if found.time_to_detect is not None:
        out["timeToDetect"] = alerting.duration(found.time_to_detect)
    if found.budget_burned is not None:
        out["budgetBurned"] = results.fixed(found.budget_burned, results.PROBABILITY_PLACES)
    return out


def _observed(observed: results.Observed, kind: results.Traits) -> dict[str, object]:
    def show(value: float) -> str:
        return (
            results.percent(value)
            if kind.unit == "percent"
            else results.number(results.seconds(value))
        )

    return {
        "source": observed.source,
        "unit": kind.unit,
        "windows": observed.windows,
        "best": show(observed.best),
        "median": show(observed.median),
        "worst": show(observed.worst),
    }


def _explanation(explanation: results.Explanation, kind: results.Traits) -> dict[str, object]:
    out: dict[str, object] = {
        "summary": explanation.summary,
        "observed": _observed(explanation.observed, kind),
        "incidents": [
            {
                "start": results.rfc3339(i.start),
                "end": results.rfc3339(i.end),
                "badEvents": round(i.bad_events),
                "share": results.fixed(i.share, results.PROBABILITY_PLACES),
                "peakRatio": results.fixed(i.peak_ratio, results.PROBABILITY_PLACES),
            }
            for i in explanation.incidents
        ],
        "incidentShare": results.fixed(explanation.incident_share, results.PROBABILITY_PLACES),
        "dependencies": [
            {
                "name": d.name,
                "availability": results.percent(d.availability),
                "bottleneck": d.bottleneck,
                "budgetShare": {
                    tier: None
                    if share is None
                    else results.fixed(share, results.PROBABILITY_PLACES)
                    for tier, share in d.budget_share
                },
            }
            for d in explanation.dependencies
        ],
        "limitedBy": {
            tier: [{"factor": limit.factor, "detail": limit.detail} for limit in limits]
            for tier, limits in explanation.limited_by
        },
    }
    objective = explanation.current_objective
    if objective is not None:
        report: dict[str, object] = {}
        if objective.availability is not None:
            report["availability"] = results.number(objective.availability)
        if objective.latency is not None:
            report["latency"] = {
                "threshold": results.number(objective.latency.threshold),
                "target": results.number(objective.latency.target),
            }
        report["breachProbability"] = results.fixed(
            objective.breach_probability, results.PROBABILITY_PLACES
        )
        report["backtest"] = {"evaluations": objective.evaluations, "breaches": objective.breaches}
        report["achievable"] = objective.achievable
        if objective.cause is not None:
            report["unachievableBecause"] = objective.cause
        out["currentObjective"] = report
    return out
