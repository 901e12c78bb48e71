"""Prometheus-style durations (``5m``, ``1h``, ``28d``, ``1h30m``) as whole seconds.

One parser for the CRD values, the CLI flags and the PromQL range selectors we build, so the
three always agree. The accepted grammar is Prometheus's (``model.ParseDuration``) without
milliseconds: sloreco works in buckets of minutes at the finest.
"""

from __future__ import annotations

import re

from sloreco import errors

#: Unit lengths in seconds, largest first, as Prometheus defines them (a year is 365 days).
UNITS: dict[str, int] = {"y": 365 * 86400, "w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}

#: Also used verbatim in the CRD schema's ``pattern`` (kept in sync by a drift test).
PATTERN = r"^([0-9]+y)?([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?$"
_RE = re.compile(PATTERN)


def parse(text: str, *, field: str | None = None) -> int:
    """Return the duration in seconds; raise ``InputError`` naming ``field`` if malformed."""
    match = _RE.fullmatch(text)
    if not text or match is None:
        raise errors.InputError(
            f"invalid duration {text!r}: use Prometheus units like 5m, 1h, 28d", field=field
        )
    seconds = 0
    for part, unit in zip(match.groups(), UNITS, strict=True):
        if part:
            seconds += int(part[:-1]) * UNITS[unit]
    if seconds <= 0:
        raise errors.InputError(f"duration {text!r} must be greater than zero", field=field)
    return seconds


def format(seconds: int) -> str:  # shadows the builtin on purpose: durations.format
    """Render seconds in the shortest Prometheus form (``90000`` → ``1d1h``)."""
    if seconds <= 0:
        raise ValueError(f"duration must be positive, got {seconds}")
    out = []
    for unit, length in UNITS.items():
        if unit in ("y", "w"):
            continue  # days are clearer to SREs than weeks/years in a window (28d, 90d)
        count, seconds = divmod(seconds, length)
        if count:
            out.append(f"{count}{unit}")
    return "".join(out)
