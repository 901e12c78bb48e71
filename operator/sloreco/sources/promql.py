"""PromQL selectors from users, validated by hand, and the only queries sloreco builds.

Users give *selectors* (``http_requests_total{code=~"5.."}``); sloreco wraps them itself in
``sum(increase(<selector>[<bucket>]))``. Splicing user text into a larger expression is how a
namespaced object could make the operator run arbitrary (and arbitrarily expensive) PromQL, so
a selector is parsed into a :class:`Selector` and re-rendered from its parts: what reaches
Prometheus is always our own canonical text, never the user's.

The grammar accepted is PromQL's instant-vector selector and nothing else::

    selector := metric_name [ "{" matchers "}" ] | "{" matchers "}"
    matchers := [ matcher { "," matcher } [ "," ] ]
    matcher  := label_name ( "=" | "!=" | "=~" | "!~" ) string

Strings are double- or single-quoted with Go's escapes (``\\n``, ``\\"``, ``\\xHH``, ``\\uHHHH``…;
octal escapes are not supported), or back-quoted raw strings, as in PromQL.
Functions, operators, ranges, ``offset`` and ``@`` are rejected with an ``InputError`` that names
the field and says what is wrong. A hand-written scanner, not a regular expression, because the
error message has to say *where* and *why*, and because quoted strings with escapes are exactly
what regular expressions get subtly wrong. Regular expressions *inside* matchers are RE2 and are
checked by Prometheus (a bad one comes back as a ``QueryError``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import NewType

from sloreco import errors
from sloreco.core import durations

#: Query text built by this module; the client accepts nothing else (mypy enforces it).
Expr = NewType("Expr", str)

#: The CRD allows 1,024 characters (spec.fields.SELECTOR_MAX); anything longer is not a selector.
MAX_LENGTH = 1024

OPERATORS = ("=~", "!~", "!=", "=")  # longest first, so "=~" is not read as "="
_METRIC = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_SPACE = re.compile(r"\s*")

#: Words PromQL's lexer treats as keywords whatever the case: ``sum{job="x"}`` is not a
#: selector of a metric named sum. The CRD carries the same list (``spec.selector.SELECTOR_RULES``).
KEYWORDS = frozenset(
    (
        *("and", "or", "unless", "atan2", "offset", "by", "without", "on", "ignoring", "bool"),
        *("group_left", "group_right", "start", "end", "inf", "nan"),
        *("sum", "avg", "count", "min", "max", "group", "stddev", "stdvar", "topk", "bottomk"),
        *("count_values", "quantile"),
    )
)

_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    '"': '"',
    "'": "'",
}
_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}


@dataclasses.dataclass(frozen=True)
class Matcher:
    """One label matcher; ``value`` is the unquoted string (a regex for ``=~``/``!~``)."""

    label: str
    op: str
    value: str

    def render(self) -> str:
        return f"{self.label}{self.op}{quote(self.value)}"


@dataclasses.dataclass(frozen=True)
class Selector:
    """A validated instant-vector selector; ``render()`` is the only text ever sent."""

    metric: str | None
    matchers: tuple[Matcher, ...] = ()

    def render(self) -> str:
        inner = ",".join(m.render() for m in self.matchers)
        if self.metric is None:
            return "{" + inner + "}"
        return f"{self.metric}{{{inner}}}" if inner else self.metric

    def with_matcher(self, matcher: Matcher) -> Selector:
        """The same selector narrowed by one more matcher (ANDed, as PromQL does)."""
        return dataclasses.replace(self, matchers=(*self.matchers, matcher))

    def __str__(self) -> str:
        return self.render()


def quote(value: str) -> str:
    """A double-quoted PromQL string for ``value`` that Prometheus reads back unchanged."""
    out = ['"']
    for char in value:
        if char in '\\"':
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def regex_escape(value: str) -> str:
    """``value`` as an RE2 literal. Only RE2's metacharacters are escaped: RE2 rejects escapes
    of ordinary characters (``\\ ``, ``\\-``) that Python's ``re.escape`` produces."""
    return re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\1", value)


def one_of(label: str, values: Sequence[str]) -> Matcher:
    """``label=~"v1|v2|…"`` matching exactly these values (Prometheus anchors regexes)."""
    if not values:
        raise ValueError("one_of needs at least one value")
    check_label(label, field="label")
    return Matcher(label, "=~", "|".join(regex_escape(v) for v in values))


def check_label(label: str, *, field: str) -> str:
    if not _LABEL.fullmatch(label):
        raise errors.InputError(f"{label!r} is not a valid label name", field=field)
    return label


def parse_selector(text: str, *, field: str) -> Selector:
    """Parse a user's selector, or raise ``InputError(field=field)`` saying what is wrong."""
    if len(text) > MAX_LENGTH:
        raise errors.InputError(f"selector longer than {MAX_LENGTH} characters", field=field)
    return _Scanner(text, field).selector()


def parse_histogram_selector(text: str, *, field: str) -> Selector:
    """A selector of a classic histogram's ``_bucket`` series (the ``le`` label comes from it)."""
    selector = parse_selector(text, field=field)
    if selector.metric is not None and not selector.metric.endswith("_bucket"):
        raise errors.InputError(
            f"select the histogram's _bucket series (e.g. {selector.metric}_bucket), "
            f"not {selector.metric!r}",
            field=field,
        )
    return selector


