"""The one retry policy: backoff, its cap, and ``Retry-After`` in both of its forms."""

from __future__ import annotations

import email.utils

import pytest

from sloreco import retry

NOW = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def test_backoff_doubles_from_the_first_delay_up_to_the_cap() -> None:
    policy = retry.RetryPolicy(attempts=8, first_delay=0.5, max_delay=3.0)
    assert [policy.delay(n) for n in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_a_longer_retry_after_wins_but_never_past_the_cap() -> None:
    policy = retry.RetryPolicy(first_delay=0.5, max_delay=10.0)
    assert policy.delay(0, retry_after=3.0) == 3.0
    assert policy.delay(3, retry_after=1.0) == 4.0  # our own backoff is longer
    assert policy.delay(0, retry_after=3600.0) == 10.0


def test_attempts_count_the_first_try() -> None:
    policy = retry.RetryPolicy(attempts=3)
    assert [policy.retries_left(n) for n in range(3)] == [True, True, False]


def test_both_clients_share_the_cap() -> None:
    assert retry.KUBE.max_delay == retry.PROMETHEUS.max_delay == retry.MAX_DELAY


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("3", 3.0), (" 120 ", 120.0), ("0", 0.0), ("1.5", 1.5)],
)
def test_retry_after_in_seconds(header: str, seconds: float) -> None:
    assert retry.retry_after_seconds(header, now=NOW) == seconds


def test_retry_after_as_an_http_date_is_the_time_left_until_it() -> None:
    header = email.utils.formatdate(NOW + 7, usegmt=True)  # "Thu, 01 Jan 2026 00:00:07 GMT"
    assert header.endswith("GMT")
    assert retry.retry_after_seconds(header, now=NOW) == 7.0


def test_an_http_date_in_the_past_means_now() -> None:
    header = email.utils.formatdate(NOW - 60, usegmt=True)
    assert retry.retry_after_seconds(header, now=NOW) == 0.0


@pytest.mark.parametrize("header", [None, "", "soon", "-5", "nan", "inf", "Thu, 99 Foo 2026"])
def test_unusable_retry_after_is_ignored(header: str | None) -> None:
    assert retry.retry_after_seconds(header, now=NOW) is None
