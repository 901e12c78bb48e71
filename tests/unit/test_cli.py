"""``sloreco recommend`` in-process: offline input, output shapes, determinism and exit codes.

Each test runs ``cli.main(argv)`` as the console script would and reads what it printed. The live
path needs a real Prometheus and is covered in ``tests/integration/test_cli_live.py``; here only
its argument checks (which fail before any connection) and an unreachable source.
"""

from __future__ import annotations

import io
import json
import pathlib
import socket
from typing import Any

import pytest
import yaml

import sloreco
from sloreco.cli import main as cli
from sloreco.sources import synth, synthseries
from tests import factories

TIERS = ["conservative", "balanced", "aggressive"]


def _write(path: pathlib.Path, doc: dict[str, Any]) -> str:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return str(path)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def both() -> dict[str, Any]:
    """Five weeks of hourly availability and latency history (more than one 28-day window)."""
    return factories.cli_input_document(
        availability=factories.synthetic_availability(days=35, gaps=(100, 101, 102)),
        latency=factories.synthetic_latency(days=35, requests_per_bucket=200),
    )


@pytest.fixture
def both_file(tmp_path: pathlib.Path, both: dict[str, Any]) -> str:
    return _write(tmp_path / "history.json", both)


# --- output ----------------------------------------------------------------------------------


def test_json_has_both_slis_with_three_tiers_in_order(
    capsys: pytest.CaptureFixture[str], both_file: str
) -> None:
    code, out, err = _run(
        capsys, "recommend", "--input", both_file, "--output", "json", "--service", "checkout"
    )
    assert (code, err) == (0, "")
    doc = json.loads(out)
    assert list(doc) == ["service", "recommendations"]
    assert doc["service"] == "checkout"
    assert [r["sli"] for r in doc["recommendations"]] == ["availability", "latency"]
    for rec in doc["recommendations"]:
        assert [t["name"] for t in rec["tiers"]] == TIERS
        assert rec["window"] == "28d"
        for tier in rec["tiers"]:
            assert {"target", "breachProbability", "confidenceInterval", "errorBudget"} <= set(tier)
    latency = doc["recommendations"][1]
    assert latency["percentile"] == "99"
    assert all("bucketBound" in t and "threshold" in t for t in latency["tiers"])
    availability = doc["recommendations"][0]
    assert availability["lookback"] == {
        "start": "2024-05-01T00:00:00Z",
        "end": "2024-06-05T00:00:00Z",
    }
    assert availability["dataQuality"]["gaps"] == [
        {"start": "2024-05-05T04:00:00Z", "end": "2024-05-05T07:00:00Z"}
    ]


def test_yaml_is_the_same_document(capsys: pytest.CaptureFixture[str], both_file: str) -> None:
    _, as_json, _ = _run(capsys, "recommend", "--input", both_file, "--output", "json")
    code, as_yaml, _ = _run(capsys, "recommend", "--input", both_file, "--output", "yaml")
    assert code == 0
    assert yaml.safe_load(as_yaml) == json.loads(as_json)
    assert "service" not in json.loads(as_json)


def test_table_reads_like_a_report(capsys: pytest.CaptureFixture[str], both_file: str) -> None:
    code, out, err = _run(capsys, "recommend", "--input", both_file, "--service", "checkout")
    assert (code, err) == (0, "")
    assert out.startswith("Service: checkout\n")
    assert "Availability SLO recommendation for a 28d window" in out
    assert "Latency p99 SLO recommendation for a 28d window" in out
    for name in TIERS:
        assert name in out
    assert "{" not in out  # words, not a JSON dump


@pytest.mark.parametrize("output", ["table", "json", "yaml"])
def test_same_command_same_bytes(
    capsys: pytest.CaptureFixture[str], both_file: str, output: str
) -> None:
    first = _run(capsys, "recommend", "--input", both_file, "--output", output)
    second = _run(capsys, "recommend", "--input", both_file, "--output", output)
    assert first == second
    assert first[0] == 0


def test_seed_follows_the_service_name(capsys: pytest.CaptureFixture[str], both_file: str) -> None:
    def seed(*extra: str) -> str:
        code, out, _ = _run(capsys, "recommend", "--input", both_file, "--output", "json", *extra)
        assert code == 0
        return str(json.loads(out)["recommendations"][0]["method"]["seed"])

    assert seed("--service", "a") == seed("--service", "a")
    assert seed("--service", "a") != seed("--service", "b")


def test_stdin_input(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, both: dict[str, Any]
) -> None:
    only_availability = {"bucket": both["bucket"], "availability": both["availability"]}
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(only_availability)))
    code, out, _ = _run(capsys, "recommend", "--input", "-", "--output", "json")
    assert code == 0
    assert [r["sli"] for r in json.loads(out)["recommendations"]] == ["availability"]


