"""``--plot FILE`` (PNG or SVG) and ``--html FILE`` (``sloreco report``): the pictures.

Drawn by ``render.plot`` (matplotlib, the optional ``plot`` extra) from the results and the
histories they came from; written here, the CLI being the layer that touches files.
"""

from __future__ import annotations

import argparse
import pathlib
from collections.abc import Sequence

from sloreco import errors
from sloreco.render import html, plot


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("pictures (pip install 'sloreco[plot]')")
    group.add_argument(
        "--plot", metavar="FILE", help="draw the SLI over the history and the tiers (.png or .svg)"
    )
    group.add_argument(
        "--html", metavar="FILE", help="write the report with its picture as one HTML page"
    )


def check(args: argparse.Namespace) -> None:
    """Refuse a bad file name before any work (exit 2), not after the analysis."""
    if args.plot is not None and pathlib.Path(args.plot).suffix.lower() not in plot.FORMATS:
        raise errors.InputError(f"use a .png or .svg file name, got {args.plot!r}", field="--plot")
    if args.command == "report" and args.html is None:
        raise errors.InputError("sloreco report needs --html FILE", field="--html")


def write(
    args: argparse.Namespace,
    pairs: Sequence[plot.Pair],
    texts: Sequence[str],
    *,
    service: str | None,
) -> None:
    """Write what ``--plot`` and ``--html`` asked for (nothing without them)."""
    if not pairs or (args.plot is None and args.html is None):
        return
    if args.plot is not None:
        suffix = pathlib.Path(args.plot).suffix.lower()
        _save(args.plot, plot.render(pairs, fmt=suffix, service=service), field="--plot")
    if args.html is not None:
        title = "SLO recommendation" + (f" for {service}" if service else "")
        svg = plot.render(pairs, fmt=".svg", service=service)
        _save(args.html, html.page(title=title, svg=svg, texts=texts).encode(), field="--html")


def _save(path: str, data: bytes, *, field: str) -> None:
    try:
        pathlib.Path(path).write_bytes(data)
    except OSError as exc:
        raise errors.InputError(f"cannot write {path!r}: {exc.strerror}", field=field) from exc
