"""The ``sloreco`` command line: its flags, their defaults, the help and the exit codes.

Kept apart from ``cli.main`` (which runs the analysis and prints) so that the surface a person
types reads in one place. A usage error is one line here (exit 2); the values of the flags are
parsed by ``clivalues``, where a bad one is an ``errors.InputError`` naming the flag (exit 2 too).
"""

from __future__ import annotations

import argparse
import typing

import sloreco
from sloreco import api
from sloreco.cli import export, fleetprior, pictures

#: Defaults shared with ``ServiceLevel.spec`` (SPEC §2.1), so the CLI and the operator agree.
DEFAULT_WINDOW = "28d"
DEFAULT_LOOKBACK = "90d"
DEFAULT_PERCENTILE = "99"
#: The operator's default per-source timeout (``sloreco.settings``).
DEFAULT_TIMEOUT = "30s"

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
