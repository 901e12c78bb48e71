"""The demo's second act: a fleet prior, learned from the demo's services and their fleet, at work.

A fresh operator computes every recommendation under the documented default prior, which leaves
room for outages a clean history cannot rule out (README, "Calibration"): far below what a
reliable service delivers. Once it has seen ``controller.fleet.MIN_SERVICES`` availability SLIs
of a source, it learns their fleet prior (empirical Bayes, ``core.fleetpool``), keeps it in the
ConfigMap ``sloreco-fleet-prior``, and recomputes each recommendation that was computed without
it at its next pass (``controller.plan.refresh_due``). The demo's five samples are too few a
fleet (a small fleet's prior breaks promises: ``controller.fleet.MIN_SERVICES``), so the demo
also runs ``SERVICES``, availability ServiceLevels of more synthetic services in a namespace of
their own, which the samples' table leaves out. The samples' three latency SLIs stay under the
default, which their recommendations say.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sloreco import api
from sloreco.controller import children
from sloreco.controller import fleet as fleets
from sloreco.core import prior as priors
from sloreco.sources import synth
from sloreco.testing import waiting

#: Where the fleet's ServiceLevels live, apart from the samples'.
NAMESPACE = "demo-fleet"
#: The samples' availability SLIs (``deploy/samples/``, the services ``demo.SERVICES`` names).
SAMPLE_AVAILABILITY_SLIS = 5
#: The fleet beside the samples: with them, exactly the ``MIN_SERVICES`` availability SLIs a
#: fleet prior needs, of the profiles the samples have (steady, with incidents, noisy, quiet).
SERVICES = tuple(
    synth.Service(f"fleet-{i:02d}", ("steady", "incidents", "high-variance", "low-traffic")[i % 4])
    for i in range(fleets.MIN_SERVICES - SAMPLE_AVAILABILITY_SLIS)
)

#: Seconds between the demo operator's relearnings of its fleet priors
#: (``SLORECO_FLEET_LEARN_INTERVAL``; production relearns every ten minutes,
#: ``settings.DEFAULT_FLEET_LEARN_INTERVAL``): the demo shows the first one within a minute.
LEARN_INTERVAL_S = 10
#: How long to wait for every availability recommendation under the fleet prior.
TIMEOUT_S = 180.0

Kubectl = Callable[..., str]


def manifests() -> list[dict[str, Any]]:
    """The fleet's ServiceLevels: availability, 90 days of lookback, as the samples read."""
    return [
        {
            "apiVersion": api.API_VERSION,
            "kind": "ServiceLevel",
            "metadata": {"name": service.name, "namespace": NAMESPACE},
            "spec": {
                "service": service.name,
                "availability": {
                    "totalQuery": f'http_requests_total{{service="{service.name}"}}',
                    "errorQuery": f'http_requests_total{{service="{service.name}",code=~"5.."}}',
                },
                "lookback": "90d",
            },
        }
        for service in SERVICES
    ]


def wait_learned(
    kubectl: Kubectl, namespace: str, operator: subprocess.Popen[bytes]
) -> list[dict[str, Any]]:
    """Every Active availability recommendation computed under a fleet prior; all children."""

    def learned() -> list[dict[str, Any]] | None:
        if operator.poll() is not None:
            raise TimeoutError("the operator exited before it learned a fleet prior")
        kids: list[dict[str, Any]] = json.loads(
            kubectl("get", "sloreco", "-n", namespace, "-o", "json")
        )["items"]
        active = [k for k in _availability(kids) if children.state(k) == children.ACTIVE]
        done = bool(active) and all(_origin(k) != priors.DEFAULT.origin for k in active)
        return kids if done else None

    return waiting.wait_until(
        learned, timeout=TIMEOUT_S, every=1, what="availability recommendations under a fleet prior"
    )


def comparison(kids: Sequence[Mapping[str, Any]], namespace: str) -> str:
    """Each service's availability tiers under the default prior and under its fleet's: the
    newest recommendation computed under each."""
    newest: dict[tuple[str, str], Mapping[str, Any]] = {}
    for kid in children.newest_first(_availability(kids)):
        under_default = _origin(kid) == priors.DEFAULT.origin
        key = (str(kid["spec"]["service"]), "default" if under_default else "fleet")
        newest.setdefault(key, kid)
    lines = [
        "\nThe operator learned a fleet prior from these services' availability histories and\n"
        f"{len(SERVICES)} more (kubectl get sloreco -n {NAMESPACE}; the prior: kubectl get "
        f"configmap\n{fleets.CONFIGMAP} -n {namespace}) and recomputed each availability "
        "recommendation under it\n(conservative / balanced / aggressive):",
        f"{'SERVICE':<18}{'DEFAULT PRIOR':<32}FLEET PRIOR",
    ]
    for service in sorted({service for service, _ in newest}):
        default, fleet = newest.get((service, "default")), newest.get((service, "fleet"))
        lines.append(f"{service:<18}{_tiers(default):<32}{_tiers(fleet)}")
    return "\n".join(lines) + "\n"


def _availability(kids: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [k for k in kids if children.sli_of(k) == "availability"]


def _origin(kid: Mapping[str, Any]) -> str:
    used = children.computed_under_prior(kid)
    return used.origin if used is not None else priors.DEFAULT.origin


def _tiers(kid: Mapping[str, Any] | None) -> str:
    if kid is None:
        return "-"
    return " / ".join(f"{tier['target']}%" for tier in kid["spec"]["tiers"])
