"""``sloreco recommend --prometheus`` against a real Prometheus, checked against the offline path.

Tests that take ``backend`` run against each backend (Prometheus 2.x and 3, VictoriaMetrics).
The session's Prometheus holds ``sources.synth`` services (one per profile, named after it) and
the generator can say exactly which counts it wrote. Written into the ``--input`` format, those
counts must give the *same bytes* as the live command: the live path adds nothing but reading.
"""

from __future__ import annotations

import json
import pathlib

import pytest

from sloreco import api
from sloreco.cli import main as cli
from sloreco.sources import synthseries
from tests import factories
from tests.fixtures.prometheus import PrometheusHistory

pytestmark = pytest.mark.integration

HOUR = 3600


def _selectors(service: str) -> list[str]:
    return [
        "--total",
        f'http_requests_total{{service="{service}"}}',
        "--errors",
        f'http_requests_total{{service="{service}",code=~"5.."}}',
        "--histogram",
        f'http_request_duration_seconds_bucket{{service="{service}"}}',
    ]


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(["recommend", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _live(
    capsys: pytest.CaptureFixture[str], prometheus: PrometheusHistory, service: str, *extra: str
) -> tuple[int, str, str]:
    return _run(
        capsys,
        "--prometheus",
        prometheus.url,
        *_selectors(service),
        "--lookback",
        f"{(prometheus.end - prometheus.start) // 86400}d",
        "--service",
        service,
        *extra,
    )


def _offline_input(prometheus: PrometheusHistory, service: str, path: pathlib.Path) -> str:
    """The generator's own buckets for ``service`` over the whole history, as an input file."""
    truth = prometheus.truth(service)
    grid = {"start": prometheus.start, "end": prometheus.end, "bucket_seconds": HOUR}
    doc = factories.cli_input_document(
        availability=synthseries.availability_history(truth, **grid),
        latency=synthseries.latency_history(truth, **grid),
    )
    path.write_text(json.dumps(doc), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("output", ["json", "table"])
@pytest.mark.parametrize("service", ["incidents", "counter-restarts"])
def test_live_output_equals_offline_output_on_the_generators_buckets(
    capsys: pytest.CaptureFixture[str],
    backend: PrometheusHistory,
    tmp_path: pathlib.Path,
    service: str,
    output: str,
) -> None:
    prometheus = backend  # every backend: Prometheus 2.x and 3, VictoriaMetrics
    at = str(prometheus.end)
    live = _live(capsys, prometheus, service, "--at", at, "--output", output)
    path = _offline_input(prometheus, service, tmp_path / "history.json")
    offline = _run(capsys, "--input", path, "--service", service, "--output", output)
    assert live == offline
    assert live[0] == 0
    if output == "json":
        doc = json.loads(live[1])
        assert [r["sli"] for r in doc["recommendations"]] == ["availability", "latency"]
        assert doc["recommendations"][0]["lookback"] == {
            "start": api.rfc3339(prometheus.start),
            "end": api.rfc3339(prometheus.end),
        }


def test_same_at_same_bytes_whatever_its_spelling(
    capsys: pytest.CaptureFixture[str], prometheus: PrometheusHistory
) -> None:
    """``--at`` is aligned down to the bucket, so any moment within one hour is the same run."""
    runs = {
        at: _live(capsys, prometheus, "steady", "--at", at, "--output", "json")
        for at in (
            str(prometheus.end),
            str(prometheus.end + HOUR - 1),
            api.rfc3339(prometheus.end + 1800),
        )
    }
    assert len(set(runs.values())) == 1
    code, _, err = next(iter(runs.values()))
    assert (code, err) == (0, "")


def test_options_change_the_live_result_as_they_do_offline(
    capsys: pytest.CaptureFixture[str], prometheus: PrometheusHistory, tmp_path: pathlib.Path
) -> None:
    options = [
        "--window",
        "7d",
        "--percentile",
        "95",
        "--dependency",
        "db=99.95",
        "--objective-availability",
        "99.9",
        "--exclude",
        f"{api.rfc3339(prometheus.end - 3 * 86400)}/{api.rfc3339(prometheus.end - 2 * 86400)}",
        "--output",
        "json",
    ]
    live = _live(capsys, prometheus, "incidents", "--at", str(prometheus.end), *options)
    path = _offline_input(prometheus, "incidents", tmp_path / "history.json")
    offline = _run(capsys, "--input", path, "--service", "incidents", *options)
    assert live == offline
    availability, latency = json.loads(live[1])["recommendations"]
    assert availability["window"] == "7d"
    assert latency["percentile"] == "95"
    assert availability["dataQuality"]["excludedBuckets"] == 24


def test_a_service_without_history_exits_3_with_the_reason(
    capsys: pytest.CaptureFixture[str], backend: PrometheusHistory
) -> None:
    code, out, err = _live(capsys, backend, "no-data", "--at", str(backend.end))
    assert code == 3
    assert out == "Service: no-data\n"
    assert err.splitlines() == [
        'sloreco: availability: --total: http_requests_total{service="no-data"} matched no '
        "series in the lookback",
        'sloreco: latency: --histogram: http_request_duration_seconds_bucket{service="no-data"} '
        "matched no series in the lookback",
    ]


def test_a_query_prometheus_rejects_exits_4_with_its_reason(
    capsys: pytest.CaptureFixture[str], prometheus: PrometheusHistory
) -> None:
    # A well-formed selector whose regex RE2 rejects: only Prometheus can tell.
    code, out, err = _run(
        capsys,
        "--prometheus",
        prometheus.url,
        "--total",
        'http_requests_total{service=~"("}',
        "--errors",
        'http_requests_total{code=~"5.."}',
        "--at",
        str(prometheus.end),
    )
    assert (code, out) == (4, "")
    assert err.startswith("sloreco: ")
    assert "error parsing regexp" in err
    assert err.count("\n") == 1
