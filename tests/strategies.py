"""Hypothesis strategies for the statistical core, in one place (attrs keeps them so).

Histories are built from a few drawn numbers per day (traffic and error ratio), with whole
counts so sums are exact in floating point: properties such as "a worse day never raises a
target" must hold exactly, not up to rounding noise.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from hypothesis import strategies as st

from sloreco.core import history, method
from tests import factories

#: Small but complete settings: property tests run hundreds of recommendations, so they use
#: fewer resamples than production; every code path (nested interval, backtest) still runs.
FAST = method.MethodSettings(
    resamples=1000,
    ci_outer_resamples=20,
    ci_inner_resamples=200,
    backtest_outer_resamples=5,
    backtest_resamples=200,
)

seeds = st.integers(min_value=0, max_value=2**64 - 1)

#: Daily error ratios from perfect to awful, weighted toward realistic small values.
error_ratios = st.one_of(
    st.just(0.0),
    st.floats(min_value=0.0, max_value=0.01),
    st.floats(min_value=0.0, max_value=1.0),
)


@st.composite
def availability_histories(
    draw: st.DrawFn, *, min_days: int = 8, max_days: int = 40
) -> history.AvailabilityHistory:
    """Whole-count histories with daily or 6-hourly buckets and realistic-to-wild error ratios."""
    days = draw(st.integers(min_value=min_days, max_value=max_days))
    bucket = draw(st.sampled_from([86400, 21600]))
    per_day = 86400 // bucket
    traffic = draw(st.lists(st.integers(1, 10_000), min_size=days, max_size=days))
    ratios = draw(st.lists(error_ratios, min_size=days, max_size=days))
    total = np.repeat(np.array(traffic, dtype=np.float64) * per_day, per_day)
    bad = np.floor(total * np.repeat(np.array(ratios), per_day))
    return history.AvailabilityHistory(
        bucket_seconds=bucket,
        start=factories.EPOCH_2024_05_01,
        total=total,
        bad=bad,
        excluded=np.zeros(len(total), dtype=np.bool_),
    )


@st.composite
def latency_histories(
    draw: st.DrawFn, *, min_days: int = 8, max_days: int = 30
) -> history.LatencyHistory:
    """Daily whole-count histograms over four bounds with a drawn share of slow requests."""
    days = draw(st.integers(min_value=min_days, max_value=max_days))
    seed = draw(st.integers(0, 2**32 - 1))
    slow = draw(st.floats(min_value=0.0, max_value=0.2))
    rng = np.random.default_rng(seed)
    probabilities = np.array([0.6, 0.3 - slow / 2, 0.1 - slow / 2, slow * 0.8, slow * 0.2])
    probabilities = np.clip(probabilities, 0.0, None) / np.clip(probabilities, 0.0, None).sum()
    traffic = rng.integers(100, 10_000, size=days)
    counts = np.array([rng.multinomial(n, probabilities) for n in traffic], dtype=np.float64)
    return history.LatencyHistory(
        bucket_seconds=86400,
        start=factories.EPOCH_2024_05_01,
        bounds=(0.1, 0.25, 0.5, 1.0, math.inf),
        cumulative=np.cumsum(counts, axis=1),
        excluded=np.zeros(days, dtype=np.bool_),
    )


#: What a stretch of a punched history holds instead of its counts (``punched_histories``).
PUNCHES = ("no requests", "no data", "every request bad", "a thousandfold spike")


@st.composite
def punched_histories(
    draw: st.DrawFn, *, latency: bool
) -> history.AvailabilityHistory | history.LatencyHistory:
    """Hourly histories of 7 to 60 days with up to three stretches punched out: no requests,
    no data, every request bad, or a thousandfold spike — a launch, a lost scrape target, a
    total outage, a load test — anywhere, of any length, overlapping."""
    days = draw(st.integers(min_value=7, max_value=60))
    per_hour = draw(st.sampled_from([0.5, 3.0, 200.0, 10_000_000.0]))
    seed = draw(st.integers(0, 2**32 - 1))
    if latency:
        lat = factories.steady_latency(
            days, bucket_seconds=3600, requests_per_day=per_hour * 24, seed=seed
        )
        counts = lat.cumulative.copy()
    else:
        ratios = np.full(days, draw(st.sampled_from([0.0, 1e-6, 1e-3, 0.3])))
        avail = factories.hourly_availability(ratios, requests_per_hour=per_hour, seed=seed)
        counts = np.stack([avail.total, avail.bad], axis=1)
    hours = days * 24
    for _ in range(draw(st.integers(0, 3))):
        first = draw(st.integers(0, hours - 1))
        stretch = slice(first, first + draw(st.integers(1, hours)))
        punch = draw(st.sampled_from(PUNCHES))
        if punch == "no requests":
            counts[stretch] = 0.0
        elif punch == "no data":
            counts[stretch] = np.nan
        elif punch == "every request bad" and latency:  # slower than every finite bound
            counts[stretch, :-1] = 0.0
        elif punch == "every request bad":
            counts[stretch, 1] = counts[stretch, 0]
        else:
            counts[stretch] *= 1000.0
    if latency:
        return dataclasses.replace(lat, cumulative=counts)
    return dataclasses.replace(avail, total=counts[:, 0], bad=counts[:, 1])


# --- Hostile ServiceLevels (issue 10): what an attacker or a careless user would apply ----------

_DURATIONS = st.one_of(
    st.sampled_from(
        [
            *("10000y", "9999999999999999999d", "100y", "401d", "400d", "30m", "1h30m", "1d12h"),
            *("0d", "0s", "1s", "2s", "5m", "4m59s", "1d", "28d", "90d", "52w", "1y", ""),
        ]
    ),
    st.from_regex(r"[0-9]{1,20}[ywdhms]", fullmatch=True),
    st.text(max_size=24),
)
_SELECTORS = st.one_of(
    st.sampled_from(
        [
            '{__name__=~".+"}',
            'sum{job="x"}',
            'SUM {job="x"}',
            "sum(rate(http_requests_total[5m]))",
            'http_requests_total{service="x"} or vector(1)',
            'http_requests_total{service="x"}[5m]',
            'http_requests_total{service="x"} offset 1d',
            'http_requests_total{service="\\u00e9\\xff"}',
            'http_requests_total{service="checkout"}',
            'http_requests_total{code=~"(a+)+$"}',
            "x" * 1025,
        ]
    ),
    st.text(max_size=60),
)
_NAMES = st.one_of(
    st.from_regex(r"[a-z][a-z0-9-]{0,20}[a-z0-9]", fullmatch=True),
    st.integers(min_value=64, max_value=253).map(lambda n: "n" + "a" * (n - 2) + "z"),
)
_DEPENDENCY = st.fixed_dictionaries(
    {"serviceLevel": _NAMES},
    optional={
        "namespace": st.one_of(st.sampled_from(["kube-system", "default"]), st.text(max_size=70)),
        "type": st.sampled_from(["hard", "soft", "optional"]),
        "availability": st.text(max_size=12),
    },
)
#: Spec fields with hostile values; each example sets a few of them on an otherwise valid spec.
_FIELDS = {
    "window": _DURATIONS,
    "lookback": _DURATIONS,
    "refreshInterval": _DURATIONS,
    "recommendationTTL": _DURATIONS,
    "service": st.one_of(st.text(max_size=300), st.integers()),
    "source": st.one_of(st.text(max_size=80), st.just("no-such-source")),
    "historyLimit": st.one_of(st.integers(min_value=-5, max_value=10_000), st.text(max_size=5)),
    "dependencies": st.lists(_DEPENDENCY, max_size=60),
    "sharedWith": st.lists(st.text(max_size=70), max_size=60),
    "availability": st.fixed_dictionaries({"totalQuery": _SELECTORS, "errorQuery": _SELECTORS}),
    "latency": st.fixed_dictionaries(
        {"histogram": _SELECTORS},
        optional={"percentile": st.one_of(st.text(max_size=12), st.floats(), st.integers())},
    ),
    "currentObjective": st.fixed_dictionaries(
        {}, optional={"availability": st.one_of(st.text(max_size=12), st.floats())}
    ),
}


@st.composite
def hostile_specs(draw: st.DrawFn) -> dict[str, object]:
    """A valid ServiceLevel spec with one to four fields replaced by hostile values."""
    base = factories.service_level("x", service="checkout")["spec"]
    assert isinstance(base, dict)
    spec: dict[str, object] = dict(base)
    for field in draw(st.lists(st.sampled_from(sorted(_FIELDS)), min_size=1, max_size=4)):
        spec[field] = draw(_FIELDS[field])
    return spec


hostile_names = _NAMES
