"""The recommendation as a picture: the SLI over the history against the three tiers.

One panel per SLI: the rolling window SLI (availability, or for latency the share of requests
within the balanced tier's bound) over the analysed history, the tiers as horizontal lines, the
listed incidents shaded, and the windows that missed the balanced tier marked; under it a table
of the tiers with their pager cost (``core.alerting``). PNG or SVG by the file's extension.

matplotlib is an optional extra (``pip install sloreco[plot]``), imported only when a picture is
asked for; without it the CLI says how to install it (exit 2). Output is deterministic: fixed
size and fonts, no timestamps or random ids in the file (``svg.hashsalt``, no ``Date``).
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Sequence
from typing import Any

import numpy as np

from sloreco import errors
from sloreco.core import alerting, durations, history, results

#: Tier colours: cautious to bold, readable by colour-blind readers (Okabe-Ito).
COLOURS = {"conservative": "#0072B2", "balanced": "#009E73", "aggressive": "#D55E00"}
#: Inches per panel and of the tier table under it; 100 dpi gives 1100 px wide PNGs.
WIDTH, PANEL, TABLE = 11.0, 3.6, 1.3
DPI = 100
FORMATS = (".png", ".svg")

Pair = tuple[results.SliResult, history.AvailabilityHistory | history.LatencyHistory]


def _pyplot() -> Any:
    try:
        import matplotlib  # noqa: PLC0415 - optional extra, imported only when drawing

        matplotlib.use("Agg")
        matplotlib.rcParams.update(
            {"svg.hashsalt": "sloreco", "font.family": "DejaVu Sans", "font.size": 9}
        )
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError as exc:
        raise errors.InputError(
            "needs matplotlib: pip install 'sloreco[plot]'", field="--plot"
        ) from exc
    return plt


def rolling(
    data: history.AvailabilityHistory | history.LatencyHistory,
    *,
    window_seconds: int,
    bound: float | None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """``(bucket end times, good share over the trailing window, window used in seconds)``.

    The window is the recommendation's, or one day when the history is not longer than it
    (a window's worth of history would leave nothing to draw).
    """
    found = alerting.events(data, bound=bound)
    span = found.end - found.start
    window = window_seconds if span > window_seconds + 86400 else 86400
    per = max(1, window // found.bucket_seconds)
    total = np.concatenate([[0.0], np.cumsum(found.total)])
    bad = np.concatenate([[0.0], np.cumsum(found.bad)])
    if len(found.total) < per:
        return np.array([]), np.array([]), window
    totals = total[per:] - total[:-per]
    bads = bad[per:] - bad[:-per]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(totals > 0, 1 - bads / np.maximum(totals, 1e-300), np.nan)
    ends = found.start + found.bucket_seconds * np.arange(per, len(found.total) + 1)
    return ends, share * 100, window


def _dates(epochs: np.ndarray) -> list[datetime.datetime]:
    return [datetime.datetime.fromtimestamp(float(t), datetime.UTC) for t in epochs]


def _panel(ax: Any, result: results.SliResult, data: Any) -> None:
    from matplotlib import dates as mdates  # noqa: PLC0415 - optional extra, loaded by _pyplot

    dates: Any = mdates

    balanced = result.tier("balanced")
    bound = balanced.bucket_bound
    ends, share, window = rolling(data, window_seconds=result.window_seconds, bound=bound)
    what = (
        "availability"
        if bound is None
        else f"share of requests within {results.bound(bound)}s (balanced tier's bound)"
    )
    shorter = (
        f" (history < {durations.format(result.window_seconds)} window)"
        if window != result.window_seconds
        else ""
    )
    ax.set_title(f"{result.sli.capitalize()}: rolling {durations.format(window)} {what}{shorter}")
    ax.plot(
        _dates(ends),
        share,
        color="#333333",
        linewidth=1.2,
        label=f"rolling {durations.format(window)}",
    )
    for tier in result.tiers:
        if tier.bucket_bound != bound:
            continue  # a tier at another bound is not comparable on this axis
        ax.axhline(
            float(tier.target),
            color=COLOURS.get(tier.name, "grey"),
            linestyle="--",
            linewidth=1.2,
            label=f"{tier.name} {tier.target}%",
        )
    for i, incident in enumerate(result.explanation.incidents):
        ax.axvspan(
            *_dates(np.array([incident.start, incident.end])),
            color="#CC79A7",
            alpha=0.25,
            label="incident" if i == 0 else None,
        )
    missed = share < float(balanced.target)
    if missed.any():
        ax.plot(
            np.array(_dates(ends))[missed],
            share[missed],
            linestyle="none",
            marker="v",
            markersize=3,
            color=COLOURS["balanced"],
            label="window below balanced",
        )
    ax.set_ylabel("percent good")
    ax.set_xlabel("time (UTC)")
    ax.grid(True, color="#DDDDDD", linewidth=0.6)
    # Beside the plot, never over the data; concise dates never overlap at the edges.
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    locator = dates.AutoDateLocator(maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(dates.ConciseDateFormatter(locator))
    finite = share[np.isfinite(share)]
    if finite.size:
        targets = [float(t.target) for t in result.tiers if t.bucket_bound == bound]
        low = min(float(finite.min()), *targets)
        high = max(float(finite.max()), *targets)
        pad = max((high - low) * 0.1, 0.01)
        ax.set_ylim(low - pad, high + pad)  # room above 100% too, or a perfect day hides


def _table(ax: Any, result: results.SliResult) -> None:
    ax.axis("off")
    rows = []
    for tier in result.tiers:
        cost = tier.alerting
        target = (
            f"{tier.target}%"
            if tier.bucket_bound is None
            else f"{tier.target}% ≤ {results.bound(tier.bucket_bound)}s"
        )
        if cost is None:
            rows.append([tier.name, target, "", "", ""])
            continue
        paged = f"{len(cost.paged)} of {len(cost.detections)}"
        if cost.paged:
            paged += f", median {alerting.duration(alerting.median_detection(cost))}"
        rows.append(
            [
                tier.name,
                target,
                f"{cost.per_period(cost.pages):.1f}",
                f"{cost.per_period(cost.tickets):.1f}",
                paged,
            ]
        )
    table = ax.table(
        cellText=rows,
        colLabels=["tier", "target", "pages / 28d", "tickets / 28d", "incidents paged"],
        loc="center",
        cellLoc="left",
        colLoc="left",
    )
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    table.scale(1, 1.3)


def render(pairs: Sequence[Pair], *, fmt: str, service: str | None = None) -> bytes:
    """The picture of ``pairs`` (result and the history it came from) as PNG or SVG bytes."""
    if fmt not in FORMATS:
        raise errors.InputError(f"use a .png or .svg file name, got {fmt!r}", field="--plot")
    plt = _pyplot()
    heights = [r for _ in pairs for r in (PANEL, TABLE)]
    fig, axes = plt.subplots(
        len(heights), 1, figsize=(WIDTH, sum(heights) + 0.6), gridspec_kw={"height_ratios": heights}
    )
    axes = np.atleast_1d(axes)
    title = "SLO recommendation" + (f" for {service}" if service else "")
    fig.suptitle(title, fontsize=12, fontweight="bold")
    for i, (result, data) in enumerate(pairs):
        _panel(axes[2 * i], result, data)
        _table(axes[2 * i + 1], result)
    fig.tight_layout()
    out = io.BytesIO()
    metadata = {"Software": None} if fmt == ".png" else {"Date": None, "Creator": None}
    fig.savefig(out, format=fmt[1:], dpi=DPI, metadata=metadata)
    plt.close(fig)
    return out.getvalue()
