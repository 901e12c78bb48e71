"""The pass gate: bounded, and fair across namespaces (issue 10 item 9)."""

from __future__ import annotations

import asyncio

import pytest

from sloreco.runtime import fairness


def admitted_order(arrivals: list[str], *, limit: int) -> list[str]:
    """The order in which waiters (by namespace, arriving in this order) get a slot."""

    async def main() -> list[str]:
        gate = fairness.FairGate(limit)
        order: list[str] = []
        release = asyncio.Event()

        async def holder() -> None:  # keeps every slot busy until all waiters queued
            async with gate.slot("holder"):
                await release.wait()

        async def waiter(namespace: str, index: int) -> None:
            async with gate.slot(namespace):
                order.append(f"{namespace}{index}")
                await asyncio.sleep(0)

        holders = [asyncio.create_task(holder()) for _ in range(limit)]
        await asyncio.sleep(0)
        waiters = [asyncio.create_task(waiter(ns, i)) for i, ns in enumerate(arrivals)]
        await asyncio.sleep(0)
        assert gate.waiting == len(arrivals)
        release.set()
        await asyncio.gather(*holders, *waiters)
        return order

    return asyncio.run(main())


def test_a_small_namespace_is_not_stuck_behind_a_big_one() -> None:
    order = admitted_order(["a"] * 50 + ["b"], limit=1)
    assert order.index("b50") == 1  # second, not 51st


def test_namespaces_take_turns_and_each_keeps_its_own_order() -> None:
    order = admitted_order(["a", "a", "a", "b", "b", "c"], limit=2)
    assert order == ["a0", "b3", "c5", "a1", "b4", "a2"]


def test_never_more_than_the_limit_at_once() -> None:
    async def main() -> int:
        gate = fairness.FairGate(3)
        inside = peak = 0

        async def one(namespace: str) -> None:
            nonlocal inside, peak
            async with gate.slot(namespace):
                inside += 1
                peak = max(peak, inside)
                await asyncio.sleep(0.001)
                inside -= 1

        await asyncio.gather(*(one(f"ns{i % 4}") for i in range(40)))
        return peak

    assert asyncio.run(main()) == 3


def test_a_cancelled_waiter_gives_up_its_place() -> None:
    async def main() -> list[str]:
        gate = fairness.FairGate(1)
        order: list[str] = []
        release = asyncio.Event()

        async def hold() -> None:
            async with gate.slot("x"):
                await release.wait()

        async def wait(name: str) -> None:
            async with gate.slot(name):
                order.append(name)

        holder = asyncio.create_task(hold())
        await asyncio.sleep(0)
        doomed = asyncio.create_task(wait("doomed"))
        kept = asyncio.create_task(wait("kept"))
        await asyncio.sleep(0)
        doomed.cancel()
        release.set()
        await asyncio.gather(holder, kept)
        with pytest.raises(asyncio.CancelledError):
            await doomed
        return order

    assert asyncio.run(main()) == ["kept"]


def test_a_gate_needs_a_slot() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        fairness.FairGate(0)
