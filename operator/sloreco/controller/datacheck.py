"""``DataSufficient=False`` over every configured SLI, stable across passes (pure).

A pass queries only the SLIs that are due (``plan.refreshes``), so one pass may learn about the
availability data and the next only about the latency data. Written per pass, the condition
showed whichever SLI was queried last: with a problem on each SLI it flipped between the two
(a Warning event each time), and a healthy latency refresh said "Enough history for every
configured SLI" while availability still had no series. So the condition is the union: this
pass's finding for each SLI it queried, and for the others what the stored condition says about
them — the status is the record of the last observation, as Kubernetes level-based controllers
keep it.

The message lists one segment per SLI with a problem, in SLI order; each segment begins with
the SLI (``availability: ...`` or ``spec.availability.<field> ...``), which is how a stored
message is split again. With one problem the condition's reason is that problem's; with more,
each segment ends with its own reason in parentheses and the condition carries the first one's.
``render(parse(message)) == message``, so an idle pass writes the same bytes.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any

from sloreco import api
from sloreco.controller import status


@dataclasses.dataclass(frozen=True)
class Problem:
    """Why one SLI's data could not be used: a condition reason and a sentence without the
    final full stop, which begins with the SLI (``availability: ...`` or ``spec.<sli>....``)."""

    sli: str
    reason: str
    detail: str

    def __post_init__(self) -> None:
        if not _starts_with_sli(self.detail, self.sli):
            raise ValueError(f"a data problem's detail must begin with its SLI: {self.detail!r}")

    @classmethod
    def of(cls, sli: str, reason: str, text: str) -> Problem:
        """A problem from a sentence that may end with a full stop (the message adds one)."""
        return cls(sli, reason, text.rstrip().rstrip("."))


#: A segment's own reason, when the message holds several: ``... (InsufficientHistory)``.
_OWN_REASON = re.compile(r"^(?P<detail>.*) \((?P<reason>[A-Z][A-Za-z]+)\)$", re.DOTALL)


def _starts_with_sli(text: str, sli: str) -> bool:
    return text.startswith((f"{sli}: ", f"spec.{sli}."))


def render(problems: Sequence[Problem]) -> status.Condition:
    """The False condition for ``problems`` (at least one, in SLI order)."""
    if len(problems) == 1:
        only = problems[0]
        return status.Condition(status.DATA_SUFFICIENT, False, only.reason, only.detail + ".")
    message = "; ".join(f"{p.detail} ({p.reason})" for p in problems) + "."
    return status.Condition(status.DATA_SUFFICIENT, False, problems[0].reason, message)


def parse(stored: Mapping[str, Any] | None) -> dict[str, Problem]:
    """The per-SLI problems a stored ``DataSufficient`` condition holds (none when it is True,
    absent, or not one this module wrote)."""
    if not stored or stored.get("status") != "False":
        return {}
    message = str(stored.get("message", "")).removesuffix(".")
    reason = str(stored.get("reason", ""))
    cuts = [0]
    for match in re.finditer("; ", message):
        rest = message[match.end() :]
        if any(_starts_with_sli(rest, sli) for sli in api.SLIS):
            cuts.append(match.end())
    segments = [message[a : b - 2 if b != len(message) else b] for a, b in _pairs(cuts, message)]
    found: dict[str, Problem] = {}
    for segment in segments:
        sli = next((s for s in api.SLIS if _starts_with_sli(segment, s)), None)
        if sli is None:
            return {}  # not a message this module wrote: nothing to carry
        detail, own = segment, reason
        if len(segments) > 1:
            matched = _OWN_REASON.match(segment)
            if matched is None:
                return {}
            detail, own = matched["detail"], matched["reason"]
        found[sli] = Problem(sli, own, detail)
    return found


def _pairs(cuts: list[int], message: str) -> list[tuple[int, int]]:
    ends = [*cuts[1:], len(message)]
    return list(zip(cuts, ends, strict=True))


def combine(
    slis: Sequence[str],
    found: Mapping[str, Problem | None],
    stored: Mapping[str, Any] | None,
) -> status.Condition | None:
    """``DataSufficient`` from this pass's findings (``None``: that SLI's data was fine) and,
    for the SLIs it did not query, the stored condition's. None when the pass queried nothing
    and nothing is stored (the caller keeps what is there)."""
    carried = parse(stored)
    problems = []
    for sli in slis:
        problem = found[sli] if sli in found else carried.get(sli)
        if problem is not None:
            problems.append(problem)
    if problems:
        return render(problems)
    if found or carried:
        return status.Condition(
            status.DATA_SUFFICIENT,
            True,
            "EnoughHistory",
            "Enough history for every configured SLI.",
        )
    return None


def is_new(stored: Mapping[str, Any] | None, problem: Problem) -> bool:
    """Whether ``problem`` is news for its SLI (worth a Warning event), whatever the other SLI's
    data did meanwhile."""
    return parse(stored).get(problem.sli) != problem
