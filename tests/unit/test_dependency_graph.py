"""Dependencies resolved from the graph the watch keeps, not by a GET per dependency per pass.

The Kubernetes client here is a fake that counts GETs (what the real apiserver does with them is
covered by the operator's integration tests, which run with the watch feeding the graph).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, cast

from sloreco import errors
from sloreco import settings as config
from sloreco.controller import context, dependencies, graph, status
from sloreco.kube import client as kube
from sloreco.spec import model as specs
from tests import factories

NS = "team"


class CountingKube:
    """GET from a dict of bodies by path; 404 for the others; counts every GET."""

    def __init__(self, bodies: Mapping[tuple[str, str], dict[str, Any]]) -> None:
        self._bodies = {kube.path_for("servicelevels", *k): v for k, v in bodies.items()}
        self.gets = 0

    async def get(self, path: str) -> dict[str, Any]:
        self.gets += 1
        if path not in self._bodies:
            raise errors.NotFoundError(f"{path} not found")
        return self._bodies[path]


def body(name: str, *, needs: str | None, namespace: str = NS, **spec: object) -> dict[str, Any]:
    deps = [{"serviceLevel": needs, "type": "hard"}] if needs else []
    manifest = factories.service_level(name, service=name, dependencies=deps, **spec)
    manifest["metadata"]["namespace"] = namespace
    manifest["metadata"]["uid"] = f"uid-{name}"
    manifest["status"] = {"observed": [{"sli": "availability", "median": "99.5"}]}
    return manifest


def ring(n: int) -> dict[tuple[str, str], dict[str, Any]]:
    """``n`` ServiceLevels, each depending on the next, the last on the first: one cycle."""
    return {(NS, f"sl-{i}"): body(f"sl-{i}", needs=f"sl-{(i + 1) % n}") for i in range(n)}


def resolve(ctx: context.Context, obj: dict[str, Any]) -> context.Work:
    work = context.Work()
    spec = specs.parse_service_level_spec(obj["spec"])
    asyncio.run(dependencies.resolve(ctx, obj, spec, work))
    return work


def make(bodies: dict[tuple[str, str], dict[str, Any]]) -> tuple[context.Context, CountingKube]:
    fake = CountingKube(bodies)
    ctx = context.Context(
        kube=cast("kube.KubeClient", fake), sources={}, settings=config.Settings(sources={})
    )
    return ctx, fake


def clique(n: int) -> dict[tuple[str, str], dict[str, Any]]:
    """``n`` ServiceLevels, each depending on all the others (issue 10's hostile graph)."""
    bodies = {}
    for i in range(n):
        obj = body(f"sl-{i}", needs=None)
        obj["spec"]["dependencies"] = [
            {"serviceLevel": f"sl-{j}", "type": "hard"} for j in range(n) if j != i
        ]
        bodies[(NS, f"sl-{i}")] = obj
    return bodies


def test_fifty_watched_servicelevels_naming_each_other_need_no_get() -> None:
    """Before: each pass made a GET per dependency and per step of the cycle search (issue 10: 50
    ServiceLevels naming each other took the operator to 89 % CPU)."""
    bodies = clique(50)
    ctx, fake = make(bodies)
    for obj in bodies.values():
        ctx.graph.see(obj)
    work = resolve(ctx, bodies[(NS, "sl-0")])
    assert fake.gets == 0
    resolved = work.conditions[status.DEPENDENCIES_RESOLVED]
    assert not resolved.status
    assert "depends back on this one (a cycle)" in resolved.message


def test_a_cold_graph_reads_through_once() -> None:
    bodies = ring(5)
    ctx, fake = make(bodies)
    resolve(ctx, bodies[(NS, "sl-0")])
    first = fake.gets
    assert 0 < first <= dependencies.MAX_LOOKUPS
    resolve(ctx, bodies[(NS, "sl-0")])
    assert fake.gets == first  # what was read joined the graph
    assert len(ctx.graph) == 5


def test_a_dropped_servicelevel_is_read_again_and_reported_missing() -> None:
    bodies = {(NS, "web"): body("web", needs="db"), (NS, "db"): body("db", needs=None)}
    ctx, fake = make({(NS, "web"): bodies[(NS, "web")]})  # db deleted in the apiserver
    ctx.graph.see(bodies[(NS, "db")])
    ctx.graph.drop(NS, "db")  # ... and its DELETED event seen
    work = resolve(ctx, bodies[(NS, "web")])
    assert fake.gets == 1
    assert "ServiceLevel team/db does not exist" in work.conditions["DependenciesResolved"].message


def test_a_cached_servicelevel_of_another_namespace_still_needs_its_consent() -> None:
    web = body("web", needs=None)
    web["spec"]["dependencies"] = [{"serviceLevel": "db", "namespace": "data", "type": "hard"}]
    private = body("db", needs=None, namespace="data")
    ctx, _ = make({})
    ctx.graph.see(private)
    refused = resolve(ctx, web).conditions["DependenciesResolved"].message
    ctx.graph.see(body("db", needs=None, namespace="data", sharedWith=[NS]))
    work = resolve(ctx, web)
    assert "does not exist or is not shared with namespace team" in refused
    assert work.conditions["DependenciesResolved"].status


def test_a_node_keeps_only_what_resolution_reads() -> None:
    obj = body("web", needs="db", sharedWith=["data"])
    obj["status"]["conditions"] = [{"type": "Ready", "status": "True"}]
    node = graph.slim(obj)
    assert node == {
        "metadata": {"namespace": NS, "name": "web"},
        "spec": {"dependencies": [{"serviceLevel": "db", "type": "hard"}], "sharedWith": ["data"]},
        "status": {"observed": [{"sli": "availability", "median": "99.5"}]},
    }
