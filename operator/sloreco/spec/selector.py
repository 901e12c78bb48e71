"""The selector fields of a ServiceLevel spec: what ``totalQuery``, ``errorQuery`` and
``histogram`` accept, at admission and when parsed.

A selector is the one field checked twice over: at admission by the CRD's pattern and CEL rules
(:data:`SELECTOR_RULES`, :data:`HISTOGRAM_RULES`, compared rule for rule with
``crds/servicelevels.yaml`` by ``tests/unit/test_crd_drift.py``), and here, after that pattern, by
PromQL's own grammar (``sources.promql``), so a spec that parses is one the reader can query. It
lives apart from :mod:`.fields` because these fields speak PromQL (their rules carry its keyword
list, their check its parser) while the other fields need only lengths, patterns and ranges.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated

import pydantic

from sloreco import errors
from sloreco.sources import promql
from sloreco.spec.fields import SELECTOR_MAX, Text

#: One label matcher, ``code=~"5.."``: a label name, an operator and a quoted value (double or
#: single quotes, backslash escapes).
_MATCHER = r'[a-zA-Z_][a-zA-Z0-9_]* *(=|!=|=~|!~) *("([^"\\]|\\.)*"' + r"|'([^'\\]|\\.)*')"
#: A PromQL instant-vector selector that starts with a metric name, with optional label matchers
#: with quoted values. A metric name is required: ``{__name__=~".+"}`` sums every series in
#: Prometheus and recommends nonsense. At admission this and :data:`SELECTOR_RULES` keep
#: ``sum(...)``, ``sum{...}``, ``or`` and ranges out; the parser uses PromQL's grammar itself
#: (``sources.promql``), so the two agree.
SELECTOR_PATTERN = (
    r"^ *[a-zA-Z_:][a-zA-Z0-9_:]* *"
    r"(\{ *(" + _MATCHER + r"( *, *" + _MATCHER + r")* *,? *)?\})? *$"
)
#: What the user reads when a selector is refused: what to write, and what not to.
SELECTOR_EXPECTED = (
    'a selector that starts with a metric name, like http_requests_total{service="x"}, '
    "not an expression (sloreco computes sum(increase(...)) itself)"
)
#: At admission the pattern is a CEL rule rather than the schema's ``pattern``: a failed
#: ``pattern`` makes the API server print the whole regular expression, a rule prints
#: ``SELECTOR_EXPECTED``. (A raw triple-quoted CEL string holds both quote characters.) The
#: second rule says what the pattern cannot: the metric name is not a PromQL keyword (the lexer
#: reads ``sum{job="x"}`` as an aggregation), in any case; it is skipped when the first failed,
#: so a value gets one message.
SELECTOR_RULES = [
    {
        "rule": 'self.matches(r"""' + SELECTOR_PATTERN + '""")',
        "message": "must be " + SELECTOR_EXPECTED,
    },
    {
        "rule": '!self.matches(r"""'
        + SELECTOR_PATTERN
        + '""") || !self.matches(\'^ *(?i)('
        + "|".join(sorted(promql.KEYWORDS))
        + ")([ {]|$)')",
        "message": "must be " + SELECTOR_EXPECTED + "; the metric name is a PromQL keyword",
    },
]
#: A histogram selector names the ``_bucket`` series (the ``le`` label comes from them).
HISTOGRAM_RULES = [
    *SELECTOR_RULES,
    {
        "rule": '!self.matches(r"""'
        + SELECTOR_PATTERN
        + '""") || self.matches(\'^ *[a-zA-Z_:][a-zA-Z0-9_:]*_bucket([ {]|$)\')',
        "message": "must select a histogram's _bucket series, like "
        'http_request_duration_seconds_bucket{service="x"}',
    },
]


@dataclasses.dataclass(frozen=True)
class SelectorText(Text):
    """A selector checked with PromQL's own grammar (:func:`sources.promql.parse_selector`)
    after the CRD's pattern, so a spec that parses here is one the reader can query."""

    histogram: bool = False

    def __call__(self, value: object) -> str:
        text = super().__call__(value)
        try:
            if self.histogram:
                promql.parse_histogram_selector(text, field="")
            else:
                promql.parse_selector(text, field="")
        except errors.InputError as exc:
            raise ValueError(f"must be {self.expected}: {exc.reason}") from exc
        return text


Selector = Annotated[
    str,
    pydantic.BeforeValidator(
        SelectorText(max_length=SELECTOR_MAX, pattern=SELECTOR_PATTERN, expected=SELECTOR_EXPECTED)
    ),
]
HistogramSelector = Annotated[
    str,
    pydantic.BeforeValidator(
        SelectorText(
            max_length=SELECTOR_MAX,
            pattern=SELECTOR_PATTERN,
            expected=SELECTOR_EXPECTED,
            histogram=True,
        )
    ),
]
