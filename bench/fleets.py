"""The fleet prior in calibration: each history's prior pooled from the others, as the
operator pools a source's services, and the mixed fleet of different processes (``run_fleet``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

# ``judge.engine_result`` is called through its module, so that a test can stand in for it.
from bench import judge, profiles
from bench.judge import Engine, PriorFor, Tally, histories, summarize, truth
from bench.processes import FloatArray, Profile
from sloreco.core import fleetpool, results
from sloreco.core import prior as priors


def run_fleet(
    run: Engine,
    *,
    members: int,
    windows: int,
    seed: int,
    prior_for: PriorFor | None = None,
    changes: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """A mixed fleet: every member its own process, one history each, its own future windows.

    The fleet's row, then one per kind of member (``partOf`` the fleet's, left out of the
    mean of profiles): Pareto durations or lognormal ones. A fleet prior is calibrated across
    its fleet, and the fleet's mean can keep a promise that one kind of member breaks
    (measured: the Pareto members breach the balanced tier about 2x, the lognormal ones 0.3x).
    With a prior (``prior_for``), the kinds again, each member's prior learned from its own
    kind's members only: what a team gets by naming a fleet per kind of service.
    """
    began = time.process_time()
    rng = np.random.default_rng([seed, 3])
    fleet = [profiles.fleet_member(rng, i).with_(**(changes or {})) for i in range(members)]
    pasts = [histories(p, count=1, seed=seed + i)[0] for i, p in enumerate(fleet)]
    kind_of = ["Pareto" if p.pareto_alpha > 0 else "lognormal" for p in fleet]
    futures = [truth(p, windows=windows, seed=seed + i) for i, p in enumerate(fleet)]
    kinds = {"Pareto": Tally.empty(), "lognormal": Tally.empty()}
    tally = Tally.empty()
    for i, profile in enumerate(fleet):
        prior = prior_for(profile, pasts, i) if prior_for is not None else None
        tiers = run(profile, *pasts[i], i, prior)
        tally.add(tiers, futures[i])
        kinds[kind_of[i]].add(tiers, futures[i])
    row = {
        "profile": "mixed-fleet",
        "description": f"{members} services, each its own process (rates 1/365-1/3 per day, "
        "backgrounds 0.005-0.3%, some Pareto durations)",
        "kind": "availability",
        "historyDays": fleet[0].history_days if fleet else 90,
        "histories": members,
        "futureWindows": windows,
        "tiers": summarize(tally, windows=windows),
        "cpuSeconds": round(time.process_time() - began, 1),
    }
    rows = [row, *_parts(row, kinds, "mixed-fleet", windows)]
    if prior_for is None:
        return rows
    # The same members, each kind its own fleet (``spec.fleet``: the operator pools the
    # ServiceLevels that name one fleet apart from the rest of their source).
    apart = {"Pareto": Tally.empty(), "lognormal": Tally.empty()}
    for name, part in apart.items():
        ids = [i for i in range(members) if kind_of[i] == name]
        peers = [pasts[i] for i in ids]  # one list per kind: ``fleet_prior`` keys on it
        for k, i in enumerate(ids):
            tiers = run(fleet[i], *pasts[i], i, prior_for(fleet[i], peers, k))
            part.add(tiers, futures[i])
    return [*rows, *_parts(row, apart, "mixed-fleet, a fleet per kind", windows)]


def _parts(
    whole: dict[str, Any], kinds: dict[str, Tally], label: str, windows: int
) -> list[dict[str, Any]]:
    """One row per kind of member (``partOf`` the fleet's, left out of the mean)."""
    return [
        {
            **whole,
            "profile": f"{label}: {name} members",
            "description": f"the mixed fleet's members with {name} durations",
            "histories": len(part.breaches["balanced"]),
            "tiers": summarize(part, windows=windows),
            "partOf": "mixed-fleet",
        }
        for name, part in kinds.items()
        if len(part.breaches["balanced"]) > 1  # an interval needs two histories' spread
    ]


def fleet_prior(
    profile: Profile, pasts: list[tuple[FloatArray, FloatArray]], i: int, *, size: int = 0
) -> object:
    """The prior a fleet of the other histories would have learned, as the operator learns it.

    ``size``: the fleet's services, history ``i`` among them (``--fleet-size``): the histories
    are taken in consecutive groups of ``size`` and each is pooled from the others of its group,
    as a team with a handful of services gets; 0, from every other history.

    Each history's incidents as the engine reports them to its fleet (``SliResult.incidents``:
    for latency, counted over every bound), pooled (``fleetpool.pool``) at the scope history ``i``
    is judged at. Latency histories counted at history ``i``'s bound, every one of them, not
    only those judged at it: a quiet history's p99 sits under 0.5 s and one slowdown lifts it
    to 2.5 s, so the histories that pick a bound are a biased sample of it (measured, fleet
    prior, histories judged at the same bound only: latency-rare-large breached balanced 5.5x
    the promise, latency-pareto 6.3x; pooled from all, 0.66x and 1.36x). Fewer than
    ``MIN_FLEET_SERVICES`` such histories keep the default prior, as the operator does.
    """
    if not _SEEN or _SEEN[0][0] is not pasts:  # held, so no other list can take its place
        _SEEN[:] = [
            (
                pasts,
                [
                    judge.engine_result(profile, t, b, s, None, observe=True)
                    for s, (t, b) in enumerate(pasts)
                ],
            )
        ]
    seen = _SEEN[0][1]
    if size:
        first = i // size * size
        return pooled(seen[first : first + size], i - first, origin="fleet:calibration")
    return pooled(seen, i, origin="fleet:calibration")


def pooled(seen: Sequence[results.SliResult], i: int, *, origin: str) -> priors.Prior | None:
    """History ``i``'s prior: the other histories' statistics at its scope, pooled as the
    operator pools a source's (None, the default, with fewer than ``MIN_FLEET_SERVICES``)."""
    scope = seen[i].scope
    fleet = [
        dict(r.incidents)[scope]
        for j, r in enumerate(seen)
        if j != i and scope in dict(r.incidents)
    ]
    if len(fleet) < MIN_FLEET_SERVICES:
        return None
    return fleetpool.pool(fleet, origin=origin, scope=scope)


#: A fleet prior needs this many services (``sloreco.controller.fleet.MIN_SERVICES``).
MIN_FLEET_SERVICES = 20


def incident_stats(
    profile: Profile, total: FloatArray, bad: FloatArray, seed: int
) -> priors.ServiceStats:
    """One history's incident statistics at the scope the engine judges it at."""
    result = judge.engine_result(profile, total, bad, seed, None, observe=True)
    return dict(result.incidents)[result.scope]


#: The histories ``fleet_prior`` last saw, and the engine's results on them. Keyed by the list
#: itself, not its ``id``: once freed, another profile's histories can take the same address.
_SEEN: list[tuple[list[tuple[FloatArray, FloatArray]], list[results.SliResult]]] = []
