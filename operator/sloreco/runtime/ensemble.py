"""More than one operator: standby replicas (kopf peering) and shards (namespaces by hash).

Standby (``SLORECO_PEERING=<name>``): kopf's peering, made mandatory, under a ``ClusterKopfPeering``
(``--all-namespaces``) or ``KopfPeering`` (``--namespace``) of that name, which must exist
(``deploy/ha/``). kopf pauses an operator that sees a peer of higher priority, and pauses *every*
operator that sees a peer of the same priority — so replicas of one Deployment, which share their
arguments, cannot share a priority. Each takes ``-(start time in ms)``: the oldest live replica
is the active one, and a replica that starts (or restarts) later never pauses it, so there is no
hand-over while both are healthy. A killed active replica stops renewing its record; the standby
resumes when the record's ``SLORECO_PEERING_LIFETIME`` (seconds, kopf's default 60) runs out,
which bounds the fail-over time. kopf starts a mandatory-peering operator paused, so a standby
never reconciles before it has seen its peers.

Shards (``SLORECO_SHARD=k/N``): operator ``k`` of ``N`` handles the ServiceLevels of namespaces
whose SHA-256 modulo ``N`` is ``k`` — a function of the name only, so every namespace has exactly
one owner, including namespaces created later (no list to keep in step). Shards that also run
standbys need one peering name per shard, or they would pause each other. An explicit split with
kopf's own ``--namespace`` patterns works too, but then a namespace matching no pattern has no
operator.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
import time
from collections.abc import Mapping

__all__ = ["Ensemble", "EnsembleError", "load", "shard_of"]

#: kopf's own default record lifetime (``settings.peering.lifetime``), in seconds.
DEFAULT_LIFETIME = 60


class EnsembleError(ValueError):
    """A peering or sharding variable is malformed; the message names it."""


@dataclasses.dataclass(frozen=True)
class Ensemble:
    """This operator's place among others: its peering (if any) and its shard (if any)."""

    peering: str | None = None
    lifetime: int = DEFAULT_LIFETIME
    #: Higher wins in kopf; set at startup from the start time (see the module docstring).
    priority: int = 0
    shard: int = 0
    shards: int = 1

    def owns(self, namespace: str | None) -> bool:
        """Whether this operator handles ServiceLevels in ``namespace``."""
        return self.shards == 1 or shard_of(namespace or "", self.shards) == self.shard


def shard_of(namespace: str, shards: int) -> int:
    """The shard owning ``namespace``: stable across processes, Python versions and machines."""
    digest = hashlib.sha256(namespace.encode()).digest()
    return int.from_bytes(digest[:8], "big") % shards


def load(env: Mapping[str, str], *, now: float | None = None) -> Ensemble:
    """Read ``SLORECO_PEERING``, ``SLORECO_PEERING_LIFETIME`` and ``SLORECO_SHARD``."""
    peering = env.get("SLORECO_PEERING") or None
    lifetime = _positive_int(env, "SLORECO_PEERING_LIFETIME", DEFAULT_LIFETIME)
    started = time.time() if now is None else now
    # Milliseconds and a random tail: replicas started in the same instant still differ, and the
    # number stays below 2**53 (exact wherever the peering record is read as a float).
    priority = -(int(started * 1000) * 1000 + random.randrange(1000))
    shard, shards = 0, 1
    if raw := env.get("SLORECO_SHARD"):
        index, sep, count = raw.partition("/")
        if not (sep and index.isdigit() and count.isdigit() and int(index) < int(count)):
            raise EnsembleError(
                f"SLORECO_SHARD: {raw!r} is not k/N with 0 <= k < N (e.g. 0/2 and 1/2)"
            )
        shard, shards = int(index), int(count)
    return Ensemble(peering, lifetime, priority, shard, shards)


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise EnsembleError(f"{name}: {raw!r} is not a whole number of seconds >= 1")
    return int(raw)
