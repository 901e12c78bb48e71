"""``sloreco prior``: a fleet prior from several services' histories, for ``recommend --prior``.

Each ``--input`` is a history file as ``recommend --input`` reads it (one service); its
availability history's incidents are found exactly as the engine finds them
(``core.evidence.of``), and the incident statistics of all of them are pooled into one
``SlorecoPrior`` document (``core.prior.pool``: empirical Bayes, partial pooling) printed on
stdout. A service of that fleet then gets ``sloreco recommend --prior FILE``: where its own
history holds no outage, the fleet's outages say what one would cost.
"""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from sloreco import errors
from sloreco.core import evidence, history
from sloreco.core import prior as priors
from sloreco.sources import inputfile

_EPILOG = """\
example:
  sloreco prior --input checkout.json --input payments.json --input search.json > fleet.json
  sloreco recommend --input cart.json --prior fleet.json
"""


def add_parser(commands: argparse._SubParsersAction[Any]) -> None:
    """The ``prior`` subcommand's flags."""
    cmd = commands.add_parser(
        "prior",
        help="pool several services' incident histories into a fleet prior (JSON)",
        description="Print the fleet prior of the given histories as a SlorecoPrior document.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cmd.add_argument(
        "--input",
        action="append",
        required=True,
        metavar="FILE",
        help="one service's history, as recommend --input reads it (repeatable)",
    )
    cmd.add_argument(
        "--origin", default="fleet", help="what the prior says it came from (default 'fleet')"
    )


def run(args: argparse.Namespace, *, out: TextIO) -> int:
    """Print the pooled prior; ``InputError`` on a bad file (the caller exits 2)."""
    stats = [_stats(path) for path in args.input]
    out.write(priors.pool(stats, origin=args.origin).to_json())
    return 0


def _stats(path: str) -> priors.ServiceStats:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise errors.InputError(f"cannot read {path!r}: {exc}", field="--input") from exc
    data = inputfile.loads(text).availability
    if data is None:
        raise errors.InputError(f"{path}: no availability history", field="--input")
    total, bad, present = history.clean_availability(data)
    found = evidence.of(bad, total, present, bucket_seconds=data.bucket_seconds)
    return found.stats()
