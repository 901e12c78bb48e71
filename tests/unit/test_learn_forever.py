"""runtime.handlers.learn_forever: a pool's first prior wakes the ServiceLevels that feed it."""

from __future__ import annotations

import asyncio
import math
from typing import Any, cast

from sloreco import settings
from sloreco.controller import context
from sloreco.controller import fleet as fleets
from sloreco.core import prior as priors
from sloreco.runtime import handlers

LEARN_SECONDS = 0.01


def learned_wakes(relearnings: int) -> list[tuple[str, str]]:
    """The keys woken by ``learn_forever``'s first prior and about ``relearnings`` relearnings
    after it."""
    conf = settings.Settings(sources={}, metrics_port=0, fleet_learn_seconds=LEARN_SECONDS)
    ctx = context.Context(kube=cast(Any, None), sources={}, settings=conf)  # no namespace: no I/O
    size = math.log(40.0)
    seen = priors.ServiceStats(1, 90.0, size, size**2)
    for i in range(fleets.MIN_SERVICES):
        ctx.fleet.observe("default", f"ns/svc-{i}", "availability", (("availability", seen),))
    woken: list[tuple[str, str]] = []

    async def main() -> None:
        task = asyncio.create_task(handlers.learn_forever(ctx, None, woken.append))
        for _ in range(1000):  # the first learning, however slow the machine (10 s at most)
            if woken:
                break
            await asyncio.sleep(LEARN_SECONDS)
        await asyncio.sleep(LEARN_SECONDS * relearnings)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(main())
    return woken


def test_the_first_prior_wakes_each_service_level_that_feeds_it_once() -> None:
    # relearned several times: the same origin wakes nobody again
    expected = sorted(("ns", f"svc-{i}") for i in range(fleets.MIN_SERVICES))  # sorted by name
    assert learned_wakes(5) == expected
