"""What a change kopf reports does to the runtime: a pass at once, forced, never run inline.

The pass itself is replaced by a recorder (the real one is exercised against the apiserver in
tests/integration); what is tested is the bookkeeping between kopf's events and the scheduler.
"""

from __future__ import annotations

import asyncio
from typing import cast

from sloreco import settings as config
from sloreco.controller import context
from sloreco.kube import client as kube
from sloreco.runtime import passes, scheduler

KEY: scheduler.Key = ("team", "web")


def recorded_passes(*steps: str) -> list[bool]:
    """Run the runtime's scheduler while ``steps`` happen ("change": kopf reports one; "timer":
    the pass is merely due); return whether each pass that ran was forced."""
    forced: list[bool] = []

    async def main() -> None:
        ctx = context.Context(
            kube=cast("kube.KubeClient", object()), sources={}, settings=config.Settings(sources={})
        )
        runtime = passes.Runtime(ctx, clock=lambda: 1000.0)

        async def run(key: scheduler.Key, *, forced_pass: bool) -> float | None:
            assert key == KEY
            forced.append(forced_pass)
            return 3600.0  # not due again within the test

        runtime.run = lambda key, *, forced: run(key, forced_pass=forced)  # type: ignore[method-assign]
        task = asyncio.create_task(runtime.scheduler.run_forever())
        for step in steps:
            before = len(forced)
            if step == "change":
                runtime.changed(KEY)
            else:
                runtime.scheduler.due_in(KEY, 0)
            for _ in range(100):
                if len(forced) > before:
                    break
                await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(main())
    return forced


def test_a_change_runs_a_forced_pass_at_once() -> None:
    assert recorded_passes("change") == [True]


def test_a_pass_that_is_only_due_is_not_forced() -> None:
    assert recorded_passes("change", "timer") == [True, False]
