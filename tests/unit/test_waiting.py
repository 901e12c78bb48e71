"""The one wait-until helper: returns the first truthy answer, times out with the caller's error."""

from __future__ import annotations

import itertools

import pytest

from sloreco.testing import waiting


def test_returns_the_first_truthy_answer() -> None:
    answers = iter([None, 0, "", "ready", "later"])
    assert waiting.wait_until(lambda: next(answers), timeout=5, every=0, what="x") == "ready"


def test_times_out_with_the_callers_error_naming_what_was_awaited() -> None:
    class BoomError(Exception):
        pass

    calls = itertools.count()
    with pytest.raises(BoomError, match="the thing not within 0s"):
        waiting.wait_until(
            lambda: next(calls) < 0, timeout=0, every=0, what="the thing", error=BoomError
        )


def test_a_probe_may_abort_early() -> None:
    def probe() -> None:
        raise RuntimeError("process exited")

    with pytest.raises(RuntimeError, match="process exited"):
        waiting.wait_until(probe, timeout=60, what="x")
