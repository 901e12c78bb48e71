"""The values of the ``sloreco`` flags, parsed: each flag's text becomes a typed value or an
``errors.InputError`` naming the flag, and the source-independent ones make :class:`Options`.

The package parses at the boundary, so nothing past this module sees a raw string. It lives apart
from ``cliargs``, which declares the flags (their names, defaults, help and the one-line usage
error), because these parsers are the rules a value must meet, the same patterns and ranges as
the CRD's (``spec.fields``), not the shape of the command line.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Literal

from sloreco import errors
from sloreco.core import durations, history, inputs, priordoc, results
from sloreco.core.prior import Prior
from sloreco.core.slis import base
from sloreco.sources import inputfile
from sloreco.spec import fields

#: Percent and seconds as the CRD spells them: decimal strings, never floats.
_PERCENT = re.compile(fields.PERCENT_PATTERN)
_SECONDS = re.compile(fields.SECONDS_PATTERN)


@dataclasses.dataclass(frozen=True)
class Options:
    """What every recommendation needs, whatever the source of the history."""

    service: str | None
    window_seconds: int
    percentile: Decimal
    objective_availability: Decimal | None
    objective_latency: results.LatencyObjective | None
    dependencies: tuple[inputs.Dependency, ...]
    exclusions: tuple[history.Exclusion, ...]
    output: Literal["table", "json", "yaml"]
    priors: tuple[Prior, ...] = ()

    def request(self, *, seed: int) -> base.Request:
        """What every SLI kind is asked for by these flags (each kind reads its own fields)."""
        return base.Request(
            window_seconds=self.window_seconds,
            seed=seed,
            dependencies=self.dependencies,
            objective_availability=self.objective_availability,
            objective_latency=self.objective_latency,
            percentile=self.percentile,
            priors=self.priors,
        )


# --- the options every recommendation takes ----------------------------------------------------


def options(args: argparse.Namespace) -> Options:
    """The source-independent flags, parsed; the live-only flags are ``clisources``'s."""
    window = durations.parse(args.window, field="--window")
    if window < history.SECONDS_PER_DAY or window % history.SECONDS_PER_DAY:
        # Said here, in the units the person typed: the engine would say it in seconds.
        raise errors.InputError(
            f"must be a whole number of days, at least 1d (got {args.window})", field="--window"
        )
    percentile = _percent(args.percentile, field="--percentile")
    if not fields.PERCENTILE_MIN <= percentile <= fields.PERCENTILE_MAX:
        raise errors.InputError(
            f"must be between {fields.PERCENTILE_MIN} and {fields.PERCENTILE_MAX}, "
            f"got {percentile}",
            field="--percentile",
        )
    return Options(
        service=args.service,
        window_seconds=window,
        percentile=percentile,
        objective_availability=(
            None
            if args.objective_availability is None
            else _percent(args.objective_availability, field="--objective-availability")
        ),
        objective_latency=(
            None if args.objective_latency is None else _latency_objective(args.objective_latency)
        ),
        dependencies=_dependencies(args.dependency),
        exclusions=tuple(_exclusion(text) for text in args.exclude),
        output=args.output,
        priors=read_priors(args.prior),
    )


def read_priors(paths: list[str]) -> tuple[Prior, ...]:
    """The ``--prior`` files, at most one per scope (``core.prior.scope_of``): each SLI takes
    its own scope's, else one for any, else the default (``slis.base.Request.prior_for``)."""
    given: dict[str, str] = {}
    read = []
    for path in paths:
        belief = read_prior(path)
        if belief.scope in given:
            raise errors.InputError(
                f"{given[belief.scope]} and {path} are both priors for {belief.scope}",
                field="--prior",
            )
        given[belief.scope] = path
        read.append(belief)
    return tuple(read)


def read_prior(path: str) -> Prior:
    """One ``--prior`` file: a ``SlorecoPrior`` JSON document (``core.prior``)."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise errors.InputError(f"cannot read {path!r}: {exc}", field="--prior") from exc
    try:
        return priordoc.loads(text)
    except errors.InputError as exc:
        raise errors.InputError(f"{path}: {exc}", field="--prior") from exc


def _percent(text: str, *, field: str) -> Decimal:
    """A percentage in ``(0, 100)``: 100 leaves no error budget, so it is no objective."""
    if not _PERCENT.match(text):
        raise errors.InputError(f"invalid percentage {text!r}: write it like 99.9", field=field)
    value = Decimal(text)
    if not 0 < value < 100:
        raise errors.InputError(
            f"must be greater than 0 and less than 100, got {text}", field=field
        )
    return value


def _latency_objective(text: str) -> results.LatencyObjective:
    field = "--objective-latency"
    threshold, at, target = text.partition("@")
    if not at or not _SECONDS.match(threshold) or Decimal(threshold) <= 0:
        raise errors.InputError(
            f"invalid objective {text!r}: write THRESHOLD_SECONDS@TARGET_PERCENT, like 0.3@99",
            field=field,
        )
    return results.LatencyObjective(
        threshold=Decimal(threshold), target=_percent(target, field=field)
    )


def _dependencies(texts: Sequence[str]) -> tuple[inputs.Dependency, ...]:
    field = "--dependency"
    found: dict[str, inputs.Dependency] = {}
    for text in texts:
        name, eq, value = text.partition("=")
        if not eq or not name.strip():
            raise errors.InputError(
                f"invalid dependency {text!r}: write NAME=AVAILABILITY, like db=99.95", field=field
            )
        if name in found:
            # The same hard dependency counts once (SPEC §3.1); twice is a typo, not a product.
            raise errors.InputError(f"{name!r} is given more than once", field=field)
        if not _PERCENT.match(value) or not 0 < Decimal(value) <= 100:
            raise errors.InputError(
                f"invalid availability {value!r} for {name!r}: a percentage in (0, 100]",
                field=field,
            )
        # float(value) / 100, as the operator converts a dependency's percent, so that the same
        # figure gives the same ceiling to the last bit (tests/integration/test_cli_operator_agree).
        found[name] = inputs.Dependency(name=name, availability=float(Decimal(value)) / 100)
    return tuple(found.values())


def _exclusion(text: str) -> history.Exclusion:
    field = "--exclude"
    first, slash, second = text.partition("/")
    if not slash:
        raise errors.InputError(
            f"invalid window {text!r}: write START/END in RFC 3339, "
            "like 2024-05-01T02:00:00Z/2024-05-01T04:00:00Z",
            field=field,
        )
    start = inputfile.parse_time(first, field=field)
    end = inputfile.parse_time(second, field=field)
    if end <= start:
        raise errors.InputError(f"end must be after start in {text!r}", field=field)
    return history.Exclusion(start=start, end=end, reason="--exclude")


# --- values of the live flags ------------------------------------------------------------------


def url(text: str) -> str:
    """The ``--prometheus`` URL, checked for a scheme and a host before any connection."""
    if not re.match(r"^https?://[^/\s]+", text):
        raise errors.InputError(
            f"invalid URL {text!r}: use http(s)://host:port, like http://localhost:9090",
            field="--prometheus",
        )
    return text


def readable(path: str, *, field: str) -> None:
    """Fail on a missing or unreadable file now (exit 2), not as a connection error later."""
    try:
        with open(path, "rb") as handle:
            handle.read(1)
    except OSError as exc:
        raise errors.InputError(f"cannot read {path!r}: {exc.strerror}", field=field) from exc


def parse_at(text: str) -> int:
    """``--at`` as epoch seconds, written either as epoch seconds or in RFC 3339."""
    if text.isdigit():
        return int(text)
    return inputfile.parse_time(text, field="--at")