def test_options_reach_the_recommendation(
    capsys: pytest.CaptureFixture[str], both_file: str
) -> None:
    code, out, err = _run(
        capsys,
        "recommend",
        "--input",
        both_file,
        "--output",
        "json",
        "--window",
        "7d",
        "--percentile",
        "95",
        "--objective-availability",
        "99.5",
        "--objective-latency",
        "0.5@95",
        "--dependency",
        "db=99.5",
        "--dependency",
        "dns=99.99",
        "--exclude",
        "2024-05-02T00:30:00Z/2024-05-02T02:00:00Z",
    )
    assert (code, err) == (0, "")
    availability, latency = json.loads(out)["recommendations"]
    assert availability["window"] == latency["window"] == "7d"
    assert latency["percentile"] == "95"
    assert availability["explanation"]["currentObjective"]["availability"] == "99.5"
    assert latency["explanation"]["currentObjective"]["latency"] == {
        "threshold": "0.5",
        "target": "95",
    }
    assert [d["name"] for d in availability["explanation"]["dependencies"]] == ["db", "dns"]
    # The ceiling is 99.5% x 99.99% = 99.49%: the capped tiers stay at or below it.
    capped = {t["name"]: t for t in availability["tiers"]}
    assert float(capped["balanced"]["target"]) <= 99.49
    # 00:30-02:00 touches the 00:00 and 01:00 buckets of May 2nd, in both SLIs.
    assert availability["dataQuality"]["excludedBuckets"] == 2
    assert latency["dataQuality"]["excludedBuckets"] == 2


EXAMPLE = pathlib.Path(__file__).parent.parent / "testdata" / "checkout-incidents-10d.json"


def test_the_example_file_is_synth_history_with_a_gap() -> None:
    """``tests/testdata/checkout-incidents-10d.json`` documents the format with real-looking data:
    ten days of ``sources.synth``'s ``incidents`` profile up to 2024-06-01, minus three buckets
    (a scrape gap). Rewrite it from this recipe if the generator changes."""
    end = 1717200000  # 2024-06-01T00:00:00Z
    data = synth.generate(synth.Service("checkout", "incidents"), synth.Timeline(end=end, days=10))
    grid = {"start": end - 10 * 86400, "end": end, "bucket_seconds": 3600}
    doc = factories.cli_input_document(
        availability=synthseries.availability_history(data, **grid),
        latency=synthseries.latency_history(data, **grid),
    )
    del doc["availability"][50:53]
    del doc["latency"]["buckets"][50:53]
    assert json.loads(EXAMPLE.read_text(encoding="utf-8")) == doc