def increase_sum(
    selector: Selector, *, bucket_seconds: int, by: Sequence[str] = (), anchored: bool = False
) -> Expr:
    """``sum [by (…)] (increase(<selector>[<bucket>]))``: counts per bucket, summed over series."""
    grouping = f" by ({', '.join(check_label(b, field='by') for b in by)})" if by else ""
    return Expr(
        f"sum{grouping} ({increase(selector, bucket_seconds=bucket_seconds, anchored=anchored)})"
    )


def increase(selector: Selector, *, bucket_seconds: int, anchored: bool = False) -> Expr:
    """``increase(<selector>[<bucket>])`` per series, for callers that sum on their side.

    ``anchored`` adds Prometheus 3's ``anchored`` modifier: the range also takes the last sample
    at or before its left-open start and nothing is extrapolated (``sources.prometheus``).
    """
    modifier = " anchored" if anchored else ""
    return Expr(f"increase({selector.render()}[{durations.format(bucket_seconds)}]{modifier})")


class _Scanner:
    """A cursor over the user's text; every error says what was expected where."""

    def __init__(self, text: str, field: str) -> None:
        self.text = text
        self.field = field
        self.pos = 0

    def fail(self, problem: str) -> errors.InputError:
        where = f" at position {self.pos + 1}" if self.pos < len(self.text) else ""
        return errors.InputError(f"not a PromQL selector: {problem}{where}", field=self.field)

    def skip_space(self) -> None:
        match = _SPACE.match(self.text, self.pos)
        assert match is not None  # \s* always matches
        self.pos = match.end()

    def peek(self, literal: str) -> bool:
        return self.text.startswith(literal, self.pos)

    def selector(self) -> Selector:
        self.skip_space()
        if self.pos == len(self.text):
            raise self.fail("the selector is empty")
        metric = None
        if not self.peek("{"):
            match = _METRIC.match(self.text, self.pos)
            if match is None:
                raise self.fail("expected a metric name or '{'")
            metric = match.group()
            if metric.lower() in KEYWORDS:
                raise self.fail(f"{metric!r} is a PromQL keyword, not a metric name")
            self.pos = match.end()
            self.skip_space()
        matchers: tuple[Matcher, ...] = ()
        if self.peek("{"):
            matchers = self.matchers()
            if metric is None and not matchers:
                raise self.fail("'{}' selects nothing; give a metric name or a matcher")
        self.skip_space()
        if self.pos < len(self.text):
            raise self.fail(self.trailing())
        return Selector(metric, matchers)

    def trailing(self) -> str:
        rest = self.text[self.pos :]
        if rest.startswith("("):
            return "functions and aggregations are not allowed (sloreco applies increase() itself)"
        if rest.startswith("["):
            return "range selectors are not allowed (sloreco chooses the range)"
        if rest.startswith("@") or re.match(r"offset\b", rest, re.IGNORECASE):
            return "offset and @ modifiers are not allowed (sloreco chooses the time)"
        if rest[0] in "+-*/%^<>=!," or re.match(r"(and|or|unless)\b", rest, re.IGNORECASE):
            return "operators are not allowed; give a single selector"
        return f"unexpected {rest[:20]!r} after the selector"

    def matchers(self) -> tuple[Matcher, ...]:
        self.pos += 1  # "{"
        found: list[Matcher] = []
        while True:
            self.skip_space()
            if self.peek("}"):
                self.pos += 1
                return tuple(found)
            found.append(self.matcher())
            self.skip_space()
            if self.peek(","):
                self.pos += 1
            elif not self.peek("}"):
                raise self.fail("expected ',' or '}' after a matcher")

    def matcher(self) -> Matcher:
        match = _LABEL.match(self.text, self.pos)
        if match is None:
            raise self.fail("expected a label name")
        self.pos = match.end()
        self.skip_space()
        op = next((o for o in OPERATORS if self.peek(o)), None)
        if op is None:
            raise self.fail(f"expected one of = != =~ !~ after label {match.group()!r}")
        self.pos += len(op)
        self.skip_space()
        return Matcher(match.group(), op, self.string())

    def string(self) -> str:
        quote_char = self.text[self.pos : self.pos + 1]
        if quote_char not in ('"', "'", "`"):
            raise self.fail("expected a quoted string")
        start = self.pos
        self.pos += 1
        if quote_char == "`":  # raw string: no escapes, ends at the next back-quote
            end = self.text.find("`", self.pos)
            if end < 0:
                self.pos = start
                raise self.fail("unterminated string")
            value, self.pos = self.text[self.pos : end], end + 1
            return value
        out: list[str] = []
        while True:
            if self.pos >= len(self.text) or self.text[self.pos] == "\n":
                self.pos = start
                raise self.fail("unterminated string")
            char = self.text[self.pos]
            self.pos += 1
            if char == quote_char:
                return "".join(out)
            out.append(self.escape() if char == "\\" else char)

    def escape(self) -> str:
        code = self.text[self.pos : self.pos + 1]
        if code in _SIMPLE_ESCAPES:
            self.pos += 1
            return _SIMPLE_ESCAPES[code]
        if code in _HEX_ESCAPES:
            width = _HEX_ESCAPES[code]
            digits = self.text[self.pos + 1 : self.pos + 1 + width]
            if len(digits) == width and re.fullmatch(r"[0-9a-fA-F]+", digits):
                point = int(digits, 16)
                # \x names a byte in Go; only ASCII bytes are whole characters on their own.
                if (
                    (code != "x" or point < 0x80)
                    and point <= 0x10FFFF
                    and not (0xD800 <= point <= 0xDFFF)
                ):
                    self.pos += 1 + width
                    return chr(point)
        raise self.fail(f"unsupported escape sequence '\\{code}'")
