"""Exports: an adopted tier written for the tools that run SLOs (one module per format).

``FORMATS`` is the only registry; each entry satisfies ``base.Format``. Pure: documents in,
documents out (``dump`` writes them as YAML, the same bytes for the same input).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import yaml

from sloreco import api, errors
from sloreco.render.exports import base, openslo, prometheusrule, pyrra, sloth

#: Every format by its ``--format`` name, in the order ``--help`` lists them.
FORMATS: Mapping[str, base.Format] = {
    f.name: f for f in (prometheusrule.FORMAT, pyrra.FORMAT, sloth.FORMAT, openslo.FORMAT)
}


def get(name: str) -> base.Format:
    """The format called ``name``; ``errors.InputError`` naming the known ones otherwise."""
    try:
        return FORMATS[name]
    except KeyError:
        raise errors.InputError(
            f"unknown format {name!r}; known: {', '.join(FORMATS)}", field="--format"
        ) from None


def render(format_name: str, slos: Sequence[base.Slo], target: base.Target) -> list[api.Obj]:
    """The documents of ``slos`` in the format called ``format_name``."""
    found = get(format_name)
    if target.plain and not found.plain:
        raise errors.InputError(
            f"{format_name} has no plain form (only "
            f"{', '.join(f.name for f in FORMATS.values() if f.plain)})",
            field="--plain",
        )
    if not slos:
        raise errors.InputError("nothing to export", field="--sli")
    return found.render(slos, target)


#: Never fold a line: a PromQL expression wrapped by YAML is correct but unreadable.
WIDTH = 1 << 20


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (PromQL alert expressions) as literal blocks, readable in review."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump(docs: Sequence[api.Obj]) -> str:
    """YAML documents separated by ``---``, keys in the formats' own order."""
    return yaml.dump_all(
        list(docs),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        explicit_start=True,
        width=WIDTH,
    )
