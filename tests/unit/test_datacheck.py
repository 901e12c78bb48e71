"""DataSufficient over both SLIs, stable across passes that query one SLI at a time."""

from __future__ import annotations

import dataclasses

from hypothesis import given
from hypothesis import strategies as st

from sloreco.controller import datacheck, status

SLIS = ("availability", "latency")
NO_SERIES = datacheck.Problem.of(
    "availability", "NoSeries", "spec.availability.totalQuery: no series matched."
)
SHORT = datacheck.Problem.of("latency", "InsufficientHistory", "latency: 5 days of history")


def stored(condition: status.Condition | None) -> dict[str, str] | None:
    """A condition as the status holds it."""
    if condition is None:
        return None
    return {
        "type": condition.type,
        "status": "True" if condition.status else "False",
        "reason": condition.reason,
        "message": condition.message,
    }


def test_both_problems_are_named_each_with_its_reason() -> None:
    both = datacheck.combine(SLIS, {"availability": NO_SERIES, "latency": SHORT}, None)
    assert both == status.Condition(
        status.DATA_SUFFICIENT,
        False,
        "NoSeries",
        "spec.availability.totalQuery: no series matched (NoSeries); "
        "latency: 5 days of history (InsufficientHistory).",
    )


def test_a_pass_that_queries_one_sli_keeps_the_others_problem() -> None:
    """Before: the latency pass replaced the message, and the next availability pass put it back
    (a flip and a Warning event each time)."""
    both = datacheck.combine(SLIS, {"availability": NO_SERIES, "latency": SHORT}, None)
    again = datacheck.combine(SLIS, {"latency": SHORT}, stored(both))
    assert again == both


def test_a_healthy_sli_does_not_declare_the_other_healthy() -> None:
    """Before: a good latency refresh wrote "Enough history for every configured SLI" while
    availability still matched no series."""
    first = datacheck.combine(SLIS, {"availability": NO_SERIES}, None)
    after = datacheck.combine(SLIS, {"latency": None}, stored(first))
    assert after == first


def test_the_remaining_problem_keeps_its_own_reason() -> None:
    both = datacheck.combine(SLIS, {"availability": NO_SERIES, "latency": SHORT}, None)
    left = datacheck.combine(SLIS, {"availability": None}, stored(both))
    assert left == status.Condition(
        status.DATA_SUFFICIENT, False, "InsufficientHistory", "latency: 5 days of history."
    )


def test_enough_history_once_every_problem_is_gone() -> None:
    first = datacheck.combine(SLIS, {"availability": NO_SERIES}, None)
    healed = datacheck.combine(SLIS, {"availability": None}, stored(first))
    assert healed is not None
    assert (healed.status, healed.reason) == (True, "EnoughHistory")


def test_a_pass_that_queried_nothing_leaves_the_stored_condition() -> None:
    assert datacheck.combine(SLIS, {}, None) is None


def test_an_sli_no_longer_configured_drops_out() -> None:
    both = datacheck.combine(SLIS, {"availability": NO_SERIES, "latency": SHORT}, None)
    only = datacheck.combine(("availability",), {}, stored(both))
    assert only == datacheck.render([NO_SERIES])


def test_the_other_slis_news_is_not_this_slis_news() -> None:
    first = datacheck.combine(SLIS, {"availability": NO_SERIES}, None)
    both = datacheck.combine(SLIS, {"latency": SHORT}, stored(first))
    assert not datacheck.is_new(stored(both), NO_SERIES)
    assert datacheck.is_new(stored(first), SHORT)
    changed = dataclasses.replace(NO_SERIES, detail="spec.availability.totalQuery: other")
    assert datacheck.is_new(stored(both), changed)


def test_a_message_it_did_not_write_carries_nothing() -> None:
    foreign = {"type": "DataSufficient", "status": "False", "reason": "X", "message": "Broken."}
    assert datacheck.parse(foreign) == {}


#: An exception's sentence: words, no "; " (the segment separator), ends in neither space nor dot.
TEXT = st.from_regex(r"[a-z][^;\n]{0,30}[a-z0-9)]", fullmatch=True)
REASONS = st.sampled_from(["NoSeries", "InsufficientHistory", "NoUsableData", "InconsistentData"])


@st.composite
def problems(draw: st.DrawFn) -> list[datacheck.Problem]:
    chosen = draw(st.lists(st.sampled_from(SLIS), min_size=1, max_size=2, unique=True))
    out = []
    for sli in sorted(chosen, key=SLIS.index):
        prefix = draw(st.sampled_from([f"{sli}: ", f"spec.{sli}.totalQuery: "]))
        out.append(datacheck.Problem.of(sli, draw(REASONS), prefix + draw(TEXT)))
    return out


@given(problems())
def test_parse_reads_back_what_render_wrote(found: list[datacheck.Problem]) -> None:
    condition = stored(datacheck.render(found))
    assert list(datacheck.parse(condition).values()) == found
    assert datacheck.combine(SLIS, {}, condition) == datacheck.render(found)
