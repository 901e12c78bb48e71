"""Incidents are read in hours however fine the buckets (``detection.SECONDS``).

The detector's floor is an hour's: at 24 requests an hour a five-minute bucket holds two, and
an incident failing half of them never shows the three bad events an incident needs.
"""

from __future__ import annotations

import numpy as np
import pytest

from sloreco.core import detection, evidence

FIVE_MINUTES = 300


def _quiet_service(buckets_per_hour: int, hours: int = 24 * 30) -> tuple[np.ndarray, np.ndarray]:
    """24 requests an hour, no background errors, two hours at half failing on day 10."""
    per_bucket = 24.0 / buckets_per_hour
    total = np.full(hours * buckets_per_hour, per_bucket)
    bad = np.zeros_like(total)
    first = 240 * buckets_per_hour
    bad[first : first + 2 * buckets_per_hour] = per_bucket / 2
    return bad, total


def test_five_minute_buckets_read_the_incident_an_hourly_history_reads() -> None:
    hourly = evidence.of(*_quiet_service(1), np.ones(720, bool), bucket_seconds=3600)
    bad, total = _quiet_service(12)

    fine = evidence.of(bad, total, np.ones(len(total), bool), bucket_seconds=FIVE_MINUTES)

    assert np.exp(hourly.log_sizes) == pytest.approx([60.0])  # 24 bad events at 0.4 a minute
    assert np.exp(fine.log_sizes) == pytest.approx(np.exp(hourly.log_sizes))


def test_the_flags_and_normal_ratio_come_back_in_the_callers_buckets() -> None:
    bad, total = _quiet_service(12)
    bad, total = bad[5:], total[5:]  # a history that starts mid-hour

    seen = evidence.of(bad, total, np.ones(len(total), bool), bucket_seconds=FIVE_MINUTES)

    assert seen.flagged.shape == seen.normal.shape == total.shape
    assert np.flatnonzero(seen.flagged).tolist() == list(range(240 * 12 - 5, 242 * 12 - 5))


@pytest.mark.parametrize(
    ("bucket_seconds", "step"),
    [(60, 60), (300, 12), (900, 4), (3600, 1), (21600, 1), (675, 4)],  # 675: 128 a day, not 5
)
def test_the_detector_reads_an_hour_or_the_most_buckets_under_it_that_divide_a_day(
    bucket_seconds: int, step: int
) -> None:
    assert detection.step(bucket_seconds) == step
