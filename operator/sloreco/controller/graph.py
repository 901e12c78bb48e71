"""The ServiceLevels' dependency graph as the watch last showed it: a read-through cache (pure).

Issue 10 measured 50 ServiceLevels naming each other driving the operator to 89 % CPU: every pass
read each dependency, and each step of the cycle search, with a GET. The runtime now hands every
watch event — of every namespace, whatever this shard owns, since a dependency may live in
another shard's namespace — to :meth:`Graph.see` and :meth:`Graph.drop`, and
``dependencies.resolve`` reads the graph first; it GETs only a ServiceLevel the watch has not
shown yet (a cold start, or a pass that runs before the event arrives) and adds what it read. The
cycle search then walks memory: the bound of one pass's lookups (``dependencies.MAX_LOOKUPS``)
still holds, but a lookup costs a dictionary read, not a request.

A node keeps only what dependency resolution reads — the name and namespace, the spec's
``dependencies`` and ``sharedWith``, and the observed availability from the status — so the
graph costs under a kilobyte per ServiceLevel (``bench.memory``: 895 bytes at 20,000), and a
DELETED event removes it: its size is the fleet's, never more.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

Key = tuple[str, str]
Obj = dict[str, Any]


@dataclasses.dataclass(frozen=True, slots=True)
class Node:
    """One ServiceLevel, as compact as the fleet's size asks (tuples, not nested dicts)."""

    namespace: str
    name: str
    #: Each dependency as its (field, value) pairs, as written.
    dependencies: tuple[tuple[tuple[str, Any], ...], ...]
    shared_with: tuple[str, ...]
    median: Any

    @classmethod
    def of(cls, body: Mapping[str, Any]) -> Node:
        meta = body.get("metadata") or {}
        spec = body.get("spec") or {}
        observed = (body.get("status") or {}).get("observed") or ()
        median = next(
            (
                o.get("median")
                for o in observed
                if isinstance(o, Mapping) and o.get("sli") == "availability"
            ),
            None,
        )
        return cls(
            namespace=str(meta.get("namespace", "")),
            name=str(meta.get("name", "")),
            dependencies=tuple(
                tuple(d.items()) for d in spec.get("dependencies") or () if isinstance(d, Mapping)
            ),
            shared_with=tuple(spec.get("sharedWith") or ()),
            median=median,
        )

    def body(self) -> Obj:
        """The node in a ServiceLevel's own shape: what dependency resolution reads."""
        observed = [] if self.median is None else [{"sli": "availability", "median": self.median}]
        return {
            "metadata": {"namespace": self.namespace, "name": self.name},
            "spec": {
                "dependencies": [dict(d) for d in self.dependencies],
                "sharedWith": list(self.shared_with),
            },
            "status": {"observed": observed},
        }


def slim(body: Mapping[str, Any]) -> Obj:
    """The parts of a ServiceLevel that dependency resolution reads, in the same shape."""
    return Node.of(body).body()


class Graph:
    """ServiceLevels by (namespace, name), as compact nodes."""

    def __init__(self) -> None:
        self._nodes: dict[Key, Node] = {}

    def __len__(self) -> int:
        return len(self._nodes)

    def see(self, body: Mapping[str, Any]) -> None:
        """Record a ServiceLevel as a watch event or a GET showed it (replacing what was known)."""
        node = Node.of(body)
        self._nodes[(node.namespace, node.name)] = node

    def drop(self, namespace: str, name: str) -> None:
        self._nodes.pop((namespace, name), None)

    def get(self, namespace: str, name: str) -> Obj | None:
        """The node, or None when the watch has not shown it (which need not mean it is gone)."""
        node = self._nodes.get((namespace, name))
        return None if node is None else node.body()
