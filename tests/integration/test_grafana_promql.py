"""Every PromQL expression of the Grafana dashboard parses in Prometheus 3 (``promtool``).

Grafana's variables are replaced by what Grafana would send (``$__rate_interval`` by a range,
multi-value variables by a regex), and each expression becomes a recording rule that
``promtool check rules`` parses and type-checks.
"""

from __future__ import annotations

import pathlib

import pytest
import yaml

from tests import peertools
from tests.unit.test_grafana import expressions

pytestmark = pytest.mark.integration

GRAFANA_VARIABLES = {
    "$__rate_interval": "4m",
    "$namespace": "(shop|demo)",
    "$service_level": "(checkout|payments)",
}


def test_promtool_parses_every_dashboard_query(tmp_path: pathlib.Path) -> None:
    rules = []
    for i, query in enumerate(expressions()):
        expr = query
        for variable, value in GRAFANA_VARIABLES.items():
            expr = expr.replace(variable, value)
        assert "$" not in expr, expr
        rules.append({"record": f"dashboard:query:{i}", "expr": expr})
    path = tmp_path / "dashboard-rules.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    done = peertools.run("promtool3", "check", "rules", path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(rules)} rules found" in done.stdout

    broken = path.with_name("broken.yaml")
    rules[0]["expr"] += " by"
    broken.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    assert peertools.run("promtool3", "check", "rules", broken).returncode != 0
