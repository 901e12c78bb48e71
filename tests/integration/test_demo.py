"""``make demo`` — the README's first command — end to end, so it keeps working at every commit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sloreco.controller import fleet as fleets
from sloreco.testing import demo, demofleet

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
#: The demo builds 90 days of history for five services and waits for the operator; a bound for
#: a hung run, not a speed assertion.
DEMO_TIMEOUT_S = 600


@pytest.fixture(scope="module")
def demo_output(tmp_path_factory: pytest.TempPathFactory) -> str:
    workdir = tmp_path_factory.mktemp("demo")
    done = subprocess.run(
        [sys.executable, "-m", "sloreco.testing.demo", "--once", "--workdir", str(workdir)],
        capture_output=True,
        text=True,
        timeout=DEMO_TIMEOUT_S,
        cwd=REPO_ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_demo_shows_an_active_availability_recommendation_per_service(demo_output: str) -> None:
    rows = [line.split() for line in demo_output.splitlines() if " Active " in line]
    services = {row[1] for row in rows if row[2] == "availability"}
    assert services == {service.name for service in demo.SERVICES}


def test_demo_marks_every_sample_ready(demo_output: str) -> None:
    table = demo_output.split("# ServiceLevels", 1)[1].split("$ kubectl", 1)[0]
    readiness = {line.split()[0]: line.split()[2] for line in table.strip().splitlines()[1:]}
    assert readiness == {service.name: "True" for service in demo.SERVICES}


def test_demo_tells_how_to_explore(demo_output: str) -> None:
    assert "export KUBECONFIG=" in demo_output


def test_demo_shows_each_availability_recommendation_under_the_fleet_prior(
    demo_output: str,
) -> None:
    # The operator learns a fleet prior from the five services and recomputes each availability
    # recommendation under it at the next pass, not at the hourly refresh (controller.plan).
    table = demo_output.split("FLEET PRIOR\n", 1)[1].split("\n\n", 1)[0]
    rows = {line.split()[0]: line.split()[1:] for line in table.strip().splitlines()}
    tiers = {service: cells[0:5:2] + cells[5:10:2] for service, cells in rows.items()}
    assert set(tiers) == {service.name for service in demo.SERVICES}
    # three tiers under each prior: a service the fleet prior missed would show "-"
    assert all(len(t) == 6 and all(c.endswith("%") for c in t) for t in tiers.values()), rows


def test_the_samples_and_the_demo_fleet_are_exactly_a_fleet() -> None:
    samples = sorted((demo.REPO_ROOT / "deploy" / "samples").glob("*.yaml"))
    assert len(samples) == demofleet.SAMPLE_AVAILABILITY_SLIS == len(demo.SERVICES)
    assert len(demo.SERVICES) + len(demofleet.SERVICES) == fleets.MIN_SERVICES
