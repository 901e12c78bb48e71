"""The CLI and the operator give identical tiers for identical inputs (issue 9, item 15).

The demo's ``checkout`` and ``payments`` samples go to the real operator (real kube-apiserver,
real Prometheus with the operator tests' history); then ``sloreco recommend`` reads the same
Prometheus with the same selectors, lookback, data end, window, objectives, exclusions and
dependency figures, with ``--service`` set to the object's uid (the operator seeds the bootstrap
with the uid where the CLI uses ``--service``). Tiers, backtest, data quality and the objective's
verdict must be equal, value for value.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from sloreco.cli import main as cli
from sloreco.controller import children
from sloreco.testing import controlplane as cplane
from tests.fixtures.controlplane import api
from tests.fixtures.operator import OperatorHistory, OperatorProcess, wait_for
from tests.integration.test_operator import Obj, active, condition, create, kids, parent

pytestmark = pytest.mark.integration

SAMPLES = Path(__file__).resolve().parents[2] / "deploy" / "samples"
#: What only the operator writes into a child's tiers (the kubectl column text).
OPERATOR_ONLY = ("summary",)
#: An external hard dependency added to checkout so that its ceiling certainly binds: 50 %, under
#: any tier a service at 99.97 % can get. The ceiling binds only where a tier sits above it, and
#: checkout's 45 clean days leave its tiers to the default prior's unseen outages, drawn with the
#: object's uid as seed: at 95 % one CI run in six saw neither cappable tier capped, and at 90 %
#: (method v32, outages costed at the busy hours) balanced ranged 90.6-97.4 % over 40 seeds and
#: one CI run fell below it.
EDGE = {"external": "edge-proxy", "availability": "50", "type": "hard"}


@pytest.fixture
def client(controlplane: cplane.ControlPlane) -> Iterator[httpx.Client]:
    with api(controlplane) as c:
        yield c


@pytest.fixture
def operator(
    run_operator: Callable[..., OperatorProcess], namespace: str, operator_history: OperatorHistory
) -> OperatorProcess:
    return run_operator(namespace=namespace, prometheus_url=operator_history.url)


def sample(name: str) -> Obj:
    manifest: Obj = yaml.safe_load((SAMPLES / f"{name}.yaml").read_text())
    return manifest


def cli_json(argv: list[str]) -> Obj:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(argv)
    assert (code, err.getvalue()) == (0, "")
    doc: Obj = json.loads(out.getvalue())
    return doc


def comparable(spec: Obj) -> Obj:
    explanation = spec["explanation"]
    return {
        "tiers": [{k: v for k, v in t.items() if k not in OPERATOR_ONLY} for t in spec["tiers"]],
        "backtest": spec["backtest"],
        "dataQuality": spec["dataQuality"],
        "observed": explanation["observed"],
        "currentObjective": explanation.get("currentObjective"),
        "window": spec["window"],
        "lookback": spec["lookback"],
    }


def cli_argv(sl: Obj, child: Obj, url: str, dependencies: list[str]) -> list[str]:
    """``sloreco recommend`` with the ServiceLevel's own settings, at the child's data end."""
    spec = sl["spec"]
    argv = ["recommend", "--prometheus", url, "--output", "json"]
    argv += ["--service", sl["metadata"]["uid"]]
    argv += ["--at", str(int(children.data_end(child)))]
    argv += ["--lookback", spec["lookback"], "--window", spec["window"]]
    if child["spec"]["sli"] == "availability":
        argv += ["--total", spec["availability"]["totalQuery"]]
        argv += ["--errors", spec["availability"]["errorQuery"]]
        objective = (spec.get("currentObjective") or {}).get("availability")
        if objective:
            argv += ["--objective-availability", objective]
        for dependency in dependencies:
            argv += ["--dependency", dependency]
    else:
        argv += ["--histogram", spec["latency"]["histogram"]]
        argv += ["--percentile", spec["latency"]["percentile"]]
        objective = (spec.get("currentObjective") or {}).get("latency")
        if objective:
            argv += ["--objective-latency", f"{objective['threshold']}@{objective['target']}"]
    for exclusion in spec.get("exclusions", []):
        argv += ["--exclude", f"{exclusion['start']}/{exclusion['end']}"]
    return argv


def test_cli_and_operator_give_identical_tiers_for_the_demo_services(
    client: httpx.Client,
    namespace: str,
    operator: OperatorProcess,
    operator_history: OperatorHistory,
) -> None:
    create(client, namespace, sample("payments"))
    checkout = sample("checkout")
    # An external hard dependency at 90 % makes the ceiling bind (with payments alone, whether a
    # tier reaches it depends on the uid-seeded simulation, and the ceiling path went uncovered).
    checkout["spec"]["dependencies"].append(EDGE)
    create(client, namespace, checkout)

    def settled() -> dict[str, Obj] | None:
        found = {}
        for name in ("payments", "checkout"):
            obj = parent(client, namespace, name)
            if condition(obj, "Ready").get("status") != "True":
                return None
            if condition(obj, "DependenciesResolved").get("status") == "False":
                return None
            found[name] = obj
        # checkout's availability is computed under payments' ceiling once it is known.
        capped = active(kids(client, namespace, "checkout"), "availability")
        if not capped or children.computed_under_ceiling(capped[0]) is None:
            return None
        return found

    services = wait_for(settled, what="payments and checkout Ready, checkout under its ceiling")
    payments_median = next(
        o["median"]
        for o in services["payments"]["status"]["observed"]
        if o["sli"] == "availability"
    )
    dependencies = {
        "payments": ["card-network=99.95"],
        "checkout": [f"payments={payments_median}", f"{EDGE['external']}={EDGE['availability']}"],
    }
    compared = 0
    for name, sl in services.items():
        for child in kids(client, namespace, name):
            if children.state(child) != children.ACTIVE:
                continue
            argv = cli_argv(sl, child, operator_history.url, dependencies[name])
            [from_cli] = [
                r for r in cli_json(argv)["recommendations"] if r["sli"] == child["spec"]["sli"]
            ]
            assert comparable(from_cli) == comparable(child["spec"]), (name, child["spec"]["sli"])
            compared += 1
    assert compared == 3  # payments availability; checkout availability and latency
    capped: list[Any] = [
        t["capped"]
        for t in active(kids(client, namespace, "checkout"), "availability")[0]["spec"]["tiers"]
    ]
    # The ceiling caps both cappable tiers, and aggressive, which shows potential, never.
    assert capped == [True, True, False], "the test covers the dependency ceiling"
