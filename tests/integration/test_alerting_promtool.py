"""The pager-cost replay (``core.alerting``) against Prometheus's own rule engine.

The exported rules (``sloreco export --format prometheus-rule --plain``) run in ``promtool test
rules`` (Prometheus 3.16) on counters built from a synthetic hourly history — each counter grows
linearly within an hour, which is what the replay assumes of a bucket — and the alerts Prometheus
fires must be the replay's, at every checked minute: half-hourly through the whole history, and
just before and just after every alert the replay starts or ends. Only the minutes right at a
transition are left out: there Prometheus's ``rate()`` extrapolates the range to its edges while
the replay takes the exact window, and the two may cross a threshold one evaluation apart.
"""

from __future__ import annotations

import pathlib
from decimal import Decimal

import numpy as np
import pytest
import yaml

from sloreco.core import alerting
from sloreco.render import exports
from sloreco.render.exports import base, prometheusrule
from tests import peertools

pytestmark = pytest.mark.integration

HOUR = 3600
DAY = 86400
TOTAL = 'http_requests_total{service="checkout"}'
ERRORS = 'http_requests_total{service="checkout",code="500"}'
PER_HOUR = 6000.0
#: Minutes either side of a replay transition that are not compared (see the module docstring).
MARGIN = 3


def _history(days: int) -> np.ndarray:
    """Hourly error ratios: a quiet background and three incidents of different shapes."""
    ratios = np.full(days * 24, 0.0001)
    ratios[27:29] = 1.0  # a two-hour full outage: pages at once
    ratios[60:72] = 0.004  # half a day at 4x a 99.9 budget: a slow burn
    ratios[80:83] = 0.01  # three hours at 10x: more than a ticket, not quite a page
    ratios[90] = 0.03  # one hour at 30x: pages on the 1h window
    return ratios


def _series(per_hour: np.ndarray) -> str:
    """promtool's expanding notation for a counter rising linearly within each hour."""
    parts = []
    value = 0.0
    for count in per_hour:
        step = float(count) / 60
        parts.append(f"{value!r}+{step!r}x59")
        value += float(count)
    parts.append(repr(value))
    return " ".join(parts)


@pytest.mark.parametrize("target", ["99.9", "99.5"])
def test_prometheus_fires_what_the_replay_fires(target: str, tmp_path: pathlib.Path) -> None:
    days = 4
    ratios = _history(days)
    total = np.full(len(ratios), PER_HOUR)
    bad = total * ratios
    events = alerting.Events(0, HOUR, total, bad, np.ones(len(ratios), dtype=np.bool_))
    objective = base.Objective(
        sli="availability", tier="balanced", target=Decimal(target), window="28d"
    )
    slo = base.Slo(objective, base.Indicator(total=TOTAL, bad=ERRORS))
    target_ = base.Target(name="checkout", service="checkout", plain=True)
    [rules] = exports.render("prometheus-rule", [slo], target_)
    (tmp_path / "rules.yaml").write_text(exports.dump([rules]), encoding="utf-8")

    budget = float(objective.budget)
    times, fires = alerting.conditions(events, budget)
    assert fires["page"].any(), "the history must page at this target"
    assert fires["ticket"].any(), "the history must open a ticket at this target"

    alerts = [r for g in rules["groups"] for r in g["rules"] if "alert" in r]
    labels = {k: v for k, v in alerts[0]["labels"].items() if k != "severity"}
    annotations = {a["labels"]["severity"]: a["annotations"] for a in alerts}

    minutes = (times // 60).astype(int)  # evaluation i is at minute i + 1
    transitions: set[int] = set()
    for flags in fires.values():
        changed = np.flatnonzero(np.diff(flags.astype(np.int8))) + 1
        transitions.update(int(minutes[i]) for i in changed)
        if flags[0]:
            transitions.add(int(minutes[0]))
    checks = set(range(30, int(minutes[-1]), 30))
    for t in transitions:
        checks.update((t - MARGIN - 1, t + MARGIN + 1))
    checks = {
        m
        for m in checks
        if 1 <= m <= int(minutes[-1]) and all(abs(m - t) > MARGIN for t in transitions)
    }
    cases = []
    for minute in sorted(checks):
        firing = {name for name, flags in fires.items() if flags[minute - 1]}
        cases.append(
            {
                "eval_time": f"{minute}m",
                "alertname": prometheusrule.ALERT,
                "exp_alerts": [
                    {
                        "exp_labels": {**labels, "severity": name},
                        "exp_annotations": annotations[name],
                    }
                    for name in sorted(firing)
                ],
            }
        )
    fired = sum(bool(c["exp_alerts"]) for c in cases)
    assert fired >= 10, "the comparison must include minutes where alerts fire"
    assert len(cases) - fired >= 10, "and minutes where they do not"
    test_file = {
        "rule_files": ["rules.yaml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": TOTAL, "values": _series(total)},
                    {"series": ERRORS, "values": _series(bad)},
                ],
                "alert_rule_test": cases,
            }
        ],
    }
    path = tmp_path / "test.yaml"
    path.write_text(yaml.safe_dump(test_file, sort_keys=False), encoding="utf-8")
    done = peertools.run("promtool3", "test", "rules", path, timeout_s=600)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    assert "SUCCESS" in done.stdout


def test_promtool_disagrees_with_a_wrong_replay(tmp_path: pathlib.Path) -> None:
    """Negative control: claim a page where the replay has none; promtool must fail the test."""
    ratios = _history(4)
    total = np.full(len(ratios), PER_HOUR)
    objective = base.Objective(
        sli="availability", tier="balanced", target=Decimal("99.9"), window="28d"
    )
    slo = base.Slo(objective, base.Indicator(total=TOTAL, bad=ERRORS))
    [rules] = exports.render(
        "prometheus-rule", [slo], base.Target(name="checkout", service="checkout", plain=True)
    )
    (tmp_path / "rules.yaml").write_text(exports.dump([rules]), encoding="utf-8")
    [page] = [
        r
        for g in rules["groups"]
        for r in g["rules"]
        if r.get("alert") and r["labels"]["severity"] == "page"
    ]
    labels = dict(page["labels"])
    test_file = {
        "rule_files": ["rules.yaml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": TOTAL, "values": _series(total)},
                    {"series": ERRORS, "values": _series(total * ratios)},
                ],
                "alert_rule_test": [
                    {
                        "eval_time": "600m",  # 10:00, a quiet hour
                        "alertname": prometheusrule.ALERT,
                        "exp_alerts": [
                            {"exp_labels": labels, "exp_annotations": page["annotations"]}
                        ],
                    }
                ],
            }
        ],
    }
    path = tmp_path / "test.yaml"
    path.write_text(yaml.safe_dump(test_file, sort_keys=False), encoding="utf-8")
    done = peertools.run("promtool3", "test", "rules", path, timeout_s=600)
    assert done.returncode != 0
    assert "FAILED" in done.stdout + done.stderr