def test_the_example_file_gives_a_low_confidence_recommendation(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = _run(capsys, "recommend", "--input", str(EXAMPLE), "--output", "json")
    assert (code, err) == (0, "")
    availability, latency = json.loads(out)["recommendations"]
    # Ten days are enough to recommend (7) but shorter than one 28-day window.
    assert availability["dataQuality"]["lowConfidence"] is True
    assert availability["dataQuality"]["gaps"] == [
        {"start": "2024-05-24T02:00:00Z", "end": "2024-05-24T05:00:00Z"}
    ]
    assert availability["explanation"]["incidents"]
    assert [t["name"] for t in latency["tiers"]] == TIERS


# --- not enough data ---------------------------------------------------------------------------


def test_too_short_history_exits_3_with_the_reason(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    doc = factories.cli_input_document(availability=factories.synthetic_availability(days=3))
    code, out, err = _run(capsys, "recommend", "--input", _write(tmp_path / "h.json", doc))
    assert code == cli.EXIT_INSUFFICIENT == 3
    assert out == ""
    assert err.startswith("sloreco: availability: only 3.00 days of data")
    assert err.count("\n") == 1


def test_json_on_exit_3_says_why(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    doc = factories.cli_input_document(availability=factories.synthetic_availability(days=3))
    path = _write(tmp_path / "h.json", doc)
    code, out, _ = _run(capsys, "recommend", "--input", path, "--output", "json")
    assert code == 3
    assert json.loads(out) == {
        "recommendations": [],
        "notRecommended": [
            {
                "sli": "availability",
                "reason": "only 3.00 days of data in the lookback; at least 7 days are needed "
                "for a recommendation",
                "daysFound": "3.00",
            }
        ],
    }


def test_lookback_and_at_cut_the_input_file(
    capsys: pytest.CaptureFixture[str], both_file: str
) -> None:
    """The file holds 2024-05-01 to 2024-06-05; ``--lookback 14d --at`` keeps 14 days before it,
    with ``--at`` aligned down to the hour as a live read would."""
    code, out, err = _run(
        capsys,
        "recommend",
        "--input",
        both_file,
        "--lookback",
        "14d",
        "--at",
        "2024-05-30T05:30:00Z",
        "--window",
        "7d",
        "--output",
        "json",
    )
    assert (code, err) == (0, "")
    for rec in json.loads(out)["recommendations"]:
        assert rec["lookback"] == {"start": "2024-05-16T05:00:00Z", "end": "2024-05-30T05:00:00Z"}
        assert rec["dataQuality"]["daysAnalysed"] == "14.00"
    code, out, _ = _run(capsys, "recommend", "--input", both_file, "--lookback", "400d")
    assert code == 0
    assert "(history 2024-05-01T00:00:00Z to 2024-06-05T00:00:00Z)" in out


def test_report_words_counts_and_an_empty_backtest(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    doc = factories.cli_input_document(
        availability=factories.synthetic_availability(days=10, gaps=(5,))
    )
    code, out, _ = _run(capsys, "recommend", "--input", _write(tmp_path / "h.json", doc))
    assert code == 0
    assert "1 gap, 0 excluded buckets" in out
    assert "0 of 0" not in out
    assert "backtest misses   not run" in out
    assert "Backtest: no past window could be evaluated: each needs at least 7 days of data " in out


def test_one_short_sli_still_prints_the_other(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    doc = factories.cli_input_document(
        availability=factories.synthetic_availability(days=10),
        latency=factories.synthetic_latency(days=2, requests_per_bucket=20),
    )
    path = _write(tmp_path / "h.json", doc)
    code, out, err = _run(capsys, "recommend", "--input", path, "--output", "json")
    assert code == 3
    assert [r["sli"] for r in json.loads(out)["recommendations"]] == ["availability"]
    assert err.startswith("sloreco: latency: only 2.00 days of data")


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--window", "28x"],
            "sloreco: --window: invalid duration '28x': use Prometheus units like 5m, 1h, 28d",
        ),
        (["--percentile", "100"], "sloreco: --percentile: must be greater than 0 and less"),
        (["--percentile", "40"], "sloreco: --percentile: must be between 50 and 99.999, got 40"),
        (["--percentile", "p99"], "sloreco: --percentile: invalid percentage 'p99'"),
        (["--objective-availability", "99,9"], "sloreco: --objective-availability: invalid"),
        (["--objective-availability", "0"], "sloreco: --objective-availability: must be greater"),
        (["--objective-latency", "0.3"], "sloreco: --objective-latency: invalid objective '0.3'"),
        (["--objective-latency", "0@99"], "sloreco: --objective-latency: invalid objective"),
        (["--objective-latency", "0.3@100"], "sloreco: --objective-latency: must be greater"),
        (["--dependency", "db"], "sloreco: --dependency: invalid dependency 'db'"),
        (["--dependency", "=99"], "sloreco: --dependency: invalid dependency '=99'"),
        (["--dependency", "db=0"], "sloreco: --dependency: invalid availability '0' for 'db'"),
        (["--dependency", "db=99", "--dependency", "db=98"], "'db' is given more than once"),
        (["--exclude", "2024-05-02T00:00:00Z"], "sloreco: --exclude: invalid window"),
        (["--exclude", "2024-05-02/2024-05-03"], "sloreco: --exclude: invalid time '2024-05-02'"),
        (
            ["--exclude", "2024-05-02T02:00:00Z/2024-05-02T01:00:00Z"],
            "sloreco: --exclude: end must be after start",
        ),
        (["--bucket", "1h"], "sloreco: --bucket: only with --prometheus"),
        (["--total", "up"], "sloreco: --total: only with --prometheus"),
        (["--at", "0"], "sloreco: --at: 0 is before the file's first bucket (2024-05-01T00"),
        (["--lookback", "30d1m"], "sloreco: --lookback: must be a whole number of the file's"),
        (["--window", "1h"], "sloreco: --window: must be a whole number of days, at least 1d "),
        (["--window", "36h"], "(got 36h)"),
    ],
)
def test_bad_option_exits_2_naming_it(
    capsys: pytest.CaptureFixture[str], both_file: str, extra: list[str], message: str
) -> None:
    code, out, err = _run(capsys, "recommend", "--input", both_file, *extra)
    assert code == cli.EXIT_INPUT == 2
    assert out == ""
    assert message in err
    assert err.startswith("sloreco: ")
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: d["availability"][3].update(total=-5),
            "sloreco: availability[3].total: must be a non-negative integer, got -5",
        ),
        (
            lambda d: d["latency"]["buckets"][7].update(start="2024-05-01T07:30:00Z"),
            "sloreco: latency.buckets[7].start: 2024-05-01T07:30:00Z is not aligned to the 1h",
        ),
        (lambda d: d.update(bucket="7m"), "does not divide a day evenly"),
    ],
)
def test_bad_file_exits_2_naming_the_path(
    capsys: pytest.CaptureFixture[str],
    tmp_path: pathlib.Path,
    both: dict[str, Any],
    mutate: Any,
    message: str,
) -> None:
    doc = json.loads(json.dumps(both))
    mutate(doc)
    code, out, err = _run(capsys, "recommend", "--input", _write(tmp_path / "h.json", doc))
    assert (code, out) == (2, "")
    assert message in err
    assert err.count("\n") == 1


