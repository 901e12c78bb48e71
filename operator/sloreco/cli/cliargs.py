"""The ``sloreco`` command line: its flags, their defaults and the parsers of their values.

Kept apart from ``cli.main`` (which runs the analysis and prints) so that the surface a person
types, and every "exit 2" it can cause, reads in one place. The value parsers follow the package's
rule of parsing at the boundary: each turns one flag's text into a typed value or raises
``errors.InputError`` naming the flag, so nothing past this module sees a raw string.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import typing
from collections.abc import Sequence
from decimal import Decimal
from typing import Literal

import sloreco
from sloreco import api, errors
from sloreco.cli import export, fleetprior, pictures
from sloreco.core import durations, history, inputs, priordoc, results
from sloreco.core.prior import Prior
from sloreco.core.slis import base
from sloreco.sources import inputfile
from sloreco.spec import fields

#: Defaults shared with ``ServiceLevel.spec`` (SPEC §2.1), so the CLI and the operator agree.
DEFAULT_WINDOW = "28d"
DEFAULT_LOOKBACK = "90d"
DEFAULT_PERCENTILE = "99"
#: The operator's default per-source timeout (``sloreco.settings``).
DEFAULT_TIMEOUT = "30s"

#: Percent and seconds as the CRD spells them: decimal strings, never floats.
_PERCENT = re.compile(fields.PERCENT_PATTERN)
_SECONDS = re.compile(fields.SECONDS_PATTERN)

_EPILOG = """\
exit codes:
  0  success
  2  bad command line or input (one line on stderr names the flag or field)
  3  not enough history for a recommendation (the reason is printed; other SLIs still are)
  4  Prometheus unreachable or the query failed

examples:
  sloreco recommend --prometheus http://localhost:9090 \\
      --total 'http_requests_total{service="checkout"}' \\
      --errors 'http_requests_total{service="checkout",code=~"5.."}' \\
      --histogram 'http_request_duration_seconds_bucket{service="checkout"}' --percentile 99
  sloreco recommend --input history.json --objective-availability 99.9 --output json
"""


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


# --- the parser --------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (like every other bad input), not a usage block.

    ``--help`` still shows the whole usage; the line points to it.
    """

    def error(self, message: str) -> typing.NoReturn:
        self.exit(2, f"{self.prog}: {message} (see '{self.prog} --help')\n")


def parser() -> argparse.ArgumentParser:
    """The whole command line; ``--help`` shows the exit codes and examples (``_EPILOG``)."""
    top = _Parser(
        prog="sloreco",
        description="Recommend SLO targets from Prometheus history.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--version", action="version", version=f"sloreco {sloreco.__version__}")
    commands = top.add_subparsers(dest="command", metavar="COMMAND", required=True)
    rec = commands.add_parser(
        "recommend",
        aliases=["report"],
        help="recommend targets for one service, live or from a file "
        "(report: the same, with --html FILE)",
        description="Recommend conservative, balanced and aggressive SLO targets.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = rec.add_mutually_exclusive_group(required=True)
    source.add_argument("--prometheus", metavar="URL", help="read history from this Prometheus")
    source.add_argument(
        "--input", metavar="FILE", help="read history from a JSON file ('-' for stdin)"
    )

    live = rec.add_argument_group("live (with --prometheus)")
    live.add_argument("--total", metavar="SEL", help="selector of the all-requests counter")
    live.add_argument("--errors", metavar="SEL", help="selector of the failed-requests counter")
    live.add_argument("--histogram", metavar="SEL", help="selector of a histogram's _bucket series")
    live.add_argument("--bucket", help=f"bucket size (default {api.DEFAULT_BUCKET})")
    live.add_argument("--timeout", help=f"per-query timeout (default {DEFAULT_TIMEOUT})")
    live.add_argument("--bearer-token-file", metavar="FILE")
    live.add_argument("--ca-file", metavar="FILE", help="CA bundle to verify Prometheus's TLS")

    span = rec.add_argument_group("which history (live or --input)")
    span.add_argument(
        "--lookback",
        help=f"history to analyse (default {DEFAULT_LOOKBACK}; with --input, the whole file)",
    )
    span.add_argument(
        "--at",
        metavar="TIME",
        help="data end, RFC 3339 or epoch seconds, aligned down to the bucket "
        "(default now; with --input, the file's end)",
    )

    common = rec.add_argument_group("recommendation")
    common.add_argument("--service", help="the service's name, shown in output and used as seed")
    common.add_argument(
        "--window", default=DEFAULT_WINDOW, help=f"SLO window (default {DEFAULT_WINDOW})"
    )
    common.add_argument(
        "--percentile",
        default=DEFAULT_PERCENTILE,
        help=f"latency percentile (default {DEFAULT_PERCENTILE})",
    )
    common.add_argument(
        "--objective-availability", metavar="PERCENT", help="today's objective, like 99.9"
    )
    common.add_argument(
        "--objective-latency", metavar="SEC@PERCENT", help="today's objective, like 0.3@99"
    )
    common.add_argument(
        "--dependency",
        action="append",
        default=[],
        metavar="NAME=PERCENT",
        help="a hard external dependency's availability, like db=99.95 (repeatable)",
    )
    common.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="START/END",
        help="a maintenance window to leave out, RFC 3339/RFC 3339 (repeatable)",
    )
    common.add_argument(
        "--prior",
        action="append",
        default=[],
        metavar="FILE",
        help="incident prior as JSON (kind SlorecoPrior, e.g. a fleet's exported from the "
        "operator or made by 'sloreco prior'); repeatable, one per scope (availability, "
        "latency-<bound>s); default: the documented default prior",
    )
    common.add_argument("--output", choices=("table", "json", "yaml"), default="table")
    pictures.add_arguments(rec)
    export.add_parser(commands)
    fleetprior.add_parser(commands)
    return top
