"""The ``sloreco`` command: the operator's analysis, one-shot, without a cluster.

``sloreco recommend`` reads bucketed history live from Prometheus (``--prometheus``) or from a
JSON file (``--input``, see ``sloreco.inputfile``), runs the same engine the operator runs and
prints the three tiers: a table for people, or JSON/YAML shaped like ``SloRecommendation.spec``
for tools. Nothing here computes statistics; this module only turns flags into the engine's
arguments and its results or errors into output and an exit code.

The JSON/YAML document is ``{"service": <--service, if given>, "recommendations": [...]}`` with
one ``results.SliResult.to_spec()`` per SLI, availability first: the same camelCase fields, in
the same order, as ``SloRecommendation.spec`` minus what only a cluster knows (names, times of
generation and expiry). An SLI without enough history is left out and named on stderr (exit 3).

Determinism: the data end is ``--at`` (default now) aligned down to the bucket, and the bootstrap
seed comes from stable inputs (``--service`` or else the selectors, the SLI, the data end), so
the same command at the same ``--at`` prints the same bytes. ``--service`` plays the part of the
operator's object uid: with it, the live and the offline path give the same seed, and the same
output when they see the same buckets.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import re
import ssl
import sys
import time
import urllib.parse
from collections.abc import Sequence
from decimal import Decimal
from typing import Literal, TextIO

import numpy as np
import yaml

from sloreco import (
    bootstrap,
    durations,
    engine,
    errors,
    history,
    inputfile,
    prometheus,
    promql,
    report,
    results,
    spec,
)

#: Exit codes, also listed in ``--help``. 2 is argparse's own code for usage errors, so every
#: "the command line or the input is wrong" case shares it.
EXIT_OK = 0
EXIT_INPUT = 2
EXIT_INSUFFICIENT = 3
EXIT_SOURCE = 4

#: Defaults shared with ``ServiceLevel.spec`` (SPEC §2.1), so the CLI and the operator agree.
DEFAULT_WINDOW = "28d"
DEFAULT_LOOKBACK = "90d"
DEFAULT_PERCENTILE = "99"
#: The operator's default bucket (SPEC §3.1: "per bucket (hourly by default)").
DEFAULT_BUCKET = "1h"
#: The operator's default per-source timeout (``sloreco.settings``).
DEFAULT_TIMEOUT = "30s"
#: A person is waiting: three attempts (0.5 s, then 1 s apart) ride out a Prometheus restart
#: blip without making a wrong URL hang; the operator retries for much longer on its own timer.
RETRY = prometheus.RetryPolicy(attempts=3)

Sli = Literal["availability", "latency"]

#: Percent and seconds as the CRD spells them: decimal strings, never floats.
_PERCENT = re.compile(spec.PERCENT_PATTERN)
_SECONDS = re.compile(spec.SECONDS_PATTERN)

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
    dependencies: tuple[engine.Dependency, ...]
    exclusions: tuple[history.Exclusion, ...]
    output: Literal["table", "json", "yaml"]


@dataclasses.dataclass(frozen=True)
class Histories:
    """The history per SLI, and what identifies it for the seed (selectors, or the input)."""

    availability: history.AvailabilityHistory | None
    latency: history.LatencyHistory | None
    identity: dict[Sli, tuple[str, ...]]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return _recommend(args, out=sys.stdout, err=sys.stderr)
    except errors.InputError as exc:
        return _fail(exc, EXIT_INPUT)
    except errors.SourceError as exc:
        return _fail(exc, EXIT_SOURCE)
    except errors.InsufficientDataError as exc:  # only if raised outside one SLI's computation
        return _fail(exc, EXIT_INSUFFICIENT)


def _fail(exc: Exception, code: int) -> int:
    print(f"sloreco: {_one_line(str(exc))}", file=sys.stderr)
    return code


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --- the command -------------------------------------------------------------------------------


def _recommend(args: argparse.Namespace, *, out: TextIO, err: TextIO) -> int:
    options = _options(args)
    histories = _from_input(args) if args.input is not None else _from_prometheus(args)
    specs: list[dict[str, object]] = []
    texts: list[str] = []
    code = EXIT_OK
    for sli in ("availability", "latency"):
        source = getattr(histories, sli)
        if source is None:
            continue
        data = history.exclude(source, options.exclusions)
        seed = bootstrap.seed_from(
            *(histories.identity[sli] if options.service is None else (options.service,)),
            sli,
            str(data.end),
        )
        try:
            result = _compute(data, options=options, seed=seed)
        except errors.InsufficientDataError as exc:
            print(f"sloreco: {sli}: {_one_line(str(exc))}", file=err)
            code = EXIT_INSUFFICIENT
            continue
        specs.append(result.to_spec())
        texts.append(report.render_text(result))
    out.write(_render(specs, texts, options=options))
    return code


def _compute(
    data: history.AvailabilityHistory | history.LatencyHistory,
    *,
    options: Options,
    seed: int,
) -> results.SliResult:
    if isinstance(data, history.AvailabilityHistory):
        return engine.recommend_availability(
            data,
            window_seconds=options.window_seconds,
            seed=seed,
            dependencies=options.dependencies,
            current_objective=options.objective_availability,
        )
    if not np.isfinite(data.cumulative).any():
        # The reader's shape for "no series matched" has only the +Inf bound, which the engine
        # would reject as a malformed histogram (exit 2); it is missing data (exit 3).
        raise errors.InsufficientDataError(
            "no histogram data at all in the lookback (0 days found)", days_found=0.0
        )
    return engine.recommend_latency(
        data,
        percentile=options.percentile,
        window_seconds=options.window_seconds,
        seed=seed,
        current_objective=options.objective_latency,
    )


def _render(specs: list[dict[str, object]], texts: list[str], *, options: Options) -> str:
    doc: dict[str, object] = {} if options.service is None else {"service": options.service}
    doc["recommendations"] = specs
    # Keys keep the engine's fixed order (``results.to_spec``: what, then tiers, then why), which
    # is as deterministic as sorting and reads in the order a person asks the questions.
    if options.output == "json":
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if options.output == "yaml":
        return str(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    # ``report.render_text`` heads each SLI with what, window and history range already.
    heading = [f"Service: {options.service}\n"] if options.service is not None else []
    return "\n".join([*heading, *(text.rstrip() + "\n" for text in texts)])


# --- where the history comes from ------------------------------------------------------------


#: Flags that mean nothing for a file, which carries its own buckets (refused, not ignored).
_LIVE_ONLY = (
    "total",
    "errors",
    "histogram",
    "lookback",
    "bucket",
    "at",
    "timeout",
    "bearer_token_file",
    "ca_file",
)


def _from_input(args: argparse.Namespace) -> Histories:
    for name in _LIVE_ONLY:
        if getattr(args, name) is not None:
            flag = "--" + name.replace("_", "-")
            raise errors.InputError(
                "only with --prometheus (an --input file carries its own buckets)", field=flag
            )
    try:
        if args.input == "-":
            text = sys.stdin.read()
        else:
            with open(args.input, encoding="utf-8") as handle:
                text = handle.read()
    except OSError as exc:
        raise errors.InputError(
            f"cannot read {args.input!r}: {exc.strerror}", field="--input"
        ) from exc
    except UnicodeDecodeError as exc:
        raise errors.InputError(
            f"{args.input!r} is not UTF-8 text: {exc}", field="--input"
        ) from exc
    doc = inputfile.loads(text)
    identity: tuple[str, ...] = ("input",)
    return Histories(
        availability=doc.availability,
        latency=doc.latency,
        identity={"availability": identity, "latency": identity},
    )


def _from_prometheus(args: argparse.Namespace) -> Histories:
    """Check every live flag first (exit 2 before any connection), then query."""
    if (args.total is None) != (args.errors is None):
        missing = "--errors" if args.errors is None else "--total"
        raise errors.InputError("--total and --errors go together", field=missing)
    if args.total is None and args.histogram is None:
        raise errors.InputError(
            "give --total and --errors (availability) and/or --histogram (latency)",
            field="--prometheus",
        )
    selectors: dict[str, promql.Selector] = {}
    if args.total is not None:
        selectors["total"] = promql.parse_selector(args.total, field="--total")
        selectors["errors"] = promql.parse_selector(args.errors, field="--errors")
    if args.histogram is not None:
        selectors["histogram"] = promql.parse_histogram_selector(
            args.histogram, field="--histogram"
        )
    bucket = durations.parse(args.bucket or DEFAULT_BUCKET, field="--bucket")
    try:
        history.buckets_per_day(bucket)
    except errors.InputError as exc:
        raise errors.InputError(exc.reason, field="--bucket") from exc
    lookback = durations.parse(args.lookback or DEFAULT_LOOKBACK, field="--lookback")
    if lookback % bucket:
        raise errors.InputError(
            f"must be a whole number of buckets ({durations.format(bucket)})", field="--lookback"
        )
    at = _parse_at(args.at) if args.at is not None else int(time.time())
    end = prometheus.align_end(at, bucket)
    if args.bearer_token_file is not None:
        _readable(args.bearer_token_file, field="--bearer-token-file")
    if args.ca_file is not None:
        _readable(args.ca_file, field="--ca-file")
    url = _url(args.prometheus)
    config = prometheus.SourceConfig(
        # The name appears in the reader's errors; host:port says which server a person meant.
        name=urllib.parse.urlsplit(url).netloc,
        url=url,
        bearer_token_file=args.bearer_token_file,
        ca_file=args.ca_file,
        timeout=float(durations.parse(args.timeout or DEFAULT_TIMEOUT, field="--timeout")),
    )
    return asyncio.run(_query(config, selectors, start=end - lookback, end=end, bucket=bucket))


async def _query(
    config: prometheus.SourceConfig,
    selectors: dict[str, promql.Selector],
    *,
    start: int,
    end: int,
    bucket: int,
) -> Histories:
    try:
        client = prometheus.PrometheusClient(config, retry=RETRY)
    except ssl.SSLError as exc:
        raise errors.InputError(f"not a usable CA bundle: {exc}", field="--ca-file") from exc
    availability = latency = None
    identity: dict[Sli, tuple[str, ...]] = {}
    async with client:
        if "total" in selectors:
            availability = await client.read_availability(
                total=selectors["total"],
                errors=selectors["errors"],
                start=start,
                end=end,
                bucket_seconds=bucket,
            )
            identity["availability"] = (str(selectors["total"]), str(selectors["errors"]))
        if "histogram" in selectors:
            latency = await client.read_latency(
                histogram=selectors["histogram"], start=start, end=end, bucket_seconds=bucket
            )
            identity["latency"] = (str(selectors["histogram"]),)
    return Histories(availability=availability, latency=latency, identity=identity)


def _url(text: str) -> str:
    if not re.match(r"^https?://[^/\s]+", text):
        raise errors.InputError(
            f"invalid URL {text!r}: use http(s)://host:port, like http://localhost:9090",
            field="--prometheus",
        )
    return text


def _readable(path: str, *, field: str) -> None:
    """Fail on a missing or unreadable file now (exit 2), not as a connection error later."""
    try:
        with open(path, "rb") as handle:
            handle.read(1)
    except OSError as exc:
        raise errors.InputError(f"cannot read {path!r}: {exc.strerror}", field=field) from exc


def _parse_at(text: str) -> int:
    if text.isdigit():
        return int(text)
    return inputfile.parse_time(text, field="--at")


# --- the options every recommendation takes ----------------------------------------------------


def _options(args: argparse.Namespace) -> Options:
    window = durations.parse(args.window, field="--window")
    percentile = _percent(args.percentile, field="--percentile")
    if not spec.PERCENTILE_MIN <= percentile <= spec.PERCENTILE_MAX:
        raise errors.InputError(
            f"must be between {spec.PERCENTILE_MIN} and {spec.PERCENTILE_MAX}, got {percentile}",
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
    )


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


def _dependencies(texts: Sequence[str]) -> tuple[engine.Dependency, ...]:
    field = "--dependency"
    found: dict[str, engine.Dependency] = {}
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
        found[name] = engine.Dependency(name=name, availability=float(Decimal(value) / 100))
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


# --- the parser --------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sloreco",
        description="Recommend SLO targets from Prometheus history.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    rec = commands.add_parser(
        "recommend",
        help="recommend targets for one service, live or from a file",
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
    live.add_argument("--lookback", help=f"history to analyse (default {DEFAULT_LOOKBACK})")
    live.add_argument("--bucket", help=f"bucket size (default {DEFAULT_BUCKET})")
    live.add_argument(
        "--at",
        metavar="TIME",
        help="data end, RFC 3339 or epoch seconds, aligned down to the bucket (default now)",
    )
    live.add_argument("--timeout", help=f"per-query timeout (default {DEFAULT_TIMEOUT})")
    live.add_argument("--bearer-token-file", metavar="FILE")
    live.add_argument("--ca-file", metavar="FILE", help="CA bundle to verify Prometheus's TLS")

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
    common.add_argument("--output", choices=("table", "json", "yaml"), default="table")
    return parser


if __name__ == "__main__":  # ``python -m sloreco.cli``, for a checkout without the console script
    sys.exit(main())
