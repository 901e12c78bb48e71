"""What an outage the history did not show costs: its minutes at the traffic of the busy hours.

An incident's size is its bad events over the service's mean traffic a minute (``evidence``),
so an outage the history shows is costed as it happened, at whatever hour. An outage it did not
show takes its size from an assumption (``prior.DEFAULT``: a duration, median 40 minutes), and
a duration costs what the traffic of its hours makes it cost. Outages do not land at the mean:
most follow changes, which ship in working hours, and those that follow load land at its peak.
Measured (calibration, default prior; ``bench.calibrate --weekly``: weekend traffic at 30%,
outages only in working hours on weekdays, where a minute costs about 1.7 minutes of the mean):
``quarterly-outage`` breached its balanced and aggressive promises 1.91x / 1.81x and
``long-outage`` 4.14x / 2.17x with the duration costed at the mean. Costed at the 90th
percentile of the service's hourly traffic, 0.24x / 0.84x and 1.24x / 1.59x, and without the
weekly rhythm ``long-outage`` 2.73x / 1.81x -> 1.21x / 1.37x (a probe of 60 histories:
``docs/calibration-history.md``).

The percentile is read from the service's rhythm, not from single hours: each hour's traffic is
averaged with the same hour of the week over the history (of the day, when it holds fewer than
``MIN_WEEKS`` weeks), and the averages are shrunk toward the mean by their Poisson noise (a
method-of-moments empirical Bayes: the spread beyond the noise is the rhythm's), so that a quiet
service's counts do not read as a rhythm (at 2 requests an hour the 90th percentile of single
hours is twice the mean with no rhythm at all).
"""

from __future__ import annotations

import numpy as np

from sloreco.core import history, orderstats

FloatArray = history.FloatArray
BoolArray = history.BoolArray

#: Where in the service's traffic an unseen outage is costed: its busy hours. The 90th
#: percentile is the probe that kept ``long-outage`` (above); the request-weighted mean (1.13x
#: the mean on the suite's days, 1.30x weekly) left it at 2.17x / 1.68x.
QUANTILE = 0.9
#: Weeks of served history from which the rhythm is read by hour of the week (fewer: by hour of
#: the day, two or three samples a bin being mostly noise).
MIN_WEEKS = 4


def factor(total: FloatArray, served: BoolArray, *, bucket_seconds: int) -> float:
    """The busy hours' traffic over the mean (at least one), from buckets of at most a day
    anchored at the history's end (as ``history.daily_sums``)."""
    per_day = history.buckets_per_day(bucket_seconds)
    weeks = float(np.count_nonzero(served)) / per_day / 7
    period = 7 * per_day if weeks >= MIN_WEEKS else per_day
    phase = (np.arange(len(total)) + (-len(total)) % period) % period
    counts = np.bincount(phase, weights=served.astype(np.float64), minlength=period)
    sums = np.bincount(phase, weights=np.where(served, total, 0.0), minlength=period)
    have = counts > 0
    if not have.any() or sums.sum() <= 0:
        return 1.0
    overall = float(sums.sum() / counts.sum())
    means = sums[have] / counts[have]
    noise = float(np.mean(overall / counts[have]))  # Poisson: a mean of n counts varies by m/n
    spread = float(np.var(means))
    kept = max(0.0, 1.0 - noise / spread) if spread > 0 else 0.0
    rhythm = overall + kept * (means - overall)
    return max(1.0, orderstats.quantile(rhythm, QUANTILE) / overall)
