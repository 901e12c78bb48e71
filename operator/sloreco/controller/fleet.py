"""The fleet priors the operator learns: per source and scope, pooled from its ServiceLevels.

Every analysis records its SLI's incident statistics per scope (``Fleet.observe``: count,
exposure, log sizes — nothing that names a request; the scope is ``availability``, or
``latency-<bound>`` for the requests slower than a bound, ``prior.scope_of``). A latency SLI
gives its incidents at every bound of its histogram, not only at the one it is judged at: that
bound depends on its own incidents, and a fleet of the SLIs that picked it is a biased sample
(``core.models.latency.incidents_at_every_bound``).
On a schedule, not per pass (``runtime.handlers`` every ``LEARN_INTERVAL_SECONDS``),
``Fleet.learn`` pools each source's SLIs of one scope into a ``core.prior.Prior`` (empirical
Bayes, ``fleetpool.pool``), and ``save`` writes all of them into one ConfigMap the operator owns,
in its own namespace, that a user can read and export with kubectl (``<source>.json`` for
availability, ``<source>.<scope>.json`` otherwise)::

    kubectl get configmap sloreco-fleet-prior -n <operator namespace> \\
        -o jsonpath='{.data.default\\.json}' > fleet.json
    sloreco recommend --input history.json --prior fleet.json

``load`` restores them at startup, so a restart does not fall back to the default prior. A
scope with fewer than ``MIN_SERVICES`` SLIs keeps the default: a handful of services says
little about a fleet, and a service should not be shrunk toward itself.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from sloreco import errors
from sloreco.core import fleetpool, priordoc
from sloreco.core import prior as beliefs
from sloreco.kube import client as kube

log = logging.getLogger(__name__)

#: The ConfigMap's name; each prior's key in it is ``configmap_key``'s.
CONFIGMAP = "sloreco-fleet-prior"
#: Relearned every ten minutes: recommendations refresh hourly by default, so each sees a prior
#: at most ten minutes old, and pooling a thousand services costs well under a millisecond.
LEARN_INTERVAL_SECONDS = 600.0
#: A fleet prior needs this many services with history; fewer keep the default prior.
MIN_SERVICES = 5
#: One SLI's incident statistics, per scope (``results.SliResult.incidents``).
Scoped = tuple[tuple[str, beliefs.ServiceStats], ...]
#: The scope whose key is the source's name alone (``<source>.json``), as it was before
#: latency fleets were learned: exports written then still name the same key.
_PLAIN = beliefs.scope_of("availability")


class Fleet:
    """Per ServiceLevel and SLI: the latest incident statistics; per source: the priors learned."""

    def __init__(self) -> None:
        #: ``namespace/name`` → SLI → (source, statistics per scope): a ServiceLevel that moves
        #: to another source leaves its old fleet with its next observation.
        self._stats: dict[str, dict[str, tuple[str, Scoped]]] = {}
        self._priors: dict[str, dict[str, beliefs.Prior]] = {}
        self._given: dict[str, tuple[beliefs.Prior, ...]] = {}

    def priors(self, source: str) -> tuple[beliefs.Prior, ...]:
        """The priors a ServiceLevel of ``source`` is computed with (each SLI takes its own
        scope's, ``slis.base.Request.prior_for``); none learned: the default for all."""
        return self._given.get(source, ())

    def observe(self, source: str, key: str, sli: str, incidents: Scoped) -> None:
        """Record a ServiceLevel SLI's latest statistics (replacing its previous ones)."""
        self._stats.setdefault(key, {})[sli] = (source, incidents)

    def forget(self, key: str) -> None:
        """A deleted ServiceLevel's statistics leave the next fleet prior."""
        self._stats.pop(key, None)

    def learn(self) -> dict[tuple[str, str], beliefs.Prior]:
        """Pool every (source, scope) with enough services; return the priors now in force."""
        groups: dict[tuple[str, str], list[tuple[str, beliefs.ServiceStats]]] = defaultdict(list)
        for key, by_sli in self._stats.items():
            for sli, (source, incidents) in by_sli.items():
                for scope, seen in incidents:
                    groups[source, scope].append((f"{key}/{sli}", seen))
        for (source, scope), members in groups.items():
            if len(members) >= MIN_SERVICES:
                pooled = [s for _, s in sorted(members, key=lambda m: m[0])]  # stable bytes
                self._set(fleetpool.pool(pooled, origin=f"fleet:{source}", scope=scope), source)
        return {(s, scope): p for s, by in self._priors.items() for scope, p in by.items()}

    def _set(self, prior: beliefs.Prior, source: str) -> None:
        by_scope = self._priors.setdefault(source, {})
        by_scope[prior.scope] = prior
        self._given[source] = tuple(by_scope[s] for s in sorted(by_scope))

    def configmap(self, namespace: str) -> dict[str, Any]:
        """The ConfigMap body holding every learned prior."""
        data = {
            configmap_key(source, scope): prior.to_json()
            for source, by_scope in self._priors.items()
            for scope, prior in by_scope.items()
        }
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": CONFIGMAP,
                "namespace": namespace,
                "labels": {"app.kubernetes.io/managed-by": "sloreco"},
            },
            "data": dict(sorted(data.items())),
        }

    def restore(self, configmap: dict[str, Any]) -> None:
        """Take the priors from a saved ConfigMap; a key that does not parse is skipped."""
        for key, text in sorted((configmap.get("data") or {}).items()):
            if not key.endswith(".json"):
                continue
            try:
                prior = priordoc.loads(text)
            except errors.InputError as exc:
                log.warning("fleet prior %s in ConfigMap %s ignored: %s", key, CONFIGMAP, exc)
                continue
            suffix = ".json" if prior.scope == _PLAIN else f".{prior.scope}.json"
            if not key.endswith(suffix) or key == suffix:
                log.warning(
                    "fleet prior %s in ConfigMap %s ignored: its scope is %s, its key not "
                    "<source>%s",
                    key,
                    CONFIGMAP,
                    prior.scope,
                    suffix,
                )
                continue
            self._set(prior, key.removesuffix(suffix))


def member(namespace: str, name: str) -> str:
    """A ServiceLevel's key in the fleet (``observe``, ``forget``): ``namespace/name``."""
    return f"{namespace}/{name}"


def configmap_key(source: str, scope: str) -> str:
    """A prior's key in the ConfigMap: ``<source>.json`` for availability, else
    ``<source>.<scope>.json`` (``kubectl get configmap ... -o jsonpath='{.data.x\\.json}'``)."""
    return f"{source}.json" if scope == _PLAIN else f"{source}.{scope}.json"


def _path(namespace: str, name: str | None = None) -> str:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    return base if name is None else f"{base}/{name}"


async def save(client: kube.KubeClient, fleet: Fleet, namespace: str) -> None:
    """Write the learned priors (create the ConfigMap, or replace its data)."""
    body = fleet.configmap(namespace)
    try:
        await client.merge_patch(_path(namespace, CONFIGMAP), {"data": body["data"]})
    except errors.NotFoundError:
        await client.create(_path(namespace), body)


async def load(client: kube.KubeClient, fleet: Fleet, namespace: str) -> None:
    """Restore the priors saved before a restart (none saved yet: nothing to do)."""
    try:
        fleet.restore(await client.get(_path(namespace, CONFIGMAP)))
    except errors.NotFoundError:
        return
