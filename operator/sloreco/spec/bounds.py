"""The limits on a ServiceLevel's durations: one source of truth for the CRD and the parser.

Without them one tenant's spec decided the operator's memory for every tenant (``lookback:
10000y`` asked for ~16,000 Prometheus queries and 1.3 GiB per attempt; ``window: 10000y`` tried to
allocate 54 GiB; ``recommendationTTL: 10000y`` overflowed the date; a 2 s TTL churned through
hundreds of children). With these bounds the work of one pass is bounded by construction: at most
``MAX_DAYS`` of buckets per series, no shorter than ``settings.MIN_BUCKET``.

The parser (:mod:`.fields`, :mod:`.model`) applies them to every spec, and
``crds/servicelevels.yaml`` carries the same limits as CEL rules, written from :func:`cel_rules`;
``tests/unit/test_crd_drift.py`` fails if the YAML and this module disagree. Every message names
the limit in the user's units (``must be at most 400d``).
"""

from __future__ import annotations

import dataclasses

from sloreco.core import durations

DAY = 86400
#: The longest window, lookback and TTL: 400 days holds a year of history plus a month (yearly
#: seasonality, last year's peak season), and 400 days of hourly buckets is 9,600 points, one
#: Prometheus range query per selector (its limit is 11,000 points).
MAX_DAYS = 400
MAX_SECONDS = MAX_DAYS * DAY
#: The shortest window: a compliance window of less than a day is no SLO window, and the
#: bootstrap resamples whole days.
MIN_WINDOW_SECONDS = DAY
#: The shortest refresh interval. Each refresh reads the whole lookback; more often than every
#: few minutes is load without news (the operator additionally requires at least one bucket).
MIN_REFRESH_SECONDS = 300

_UNIT_SECONDS = "{" + ", ".join(f"'{u}': {float(s)}" for u, s in durations.UNITS.items()) + "}"


def cel_seconds(expr: str) -> str:
    """CEL for the seconds in a duration string. CEL's ``duration()`` knows no days, so each
    ``<digits><unit>`` term is converted here; doubles, so no digit string can overflow."""
    return (
        f"{expr}.findAll('[0-9]+[ywdhms]').map(t, double(t.substring(0, t.size() - 1)) * "
        f"{_UNIT_SECONDS}[t.substring(t.size() - 1)]).sum()"
    )


def guarded(condition: str, *values: str) -> str:
    """``condition`` only for well-formed durations: a value that fails the pattern already has
    its error, and must not get a second, misleading one from a rule."""
    guards = " || ".join(f"!{v}.matches('{durations.PATTERN}')" for v in values)
    return f"{guards} || {condition}"


@dataclasses.dataclass(frozen=True)
class Limits:
    """Bounds of one duration field, in seconds."""

    minimum: int
    maximum: int = MAX_SECONDS
    #: Window and lookback are whole days: the bootstrap and the backtest work in days.
    whole_days: bool = False

    def problem(self, seconds: int) -> str | None:
        """What is wrong with ``seconds`` for this field, in the user's units; None if fine."""
        if seconds > self.maximum:
            return at_most(self.maximum)
        if seconds < self.minimum:
            return at_least(self.minimum)
        if self.whole_days and seconds % DAY:
            return WHOLE_DAYS
        return None


def at_most(seconds: int) -> str:
    return f"must be at most {durations.format(seconds)}"


def at_least(seconds: int) -> str:
    return f"must be at least {durations.format(seconds)}"


WHOLE_DAYS = "must be whole days, like 28d or 90d"

#: Per duration field (camelCase, as in the CRD).
LIMITS = {
    "window": Limits(minimum=MIN_WINDOW_SECONDS, whole_days=True),
    "lookback": Limits(minimum=MIN_WINDOW_SECONDS, whole_days=True),
    "refreshInterval": Limits(minimum=MIN_REFRESH_SECONDS),
    "recommendationTTL": Limits(minimum=MIN_REFRESH_SECONDS),
}


def cel_rules(field: str) -> list[dict[str, str]]:
    """The CRD's ``x-kubernetes-validations`` for the duration property ``field``.

    Order matters for the user: the maximum first (it also guards the whole-days rule from huge
    values), then the minimum, then whole days. ``matches('[hms]$')`` is enough for whole days:
    the duration pattern orders units y, w, d, h, m, s, so only a sub-day term can end a string.
    """
    limits = LIMITS[field]
    seconds = cel_seconds("self")
    rules = [
        {
            "rule": guarded(f"{seconds} <= {float(limits.maximum)}", "self"),
            "message": at_most(limits.maximum),
        },
        {
            "rule": guarded(f"{seconds} >= {float(limits.minimum)}", "self"),
            "message": at_least(limits.minimum),
        },
    ]
    if limits.whole_days:
        rules.append({"rule": guarded("!self.matches('[hms]$')", "self"), "message": WHOLE_DAYS})
    return rules


def bucket_misfit(*, refresh_seconds: int, ttl_seconds: int, bucket_seconds: int) -> str | None:
    """Why a spec's refresh and TTL do not fit the operator's bucket, or None (issue 9 item 5).

    A refresh shorter than the bucket sees no new data (so it does nothing), and a TTL shorter
    than a refresh plus a bucket lets recommendations expire before the next one can exist.
    """
    bucket = durations.format(bucket_seconds)
    if refresh_seconds < bucket_seconds:
        return (
            f"spec.refreshInterval ({durations.format(refresh_seconds)}) is shorter than the "
            f"operator's bucket ({bucket}): no new data arrives in between; use at least {bucket}"
        )
    if ttl_seconds < refresh_seconds + bucket_seconds:
        return (
            f"spec.recommendationTTL ({durations.format(ttl_seconds)}) must be at least "
            f"refreshInterval plus the operator's bucket "
            f"({durations.format(refresh_seconds + bucket_seconds)}), or recommendations expire "
            "before the next one can exist"
        )
    return None


def spec_rules() -> list[dict[str, str]]:
    """The CRD's rules on ``spec`` that compare two durations, with the field they are about."""
    window, lookback = cel_seconds("self.window"), cel_seconds("self.lookback")
    refresh, ttl = cel_seconds("self.refreshInterval"), cel_seconds("self.recommendationTTL")
    return [
        {
            "rule": guarded(f"{window} <= {lookback}", "self.window", "self.lookback"),
            "message": "must not be longer than lookback",
            "messageExpression": (
                "'must not be longer than lookback (' + self.lookback + '), got ' + self.window"
            ),
            "fieldPath": ".window",
            "reason": "FieldValueInvalid",
        },
        {
            "rule": guarded(f"{ttl} > {refresh}", "self.recommendationTTL", "self.refreshInterval"),
            "message": "must be longer than refreshInterval",
            "messageExpression": (
                "'must be longer than refreshInterval (' + self.refreshInterval + '), got '"
                " + self.recommendationTTL"
            ),
            "fieldPath": ".recommendationTTL",
            "reason": "FieldValueInvalid",
        },
    ]
