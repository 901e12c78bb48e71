"""The fleet priors the operator learns: per source, fleet and scope, pooled from ServiceLevels.

Every analysis records its SLI's incident statistics per scope (``Fleet.observe``: count,
exposure, log sizes — nothing that names a request; the scope is ``availability``, or
``latency-<bound>`` for the requests slower than a bound, ``prior.scope_of``). A latency SLI
gives its incidents at every bound of its histogram, not only at the one it is judged at: that
bound depends on its own incidents, and a fleet of the SLIs that picked it is a biased sample
(``core.models.latency.incidents_at_every_bound``).
On a schedule, not per pass (``runtime.handlers`` every ``settings.Settings.fleet_learn_seconds``),
``Fleet.learn`` pools each source's SLIs of one scope into a ``core.prior.Prior`` (empirical
Bayes, ``fleetpool.pool``), and ``save`` writes all of them into one ConfigMap the operator owns,
in its own namespace, that a user can read and export with kubectl (``<source>.json`` for
availability, ``<source>.<scope>.json`` otherwise)::

    kubectl get configmap sloreco-fleet-prior -n <operator namespace> \\
        -o jsonpath='{.data.default\\.json}' > fleet.json
    sloreco recommend --input history.json --prior fleet.json

A ServiceLevel that names a fleet (``spec.fleet``) is also pooled with the others of its source
that name the same one, apart from the rest (keys ``<source>_<fleet>.json``; a DNS label has no
``_``), and takes that fleet's prior of each scope it has. A fleet prior is calibrated across
its fleet: in a fleet of two kinds of service, the kind with the heavier-tailed incidents breaks
the promises the fleet as a whole keeps (``bench/calibrate.py``, the mixed fleet's rows), and a
member's handful of incidents cannot say which kind it is. Its team can.

``load`` restores them at startup, so a restart does not fall back to the default prior. A
pool with fewer than ``MIN_SERVICES`` SLIs keeps the prior above it — a fleet's, its source's;
a source's, the default: a handful of services says little about a fleet, and a service should
not be shrunk toward itself.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection
from typing import Any

from sloreco import errors
from sloreco.core import fleetpool, priordoc
from sloreco.core import prior as beliefs
from sloreco.kube import client as kube

log = logging.getLogger(__name__)

#: The ConfigMap's name; each prior's key in it is ``configmap_key``'s.
CONFIGMAP = "sloreco-fleet-prior"
#: A fleet prior needs this many SLIs with history at its scope; fewer keep the prior above it
#: (the source's, or the default). A small fleet is one draw of its luck, and its prior can be
#: sure of what it never saw: the calibration suite with each history's prior pooled from the
#: other histories of its own small fleet (``bench.calibrate --fleet-size``, 60-84 histories x
#: 20,000 windows) breached, from 5 others, `blips-and-outage`'s balanced tier 2.95x and
#: `long-outage`'s 1.92x the promise (those fleets rarely saw an outage and learned blips); from
#: 10 others, `latency-rare-large`'s 2.40x; from 20 others, `regimes`' aggressive tier 1.52x and
#: nothing else; from 99, nothing. It was 5 until then.
MIN_SERVICES = 20
#: One SLI's incident statistics, per scope (``results.SliResult.incidents``).
Scoped = tuple[tuple[str, beliefs.ServiceStats], ...]
#: The scope whose key is the source's name alone (``<source>.json``), as it was before
#: latency fleets were learned: exports written then still name the same key.
_PLAIN = beliefs.scope_of("availability")
#: Between a source and a fleet in a pool's name (``pool``).
_FLEET = "_"
#: A learned prior's origin: this, then the pool's name with a ``/`` for the ``_``.
_ORIGIN = "fleet:"


class Fleet:
    """Per ServiceLevel and SLI: the latest incident statistics; per pool: the priors learned."""

    def __init__(self) -> None:
        #: ``namespace/name`` → SLI → (pools, statistics per scope): a ServiceLevel that moves
        #: to another source or fleet leaves its old pools with its next observation.
        self._stats: dict[str, dict[str, tuple[tuple[str, ...], Scoped]]] = {}
        #: Pool (``pool``) → scope → the prior learned, or restored, for it.
        self._priors: dict[str, dict[str, beliefs.Prior]] = {}

    def priors(self, source: str, fleet: str | None = None) -> tuple[beliefs.Prior, ...]:
        """The priors a ServiceLevel of ``source`` (and ``fleet``) is computed with: per scope,
        its fleet's, else its source's (each SLI takes its own scope's,
        ``slis.base.Request.prior_for``); none learned: the default for all."""
        by_scope = dict(self._priors.get(source, {}))
        if fleet is not None:
            by_scope.update(self._priors.get(pool(source, fleet), {}))
        return tuple(by_scope[s] for s in sorted(by_scope))

    def observe(
        self, source: str, key: str, sli: str, incidents: Scoped, *, fleet: str | None = None
    ) -> None:
        """Record a ServiceLevel SLI's latest statistics (replacing its previous ones)."""
        pools = (source,) if fleet is None else (source, pool(source, fleet))
        self._stats.setdefault(key, {})[sli] = (pools, incidents)

    def unlearned(self, source: str, fleet: str | None, scope: str) -> str | None:
        """The note a recommendation of a ServiceLevel that names ``fleet`` carries while that
        fleet has no prior of ``scope``: which prior it got instead (none named, or the fleet's
        learned: None). Without it the explanation names the source's prior, and nothing says
        why the fleet the team named is not the one in force."""
        if fleet is None or scope in self._priors.get(pool(source, fleet), {}):
            return None
        instead = (
            f"the prior of source {source!r}"
            if scope in self._priors.get(source, {})
            else "the default prior"
        )
        return (
            f"Fleet {fleet!r} has no {scope} prior yet (it needs {MIN_SERVICES} SLIs with "
            f"history at this scope): {instead} is used."
        )

    def in_force(self) -> set[tuple[str, str]]:
        """The (pool, scope) pairs that have a prior, learned or restored."""
        return {(name, scope) for name, by in self._priors.items() for scope in by}

    def members(self, pools: Collection[str]) -> list[tuple[str, str]]:
        """The ServiceLevels, ``(namespace, name)``, that feed any of ``pools``: those whose
        recommendations a first prior there changes (``controller.plan.refresh_due``)."""
        wanted = set(pools)
        found = {
            key
            for key, by_sli in self._stats.items()
            if any(wanted.intersection(names) for names, _ in by_sli.values())
        }
        return sorted(_split(key) for key in found)

    def forget(self, key: str) -> None:
        """A deleted ServiceLevel's statistics leave the next fleet prior."""
        self._stats.pop(key, None)

    def learn(self) -> dict[tuple[str, str], beliefs.Prior]:
        """Pool every (pool, scope) with enough services; return the priors now in force."""
        groups: dict[tuple[str, str], list[tuple[str, beliefs.ServiceStats]]] = defaultdict(list)
        for key, by_sli in self._stats.items():
            for sli, (pools, incidents) in by_sli.items():
                for name in pools:
                    for scope, seen in incidents:
                        groups[name, scope].append((f"{key}/{sli}", seen))
        for (name, scope), members in groups.items():
            if len(members) >= MIN_SERVICES:
                pooled = [s for _, s in sorted(members, key=lambda m: m[0])]  # stable bytes
                origin = _ORIGIN + name.replace(_FLEET, "/")
                self._set(fleetpool.pool(pooled, origin=origin, scope=scope), name)
        return {(n, scope): p for n, by in self._priors.items() for scope, p in by.items()}

    def _set(self, prior: beliefs.Prior, name: str) -> None:
        self._priors.setdefault(name, {})[prior.scope] = prior

    def configmap(self, namespace: str) -> dict[str, Any]:
        """The ConfigMap body holding every learned prior."""
        data = {
            configmap_key(name, scope): priordoc.dumps(prior)
            for name, by_scope in self._priors.items()
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


def _split(key: str) -> tuple[str, str]:
    namespace, _, name = key.partition("/")
    return namespace, name


def specificity(origin: str) -> int:
    """How narrowly a prior's origin (``core.prior.Prior.origin``) pools: 0 for the default (or
    any prior not learned here), 1 for a source's fleet (``fleet:<source>``), 2 for a fleet a
    ServiceLevel names (``fleet:<source>/<fleet>``, see ``learn``)."""
    if not origin.startswith(_ORIGIN):
        return 0
    return 2 if "/" in origin else 1


def pool(source: str, fleet: str) -> str:
    """A named fleet's pool: ``<source>_<fleet>`` (both DNS labels, so the ``_`` is unambiguous
    and the name is a ConfigMap key's part)."""
    return f"{source}{_FLEET}{fleet}"


def configmap_key(name: str, scope: str) -> str:
    """A prior's key in the ConfigMap: ``<pool>.json`` for availability, else
    ``<pool>.<scope>.json`` (``kubectl get configmap ... -o jsonpath='{.data.x\\.json}'``); a
    pool is a source, or a source's fleet (``pool``)."""
    return f"{name}.json" if scope == _PLAIN else f"{name}.{scope}.json"


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
