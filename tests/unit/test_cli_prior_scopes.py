"""Priors by scope in the CLI: ``sloreco prior --latency-bound`` and repeated ``--prior`` files."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from pathlib import Path

import pytest

from sloreco import errors
from sloreco.cli import main as cli
from sloreco.core import fleetpool, history, priordoc
from sloreco.core import prior as priors
from tests import factories

WINDOW = 28 * 86400
#: ``factories.steady_latency``'s history at p99 is judged at 1 s (``test_prior``).
JUDGED = priors.scope_of("latency", 1.0)


def _latency(seed: int) -> history.LatencyHistory:
    """Sixty steady days with one three-hour slowdown."""
    steady = factories.steady_latency(60 * 24, bucket_seconds=3600, seed=seed)
    return factories.with_slow_incident(steady, first=500 + seed, buckets=3, slow_share=0.5)


def _latency_file(tmp_path: Path, seed: int) -> Path:
    data = _latency(seed)
    path = tmp_path / f"latency-{seed}.json"
    path.write_text(json.dumps(factories.cli_input_document(latency=data)))
    return path


def _fleet(scope: str, origin: str) -> str:
    size = math.log(40.0)
    stats = [priors.ServiceStats(3, 90.0, 3 * size, 3 * size**2)] * 6
    return priordoc.dumps(fleetpool.pool(stats, origin=origin, scope=scope))


def test_sloreco_prior_pools_latency_incidents_as_the_engine_finds_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = [_latency_file(tmp_path, seed) for seed in (3, 4)]
    engine = [
        factories.recommend_latency(
            _latency(seed),
            percentile=Decimal(99),
            window_seconds=WINDOW,
            seed=1,
            observe=True,
        )
        for seed in (3, 4)
    ]
    at_bound = [dict(r.incidents)[JUDGED] for r in engine]
    assert [(r.scope, s.incidents) for r, s in zip(engine, at_bound, strict=True)] == [
        (JUDGED, 1)
    ] * 2
    expected = fleetpool.pool(at_bound, origin="fleet", scope=JUDGED)

    code = cli.main(["prior", "--latency-bound", "1", *(f"--input={p}" for p in paths)])

    assert code == 0
    assert priordoc.document(priordoc.loads(capsys.readouterr().out)) == priordoc.document(expected)


def test_a_latency_bound_the_histogram_lacks_is_an_error_naming_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _latency_file(tmp_path, 3)

    code = cli.main(["prior", "--latency-bound", "0.3", "--input", str(path)])

    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("sloreco: --latency-bound: ")
    assert "0.3 is not one of the histogram's bounds (0.1, 0.25, 0.5, 1)" in err


def test_each_sli_takes_the_prior_file_of_its_scope(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    availability = factories.steady_availability(60, seed=2, bucket_seconds=3600)
    latency = factories.steady_latency(60 * 24, bucket_seconds=3600, seed=3)
    document = tmp_path / "history.json"
    document.write_text(
        json.dumps(factories.cli_input_document(availability=availability, latency=latency))
    )
    (tmp_path / "a.json").write_text(_fleet("availability", "fleet:a"))
    (tmp_path / "l.json").write_text(_fleet(JUDGED, "fleet:l"))
    flags = ["--prior", str(tmp_path / "a.json"), "--prior", str(tmp_path / "l.json")]

    code = cli.main(["recommend", "--input", str(document), "--output", "json", *flags])

    out = json.loads(capsys.readouterr().out)
    notes = {r["sli"]: " ".join(r["dataQuality"]["notes"]) for r in out["recommendations"]}
    assert code == 0
    assert "(fleet:a, availability prior)" in notes["availability"]
    assert f"(fleet:l, {JUDGED} prior)" in notes["latency"]


def test_two_prior_files_of_one_scope_are_an_error_naming_both(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = _latency_file(tmp_path, 3)
    for name in ("one", "two"):
        (tmp_path / f"{name}.json").write_text(_fleet(JUDGED, f"fleet:{name}"))
    one, two = tmp_path / "one.json", tmp_path / "two.json"

    code = cli.main(
        ["recommend", "--input", str(document), "--prior", str(one), "--prior", str(two)]
    )

    assert code == 2
    assert capsys.readouterr().err.strip() == (
        f"sloreco: --prior: {one} and {two} are both priors for {JUDGED}"
    )


def test_a_fleet_document_written_before_scopes_is_an_availability_prior() -> None:
    document = json.loads(_fleet("availability", "fleet:old"))
    del document["scope"]

    assert priordoc.from_document(document).scope == "availability"


def test_a_hand_written_prior_without_a_scope_applies_to_every_sli() -> None:
    document = priordoc.document(factories.QUIET_PRIOR)
    del document["scope"]

    assert priordoc.from_document(document).scope == priors.ANY


def test_an_unknown_scope_is_an_error_naming_the_field() -> None:
    document = priordoc.document(factories.QUIET_PRIOR)
    document["scope"] = "freshness"

    with pytest.raises(errors.InputError, match=r"prior\.scope: must be"):
        priordoc.from_document(document)
