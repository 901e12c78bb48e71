"""The fleet prior the operator learns: per source, pooled from its ServiceLevels' incidents.

Every availability analysis records its service's incident statistics (``Fleet.observe``: count,
exposure, log sizes — nothing that names a request). On a schedule, not per pass
(``runtime.handlers`` every ``LEARN_INTERVAL_SECONDS``), ``Fleet.learn`` pools each source's
services into a ``core.prior.Prior`` (empirical Bayes, ``prior.pool``), and ``save`` writes all
of them into one ConfigMap the operator owns, in its own namespace, that a user can read and
export with kubectl::

    kubectl get configmap sloreco-fleet-prior -n <operator namespace> \\
        -o jsonpath='{.data.default\\.json}' > fleet.json
    sloreco recommend --input history.json --prior fleet.json

``load`` restores it at startup, so a restart does not fall back to the default prior. A
source whose fleet is smaller than ``MIN_SERVICES`` keeps the default: a handful of services
says little about a fleet, and a service should not be shrunk toward itself.
"""

from __future__ import annotations

import logging
from typing import Any

from sloreco import errors
from sloreco.core import prior as priors
from sloreco.kube import client as kube

log = logging.getLogger(__name__)

#: The ConfigMap's name, and the key of each source's prior in it (``<source>.json``).
CONFIGMAP = "sloreco-fleet-prior"
#: Relearned every ten minutes: recommendations refresh hourly by default, so each sees a prior
#: at most ten minutes old, and pooling a thousand services costs well under a millisecond.
LEARN_INTERVAL_SECONDS = 600.0
#: A fleet prior needs this many services with history; fewer keep the default prior.
MIN_SERVICES = 5


class Fleet:
    """Per source: each ServiceLevel's latest incident statistics, and the prior learned."""

    def __init__(self) -> None:
        self._stats: dict[str, dict[str, priors.ServiceStats]] = {}
        self._priors: dict[str, priors.Prior] = {}

    def prior(self, source: str) -> priors.Prior:
        """The prior a ServiceLevel of ``source`` is computed with: learned, or the default."""
        return self._priors.get(source, priors.DEFAULT)

    def observe(self, source: str, key: str, stats: priors.ServiceStats) -> None:
        """Record a ServiceLevel's latest statistics (replacing its previous ones)."""
        self._stats.setdefault(source, {})[key] = stats

    def forget(self, source: str, key: str) -> None:
        self._stats.get(source, {}).pop(key, None)

    def learn(self) -> dict[str, priors.Prior]:
        """Pool every source with enough services; return the priors now in force."""
        for source, by_key in self._stats.items():
            if len(by_key) >= MIN_SERVICES:
                stats = [by_key[k] for k in sorted(by_key)]  # order-free, but stable bytes
                self._priors[source] = priors.pool(stats, origin=f"fleet:{source}")
        return dict(self._priors)

    def configmap(self, namespace: str) -> dict[str, Any]:
        """The ConfigMap body holding every learned prior."""
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": CONFIGMAP,
                "namespace": namespace,
                "labels": {"app.kubernetes.io/managed-by": "sloreco"},
            },
            "data": {f"{s}.json": self._priors[s].to_json() for s in sorted(self._priors)},
        }

    def restore(self, configmap: dict[str, Any]) -> None:
        """Take the priors from a saved ConfigMap; a key that does not parse is skipped."""
        for key, text in (configmap.get("data") or {}).items():
            if not key.endswith(".json"):
                continue
            try:
                self._priors[key.removesuffix(".json")] = priors.loads(text)
            except errors.InputError as exc:
                log.warning("fleet prior %s in ConfigMap %s ignored: %s", key, CONFIGMAP, exc)


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
