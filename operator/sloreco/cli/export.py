"""``sloreco export``: a recommendation's tier as a PrometheusRule, Pyrra, Sloth or OpenSLO object.

Reads what ``sloreco recommend --output json|yaml`` printed, or a ``SloRecommendation`` as
``kubectl get sloreco NAME -o yaml`` prints it (or a ``List`` of them), picks the tier, and prints
the format's documents as YAML on stdout (``render.exports``). A recommendation does not carry the
selectors it was computed from, so they are given here, as to ``recommend`` (``--total``,
``--errors``, ``--histogram``). Everything wrong with the input is an ``InputError``: exit 2 and
one line naming the flag or field.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any, TextIO

import yaml

from sloreco import api, errors
from sloreco.render import exports
from sloreco.render.exports import base, document
from sloreco.spec import indicator

#: Object names: DNS-1123 labels, short enough that ``<name>-availability`` is still one.
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
NAME_MAX = 63 - len("-availability")
#: Selector flags by the role ``spec.indicator`` reads them under.
FIELDS = {"total": "--total", "errors": "--errors", "histogram": "--histogram"}

_EPILOG = """\
examples:
  sloreco recommend --input history.json --service checkout --output json > rec.json
  sloreco export --recommendation rec.json --tier balanced --format prometheus-rule \\
      --total 'http_requests_total{service="checkout"}' \\
      --errors 'http_requests_total{service="checkout",code=~"5.."}'
  kubectl get sloreco checkout-latency-1735a1a1b9 -o yaml | sloreco export --recommendation - \\
      --tier balanced --format sloth --plain \\
      --histogram 'http_request_duration_seconds_bucket{service="checkout"}'
"""


def add_parser(commands: argparse._SubParsersAction[Any]) -> None:
    """The ``export`` subcommand's flags."""
    cmd = commands.add_parser(
        "export",
        help="write a recommended tier as a PrometheusRule, Pyrra, Sloth or OpenSLO object",
        description="Export one tier of a recommendation as YAML on stdout.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cmd.add_argument(
        "--recommendation",
        required=True,
        metavar="FILE",
        help="recommend's JSON/YAML or a SloRecommendation ('-' for stdin)",
    )
    cmd.add_argument("--tier", required=True, choices=base.TIERS)
    cmd.add_argument("--format", required=True, choices=tuple(exports.FORMATS))
    cmd.add_argument(
        "--plain", action="store_true", help="the tool's plain file, not a Kubernetes object"
    )
    cmd.add_argument("--name", help="object name (default: the service)")
    cmd.add_argument("--namespace", help="metadata.namespace of the objects")
    cmd.add_argument("--service", help="service name (default: the recommendation's)")
    cmd.add_argument("--sli", choices=api.SLIS, help="export only this SLI (default: all)")
    cmd.add_argument("--total", metavar="SEL", help="selector of the all-requests counter")
    cmd.add_argument("--errors", metavar="SEL", help="selector of the failed-requests counter")
    cmd.add_argument("--histogram", metavar="SEL", help="selector of a histogram's _bucket series")


def run(args: argparse.Namespace, *, out: TextIO) -> int:
    """Print the export of ``args``; ``InputError`` on bad input (the caller exits 2)."""
    specs, about = document.recommendations(_read(args.recommendation))
    service = args.service or about.get("service") or args.name
    name = args.name or about.get("serviceLevel") or service
    if not name or not service:
        raise errors.InputError(
            "the recommendation names no service: give --name or --service", field="--name"
        )
    if not _NAME.match(name) or len(name) > NAME_MAX:
        raise errors.InputError(
            f"{name!r} is not a valid object name: lowercase letters, digits and '-', "
            f"at most {NAME_MAX} characters",
            field="--name",
        )
    if args.namespace is not None and not _NAME.match(args.namespace):
        raise errors.InputError(f"{args.namespace!r} is not a namespace name", field="--namespace")
    selectors = {role: getattr(args, role) for role in FIELDS if getattr(args, role)}
    slos = []
    for spec in specs:
        if args.sli is not None and spec.get("sli") != args.sli:
            continue
        objective = document.objective(
            spec, tier=args.tier, recommendation=about.get("recommendation")
        )
        slos.append(base.Slo(objective, indicator.indicator(objective, selectors, fields=FIELDS)))
    target = base.Target(name=name, service=service, namespace=args.namespace, plain=args.plain)
    out.write(exports.dump(exports.render(args.format, slos, target)))
    return 0


def _read(path: str) -> object:
    field = "--recommendation"
    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
    except OSError as exc:
        raise errors.InputError(f"cannot read {path!r}: {exc.strerror}", field=field) from exc
    except UnicodeDecodeError as exc:
        raise errors.InputError(f"{path!r} is not UTF-8 text", field=field) from exc
    try:
        return json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise errors.InputError(f"{path!r} is not JSON or YAML: {first}", field=field) from exc
