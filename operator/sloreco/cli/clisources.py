"""Where ``sloreco recommend`` gets its history: an ``--input`` file or a live Prometheus.

Kept apart from ``sloreco.cli.main`` because this is the command's only I/O besides printing, and it
has an order to keep: every live flag is checked (exit 2) before the first connection, so a typo
never looks like an unreachable server (exit 4). Each source also says what identifies its data
(``Histories.identity``), which ``sloreco.cli.main`` turns into the bootstrap seed.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import ssl
import sys
import time
import urllib.parse

from sloreco import api, errors, retry
from sloreco.cli import cliargs, clivalues
from sloreco.core import durations, history
from sloreco.sources import inputfile, matched, prometheus, promql

#: A person is waiting: three attempts (0.5 s, then 1 s apart) ride out a Prometheus restart
#: blip without making a wrong URL hang; the operator retries for much longer on its own timer.
RETRY = retry.RetryPolicy(attempts=3)


#: Flags that mean nothing for a file, which carries its own buckets and selectors (refused, not
#: ignored). ``--lookback`` and ``--at`` do apply: they cut the file's buckets (``_cut``).
_LIVE_ONLY = (
    "total",
    "errors",
    "histogram",
    "bucket",
    "timeout",
    "bearer_token_file",
    "ca_file",
)


@dataclasses.dataclass(frozen=True)
class Histories:
    """The history per SLI, and what identifies it for the seed (selectors, or the input)."""

    availability: history.AvailabilityHistory | None
    latency: history.LatencyHistory | None
    identity: dict[str, tuple[str, ...]]
    #: SLIs asked for whose selector matched nothing: said per SLI (exit 3), the other still runs.
    missing: dict[str, errors.InsufficientDataError] = dataclasses.field(default_factory=dict)

    def of(self, sli: str) -> history.AvailabilityHistory | history.LatencyHistory | None:
        """The history read for ``sli``, if the flags or the file asked for it."""
        found: dict[str, history.AvailabilityHistory | history.LatencyHistory | None] = {
            "availability": self.availability,
            "latency": self.latency,
        }
        return found.get(sli)


def from_input(args: argparse.Namespace) -> Histories:
    """Read ``--input`` (a path, or ``-`` for stdin), refusing the flags only a live read uses."""
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
    availability, latency = doc.availability, doc.latency
    if args.lookback is not None or args.at is not None:
        if availability is not None:
            availability = availability.span(*_span(availability, args))
        if latency is not None:
            latency = latency.span(*_span(latency, args))
    return Histories(
        availability=availability,
        latency=latency,
        identity={"availability": identity, "latency": identity},
    )


def _span(
    data: history.AvailabilityHistory | history.LatencyHistory, args: argparse.Namespace
) -> tuple[int, int]:
    """The bucket indices ``[first, last)`` of the file's buckets within
    ``--lookback`` ending at ``--at``, as a live read would take them.

    The end is ``--at`` aligned down to the file's bucket (default: the file's end), the start
    ``--lookback`` before it (default: the file's start); buckets the file does not have are not
    invented, so a lookback longer than the file keeps the whole file, as the operator uses
    whatever history exists.
    """
    bucket = data.bucket_seconds
    end = data.end
    if args.at is not None:
        end = min(end, prometheus.align_end(clivalues.parse_at(args.at), bucket))
        if end <= data.start:
            raise errors.InputError(
                f"{args.at} is before the file's first bucket ({_rfc3339(data.start)})",
                field="--at",
            )
    start = data.start
    if args.lookback is not None:
        lookback = durations.parse(args.lookback, field="--lookback")
        if lookback % bucket:
            raise errors.InputError(
                f"must be a whole number of the file's buckets ({durations.format(bucket)})",
                field="--lookback",
            )
        start = max(start, end - lookback)
    return (start - data.start) // bucket, (end - data.start) // bucket


def _rfc3339(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def from_prometheus(args: argparse.Namespace) -> Histories:
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
    bucket = durations.parse(args.bucket or api.DEFAULT_BUCKET, field="--bucket")
    try:
        history.buckets_per_day(bucket)
    except errors.InputError as exc:
        raise errors.InputError(exc.reason, field="--bucket") from exc
    lookback = durations.parse(args.lookback or cliargs.DEFAULT_LOOKBACK, field="--lookback")
    if lookback % bucket:
        raise errors.InputError(
            f"must be a whole number of buckets ({durations.format(bucket)})", field="--lookback"
        )
    at = clivalues.parse_at(args.at) if args.at is not None else int(time.time())
    end = prometheus.align_end(at, bucket)
    if args.bearer_token_file is not None:
        clivalues.readable(args.bearer_token_file, field="--bearer-token-file")
    if args.ca_file is not None:
        clivalues.readable(args.ca_file, field="--ca-file")
    url = clivalues.url(args.prometheus)
    config = prometheus.SourceConfig(
        # The name appears in the reader's errors; host:port says which server a person meant.
        name=urllib.parse.urlsplit(url).netloc,
        url=url,
        bearer_token_file=args.bearer_token_file,
        ca_file=args.ca_file,
        timeout=float(durations.parse(args.timeout or cliargs.DEFAULT_TIMEOUT, field="--timeout")),
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
    identity: dict[str, tuple[str, ...]] = {}
    missing: dict[str, errors.InsufficientDataError] = {}
    async with client:
        if "total" in selectors:
            availability = await client.read_availability(
                total=selectors["total"],
                errors=selectors["errors"],
                start=start,
                end=end,
                bucket_seconds=bucket,
            )
            try:
                matched.require(availability, selector=selectors["total"], role="total")
            except errors.NoSeriesError as exc:
                missing["availability"] = _named(exc)
            identity["availability"] = (str(selectors["total"]), str(selectors["errors"]))
        if "histogram" in selectors:
            latency = await client.read_latency(
                histogram=selectors["histogram"], start=start, end=end, bucket_seconds=bucket
            )
            try:
                matched.require(latency, selector=selectors["histogram"], role="histogram")
            except errors.NoSeriesError as exc:
                missing["latency"] = _named(exc)
            identity["latency"] = (str(selectors["histogram"]),)
    return Histories(availability=availability, latency=latency, identity=identity, missing=missing)


def _named(exc: errors.NoSeriesError) -> errors.InsufficientDataError:
    """The reader's "matched no series", naming the flag the person typed the selector into."""
    return errors.InsufficientDataError(f"--{exc.role}: {exc}", days_found=0.0)