def test_unreadable_file_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    code, _, err = _run(capsys, "recommend", "--input", str(tmp_path / "missing.json"))
    assert code == 2
    assert err.startswith("sloreco: --input: cannot read")
    assert err.count("\n") == 1


def test_not_json_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path) -> None:
    path = tmp_path / "h.json"
    path.write_text('{"availability": [}', encoding="utf-8")
    code, _, err = _run(capsys, "recommend", "--input", str(path))
    assert code == 2
    assert err == "sloreco: input: invalid JSON at line 1, column 19: Expecting value\n"


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["recommend"],
        ["recommend", "--input", "x", "--prometheus", "http://p"],
        ["recommend", "--input", "x", "--output", "xml"],
        ["frobnicate"],
        ["recommend", "--input", "x", "--no-such-flag"],
    ],
)
def test_usage_errors_keep_argparse_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("sloreco")
    assert err.count("\n") == 1, "one line, like every other bad input"
    assert err.rstrip().endswith("--help')")


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"sloreco {sloreco.__version__}\n"


def test_help_lists_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["recommend", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "exit codes:" in out
    assert "4  Prometheus unreachable" in out


# --- the live path's own checks ----------------------------------------------------------------


LIVE = ["recommend", "--prometheus", "http://127.0.0.1:9"]
TOTAL = ["--total", 'http_requests_total{service="a"}']
ERRORS = ["--errors", 'http_requests_total{service="a",code=~"5.."}']


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "sloreco: --prometheus: give --total and --errors"),
        (TOTAL, "sloreco: --errors: --total and --errors go together"),
        (ERRORS, "sloreco: --total: --total and --errors go together"),
        ([*TOTAL, *ERRORS, "--bucket", "7m"], "sloreco: --bucket: bucket of 420s does not divide"),
        ([*TOTAL, *ERRORS, "--lookback", "90d30m"], "sloreco: --lookback: must be a whole number"),
        ([*TOTAL, *ERRORS, "--at", "yesterday"], "sloreco: --at: invalid time 'yesterday'"),
        ([*TOTAL, *ERRORS, "--timeout", "soon"], "sloreco: --timeout: invalid duration 'soon'"),
        ([*TOTAL, *ERRORS, "--window", "0d"], "sloreco: --window: duration '0d' must be greater"),
        (["--total", "sum(x)", *ERRORS], "sloreco: --total: not a PromQL selector"),
        (["--histogram", "http_request_duration_seconds"], "sloreco: --histogram: select the"),
        (
            [*TOTAL, *ERRORS, "--bearer-token-file", "/nonexistent/token"],
            "sloreco: --bearer-token-file: cannot read",
        ),
        ([*TOTAL, *ERRORS, "--ca-file", "/nonexistent/ca.pem"], "sloreco: --ca-file: cannot read"),
    ],
)
def test_live_argument_errors_exit_2_before_any_query(
    capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    code, out, err = _run(capsys, *LIVE, *extra)
    assert (code, out) == (2, "")
    assert err.startswith(message)
    assert err.count("\n") == 1


@pytest.mark.parametrize("url", ["localhost:9090", "ftp://p", "http://"])
def test_bad_url_exits_2(capsys: pytest.CaptureFixture[str], url: str) -> None:
    code, _, err = _run(capsys, "recommend", "--prometheus", url, *TOTAL, *ERRORS)
    assert code == 2
    assert err.startswith(f"sloreco: --prometheus: invalid URL {url!r}")


def test_a_file_that_is_no_ca_bundle_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not a certificate\n", encoding="utf-8")
    code, _, err = _run(capsys, *LIVE, *TOTAL, *ERRORS, "--ca-file", str(bundle))
    assert code == 2
    assert err.startswith("sloreco: --ca-file: not a usable CA bundle")
    assert err.count("\n") == 1


def test_unreachable_prometheus_exits_4_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:  # a port that was just free: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, out, err = _run(
        capsys,
        "recommend",
        "--prometheus",
        f"http://127.0.0.1:{port}",
        *TOTAL,
        *ERRORS,
        "--timeout",
        "5s",
        "--at",
        "2024-06-01T00:00:00Z",
    )
    assert (code, out) == (cli.EXIT_SOURCE, "")
    assert err.startswith("sloreco: ")
    assert err.count("\n") == 1
    assert "Traceback" not in err
