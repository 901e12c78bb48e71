"""The selectors of an exported SLO by role, built from the user's own selectors.

An export must measure what sloreco analysed, with the user's selectors and nothing of ours
spliced into them as text: each selector is parsed with PromQL's grammar (``sources.promql``) and
re-rendered from its parts, and the latency buckets are the user's histogram narrowed by one
``le`` matcher. Shared by ``sloreco export`` and the operator's adopt, which hold the selectors in
the same shape (``ServiceLevelSpec.selectors()``: ``total``/``errors``, ``histogram``).
"""

from __future__ import annotations

from collections.abc import Mapping

from sloreco import errors
from sloreco.render.exports import base
from sloreco.sources import promql

#: Prometheus writes the last bucket of a classic histogram as ``le="+Inf"``.
INF = "+Inf"


def indicator(
    objective: base.Objective, selectors: Mapping[str, str], *, fields: Mapping[str, str]
) -> base.Indicator:
    """The indicator of ``objective``; ``fields`` names each selector for error messages
    (``{"total": "--total"}`` in the CLI, ``spec.availability.totalQuery`` in the operator)."""

    def need(role: str) -> str:
        value = selectors.get(role)
        if not value:
            raise errors.InputError(
                f"the {objective.sli} export needs this selector (the recommendation does not "
                "name its selectors)",
                field=fields[role],
            )
        return value

    if objective.bucket_bound is None:
        total = promql.parse_selector(need("total"), field=fields["total"])
        bad = promql.parse_selector(need("errors"), field=fields["errors"])
        return base.Indicator(total=total.render(), bad=bad.render())
    histogram = promql.parse_histogram_selector(need("histogram"), field=fields["histogram"])
    if any(m.label == "le" for m in histogram.matchers):
        raise errors.InputError(
            "must not match on le: the export adds the bucket of the tier's bound",
            field=fields["histogram"],
        )
    if histogram.metric is None:
        raise errors.InputError("needs a metric name ending in _bucket", field=fields["histogram"])
    count = promql.Selector(
        metric=histogram.metric.removesuffix("_bucket") + "_count", matchers=histogram.matchers
    )
    return base.Indicator(
        total=histogram.with_matcher(promql.Matcher("le", "=", INF)).render(),
        good=histogram.with_matcher(promql.Matcher("le", "=", objective.bucket_bound)).render(),
        count=count.render(),
    )
