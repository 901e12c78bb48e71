"""The ``sloreco`` command: the operator's analysis, one-shot, without a cluster.

``sloreco recommend`` reads bucketed history live from Prometheus (``--prometheus``) or from a
JSON file (``--input``, see ``sources.inputfile``), runs the same engine the operator runs and
prints the three tiers: a table for people, or JSON/YAML shaped like ``SloRecommendation.spec``
for tools. Nothing here computes statistics; this module only hands the parsed flags
(``sloreco.cli.cliargs``, their values ``sloreco.cli.clivalues``) and the history
(``sloreco.cli.clisources``) to the engine, and turns its results or errors into output and an
exit code.

The JSON/YAML document is ``{"service": <--service, if given>, "recommendations": [...]}`` with
one ``render.crd.recommendation_spec`` per SLI, availability first: the same camelCase fields, in
the same order, as ``SloRecommendation.spec`` minus what only a cluster knows (names, times of
generation and expiry). An SLI without enough history is left out, named on stderr, and listed in
``notRecommended`` (``[{"sli", "reason", "daysFound"}]``, present only then) with exit 3.

Determinism: the data end is ``--at`` (default now) aligned down to the bucket, and the bootstrap
seed comes from stable inputs (``--service`` or else the selectors, the SLI, the data end), so
the same command at the same ``--at`` prints the same bytes. ``--service`` plays the part of the
operator's object uid: with it, the live and the offline path give the same seed, and the same
output when they see the same buckets.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TextIO

import yaml

from sloreco import allocator, errors
from sloreco.cli import cliargs, clisources, clivalues, export, fleetprior, pictures
from sloreco.core import alerting, bootstrap, history, slis
from sloreco.render import crd, plot, report

#: Exit codes, also listed in ``--help``. 2 is argparse's own code for usage errors, so every
#: "the command line or the input is wrong" case shares it.
EXIT_OK = 0
EXIT_INPUT = 2
EXIT_INSUFFICIENT = 3
EXIT_SOURCE = 4


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    args = cliargs.parser().parse_args(argv)
    allocator.tune()
    try:
        if args.command == "export":
            return export.run(args, out=sys.stdout)
        if args.command == "prior":
            return fleetprior.run(args, out=sys.stdout)
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
    options = clivalues.options(args)
    pictures.check(args)
    pairs: list[plot.Pair] = []
    histories = (
        clisources.from_input(args) if args.input is not None else clisources.from_prometheus(args)
    )
    specs: list[dict[str, object]] = []
    texts: list[str] = []
    skipped: list[dict[str, object]] = []
    code = EXIT_OK
    for sli, kind in slis.KINDS.items():
        source = histories.of(sli)
        if sli in histories.missing:
            reason = _one_line(str(histories.missing[sli]))
            print(f"sloreco: {sli}: {reason}", file=err)
            skipped.append({"sli": sli, "reason": reason, "daysFound": "0.00"})
            code = EXIT_INSUFFICIENT
            continue
        if source is None:
            continue
        data = history.exclude(source, options.exclusions)
        seed = bootstrap.seed_from(
            *(histories.identity[sli] if options.service is None else (options.service,)),
            sli,
            str(data.end),
        )
        try:
            result = alerting.with_alerting(kind.recommend(data, options.request(seed=seed)), data)
        except errors.InsufficientDataError as exc:
            reason = _one_line(str(exc))
            print(f"sloreco: {sli}: {reason}", file=err)
            skipped.append({"sli": sli, "reason": reason, "daysFound": f"{exc.days_found:.2f}"})
            code = EXIT_INSUFFICIENT
            continue
        specs.append(crd.recommendation_spec(result))
        texts.append(report.render_text(result))
        pairs.append((result, data))
    pictures.write(args, pairs, texts, service=options.service)
    out.write(_render(specs, texts, skipped, options=options))
    return code


def _render(
    specs: list[dict[str, object]],
    texts: list[str],
    skipped: list[dict[str, object]],
    *,
    options: clivalues.Options,
) -> str:
    doc: dict[str, object] = {} if options.service is None else {"service": options.service}
    doc["recommendations"] = specs
    if skipped:  # exit 3: a tool reading stdout learns why, not only a person reading stderr
        doc["notRecommended"] = skipped
    # Keys keep the engine's fixed order (``results.to_spec``: what, then tiers, then why), which
    # is as deterministic as sorting and reads in the order a person asks the questions.
    if options.output == "json":
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if options.output == "yaml":
        return str(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    # ``report.render_text`` heads each SLI with what, window and history range already.
    heading = [f"Service: {options.service}\n"] if options.service is not None else []
    return "\n".join([*heading, *(text.rstrip() + "\n" for text in texts)])


if __name__ == "__main__":  # ``python -m sloreco.cli.main`` (no console script)
    sys.exit(main())
