"""Per-source health: one probe while down, everyone released when it answers (issue 10 item 6)."""

from __future__ import annotations

from sloreco.runtime import health

A, B, C = ("ns", "a"), ("ns", "b"), ("other", "c")


def sources() -> health.SourceHealth:
    return health.SourceHealth(first_delay=30.0, max_delay=60.0)


def test_a_healthy_source_lets_everyone_query() -> None:
    h = sources()
    assert (h.may_query("p", A, now=0), h.may_query("p", B, now=0), h.is_down("p")) == (
        True,
        True,
        False,
    )


def test_while_down_one_probe_at_a_time_and_only_when_due() -> None:
    h = sources()
    assert h.failed("p", A, now=0) == 30.0
    assert (h.may_query("p", A, now=10), h.may_query("p", B, now=10)) == (False, False)
    assert (h.may_query("p", B, now=31), h.may_query("p", A, now=31)) == (True, False)


def test_probe_delay_doubles_up_to_the_cap() -> None:
    h = sources()
    delays = [h.failed("p", A, now=t) for t in (0, 30, 90, 150)]
    assert delays == [30.0, 60.0, 60.0, 60.0]


def test_an_answer_releases_everyone_who_waited_and_heals_the_source() -> None:
    h = sources()
    h.failed("p", A, now=0)
    h.may_query("p", B, now=5)
    h.may_query("p", C, now=6)
    assert h.may_query("p", A, now=30)  # the probe
    assert (h.succeeded("p"), h.is_down("p"), h.wait("p", now=31)) == ({B, C}, False, None)


def test_sources_are_independent() -> None:
    h = sources()
    h.failed("p", A, now=0)
    assert (h.may_query("q", B, now=1), h.succeeded("q")) == (True, set())


def test_a_forgotten_probe_frees_the_probe_role() -> None:
    h = sources()
    h.failed("p", A, now=0)
    assert h.may_query("p", A, now=30)
    h.forget(A)
    assert h.may_query("p", B, now=30)
