"""``sloreco prior``: a fleet prior from several services' histories, for ``recommend --prior``.

Each ``--input`` is a history file as ``recommend --input`` reads it (one service); its
availability history's incidents — or with ``--latency-bound``, its requests slower than that
bound — are found exactly as the engine finds them (``core.evidence.of``), and the incident
statistics and background readings (``core.fleetspells``) of all of them are pooled into one
``SlorecoPrior`` document (``core.fleetpool.pool``: empirical Bayes, partial pooling) printed on
stdout, scoped to what it pooled
(``availability``, ``latency-0.5s``). A service of that fleet then gets ``sloreco recommend
--prior FILE``: where its own history holds no outage, the fleet's outages say what one would
cost. A latency prior serves the latency SLIs judged at its bound only: the same slowdown is
many slow minutes over 0.5 s and none over 5 s.
"""

from __future__ import annotations

import argparse
from typing import Any, TextIO

import numpy as np

from sloreco import errors
from sloreco.core import evidence, fleetpool, history, priordoc
from sloreco.core import prior as priors
from sloreco.core.models import latency
from sloreco.sources import inputfile

_EPILOG = """\
example:
  sloreco prior --input checkout.json --input payments.json --input search.json > fleet.json
  sloreco prior --latency-bound 0.5 --input checkout.json ... > fleet-latency.json
  sloreco recommend --input cart.json --prior fleet.json --prior fleet-latency.json
"""


def add_parser(commands: argparse._SubParsersAction[Any]) -> None:
    """The ``prior`` subcommand's flags."""
    cmd = commands.add_parser(
        "prior",
        help="pool several services' incidents and background drift into a fleet prior (JSON)",
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
        "--latency-bound",
        type=float,
        metavar="SECONDS",
        help="pool the latency histories' requests slower than this histogram bound (le), "
        "for latency SLIs judged at it; default: pool the availability histories",
    )
    cmd.add_argument(
        "--origin", default="fleet", help="what the prior says it came from (default 'fleet')"
    )


def run(args: argparse.Namespace, *, out: TextIO) -> int:
    """Print the pooled prior; ``InputError`` on a bad file (the caller exits 2)."""
    bound: float | None = args.latency_bound
    stats = [_stats(path, bound) for path in args.input]
    scope = priors.scope_of("availability" if bound is None else "latency", bound)
    out.write(priordoc.dumps(fleetpool.pool(stats, origin=args.origin, scope=scope)))
    return 0


def _stats(path: str, bound: float | None) -> priors.ServiceStats:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise errors.InputError(f"cannot read {path!r}: {exc}", field="--input") from exc
    histories = inputfile.loads(text)
    if bound is None:
        if histories.availability is None:
            raise errors.InputError(f"{path}: no availability history", field="--input")
        total, bad, present = history.clean_availability(histories.availability)
        seconds = histories.availability.bucket_seconds
        return evidence.of(bad, total, present, bucket_seconds=seconds).stats()
    if histories.latency is None:
        raise errors.InputError(f"{path}: no latency history", field="--input")
    return _at_bound(path, histories.latency, bound)


def _at_bound(path: str, data: history.LatencyHistory, bound: float) -> priors.ServiceStats:
    """The incidents of the requests slower than ``bound``, as the engine reports them to its
    fleets (``models.latency.incidents_at_every_bound``)."""
    finite = data.bounds[:-1]
    if bound not in finite:
        raise errors.InputError(
            f"{path}: {bound:g} is not one of the histogram's bounds "
            f"({', '.join(f'{b:g}' for b in finite)})",
            field="--latency-bound",
        )
    counts, present = history.clean_latency(data)
    found = latency.incidents_at_every_bound(
        counts, np.asarray(data.bounds), present, bucket_seconds=data.bucket_seconds
    )
    return dict(found)[bound]
