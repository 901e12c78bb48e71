"""Selector validation and the query text sloreco builds from it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sloreco import errors
from sloreco.sources import promql


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("up", "up"),
        ('http_requests_total{service="checkout"}', 'http_requests_total{service="checkout"}'),
        (' x { a = "1" , b !~ "2.*" , } ', 'x{a="1",b!~"2.*"}'),
        ('{__name__=~"job:.*"}', '{__name__=~"job:.*"}'),
        ("x{a='single \\' quote'}", 'x{a="single \' quote"}'),
        ("x{a=`raw \\d+`}", 'x{a="raw \\\\d+"}'),
        ('x{a="tab\\tand \\u00e9"}', 'x{a="tab\\x09and é"}'),
        ('x{a!="", b="}"}', 'x{a!="",b="}"}'),
        ("namespace:http_requests:rate5m", "namespace:http_requests:rate5m"),
    ],
)
def test_selectors_are_accepted_and_rendered_canonically(text: str, canonical: str) -> None:
    assert canonical == promql.parse_selector(text, field="f").render()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "the selector is empty"),
        ("rate(x[5m])", "functions and aggregations are not allowed"),
        ('sum by (a) (x{a="b"})', "'sum' is a PromQL keyword"),
        ("x[5m]", "range selectors are not allowed"),
        ("x offset 5m", "offset and @ modifiers are not allowed"),
        ("x @ 1700000000", "offset and @ modifiers are not allowed"),
        ("x + y", "operators are not allowed"),
        ('x{a="b"} or vector(1)', "operators are not allowed"),
        ('x{a="b"}) or vector(1) #', "unexpected ')"),
        ('x{a="b"', "expected ',' or '}' after a matcher"),
        ('x{a="b}', "unterminated string"),
        ("x{a=b}", "expected a quoted string"),
        ('x{a=="b"}', "expected a quoted string"),
        ('x{a~"b"}', "expected one of = != =~ !~"),
        ('x{1a="b"}', "expected a label name"),
        ('x{a="\\q"}', "unsupported escape sequence"),
        ('x{a="\\xff"}', "unsupported escape sequence"),
        ("{}", "'{}' selects nothing"),
        ("9lives", "expected a metric name or '{'"),
        ("x" * 1025, "longer than 1024 characters"),
    ],
)
def test_anything_but_a_selector_is_rejected_naming_the_field(text: str, problem: str) -> None:
    with pytest.raises(errors.InputError) as caught:
        promql.parse_selector(text, field="spec.availability.totalQuery")
    assert (
        caught.value.field,
        problem in caught.value.reason,
    ) == ("spec.availability.totalQuery", True), caught.value.reason


def test_a_histogram_selector_must_name_the_bucket_series() -> None:
    with pytest.raises(errors.InputError, match="select the histogram's _bucket series"):
        promql.parse_histogram_selector("latency_seconds", field="spec.latency.histogram")


def test_a_histogram_selector_without_a_name_is_left_to_prometheus() -> None:
    selector = promql.parse_histogram_selector('{__name__="x_bucket"}', field="f")
    assert selector.render() == '{__name__="x_bucket"}'


values = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)
matchers = st.builds(
    promql.Matcher,
    label=st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,8}", fullmatch=True),
    op=st.sampled_from(promql.OPERATORS),
    value=values,
)
selectors = st.builds(
    promql.Selector,
    metric=st.from_regex(r"[a-z_:][a-z0-9_:]{0,10}_total", fullmatch=True),
    matchers=st.lists(matchers, max_size=3).map(tuple),
)


@given(selectors)
def test_rendering_then_parsing_gives_the_same_selector(selector: promql.Selector) -> None:
    assert selector == promql.parse_selector(selector.render(), field="f")


@given(values)
def test_quoted_values_parse_back_unchanged(value: str) -> None:
    rendered = promql.Selector("x", (promql.Matcher("a", "=", value),)).render()
    assert value == promql.parse_selector(rendered, field="f").matchers[0].value


def test_regex_escape_escapes_only_re2_metacharacters() -> None:
    assert (
        promql.regex_escape(r"a.b|c-d e()[]{}*+?^$\\"[:-1])
        == r"a\.b\|c-d e\(\)\[\]\{\}\*\+\?\^\$\\"
    )


def test_one_of_matches_exactly_the_given_values() -> None:
    assert promql.one_of("service", ["a", "b.c"]).render() == 'service=~"a|b\\\\.c"'


def test_increase_sum_wraps_the_rendered_selector() -> None:
    selector = promql.parse_selector("x{ code =~ '5..' }", field="f")
    assert (
        promql.increase_sum(selector, bucket_seconds=3600, by=("le",))
        == 'sum by (le) (increase(x{code=~"5.."}[1h]))'
    )


def test_grouping_labels_are_validated() -> None:
    with pytest.raises(errors.InputError, match="not a valid label name"):
        promql.increase_sum(promql.Selector("x"), bucket_seconds=3600, by=("le) or (up",))
