"""The one scheduler that replaces per-object timers: due times, replacement, running passes."""

from __future__ import annotations

import asyncio

from hypothesis import given
from hypothesis import strategies as st

from sloreco.runtime import scheduler

A, B, C = ("ns", "a"), ("ns", "b"), ("ns", "c")


def test_pops_due_keys_earliest_first() -> None:
    queue = scheduler.Queue()
    queue.set(B, 20.0)
    queue.set(A, 10.0)
    queue.set(C, 99.0)
    assert queue.pop_due(50.0) == [A, B]


def test_setting_a_key_again_replaces_its_due_time() -> None:
    queue = scheduler.Queue()
    queue.set(A, 10.0)
    queue.set(A, 30.0)
    assert (queue.pop_due(20.0), queue.next_due(), len(queue)) == ([], 30.0, 1)


def test_forgotten_keys_are_never_popped() -> None:
    queue = scheduler.Queue()
    queue.set(A, 10.0)
    queue.forget(A)
    assert (queue.pop_due(100.0), queue.next_due()) == ([], None)


def test_popped_keys_leave_the_queue() -> None:
    queue = scheduler.Queue()
    queue.set(A, 10.0)
    queue.pop_due(10.0)
    assert queue.pop_due(10.0) == []


def test_a_key_planned_over_and_over_does_not_grow_the_heap() -> None:
    """Before: every set pushed an entry and stale ones left only when they reached the top, so
    a key re-planned on every watch event grew the heap by one entry each time."""
    queue = scheduler.Queue()
    keys = [("ns", f"sl-{i}") for i in range(1000)]
    for round_ in range(20):
        for key in keys:
            queue.set(key, 1e6 - round_)  # each plan earlier than the last: none goes stale on top
    assert len(queue) == 1000
    assert queue.heap_size() <= scheduler.COMPACT_FACTOR * 1000 + scheduler.COMPACT_SLACK


OPS = st.lists(
    st.tuples(st.sampled_from(["set", "forget", "pop"]), st.integers(0, 30), st.integers(0, 50)),
    max_size=300,
)


@given(OPS)
def test_pops_agree_with_a_plain_dict_of_due_times(ops: list[tuple[str, int, int]]) -> None:
    """Whatever the sets, forgets and compactions, a pop returns exactly the keys due by then,
    earliest first."""
    queue, model = scheduler.Queue(), {}
    for op, k, when in ops:
        key = ("ns", str(k))
        if op == "set":
            queue.set(key, float(when))
            model[key] = float(when)
        elif op == "forget":
            queue.forget(key)
            model.pop(key, None)
        else:
            popped = queue.pop_due(float(when))
            due = {key for key, at in model.items() if at <= when}
            assert set(popped) == due
            assert len(popped) == len(due)
            assert [model[key] for key in popped] == sorted(model[key] for key in popped)
            for key in popped:
                del model[key]
        assert len(queue) == len(model)


def test_a_due_pass_runs_and_its_answer_plans_the_next() -> None:
    ran: list[scheduler.Key] = []

    async def main() -> int:
        done = asyncio.Event()

        async def run_pass(key: scheduler.Key) -> float | None:
            ran.append(key)
            done.set()
            return None  # nothing more to do: the key leaves the queue

        sched = scheduler.Scheduler(run_pass, max_sleep=0.05)
        task = asyncio.create_task(sched.run_forever())
        sched.due_in(A, 0)
        await asyncio.wait_for(done.wait(), timeout=10)
        await asyncio.sleep(0)  # let the scheduler record the pass's answer
        task.cancel()
        return len(sched)

    assert (asyncio.run(main()), ran) == (0, [A])


def test_a_failing_pass_is_retried_not_fatal() -> None:
    calls: list[int] = []

    async def main() -> int:
        twice = asyncio.Event()

        async def run_pass(key: scheduler.Key) -> float | None:
            calls.append(1)
            if len(calls) == 2:
                twice.set()
                return None
            raise RuntimeError("boom")

        sched = scheduler.Scheduler(run_pass, max_sleep=0.01)
        task = asyncio.create_task(sched.run_forever())
        sched.due_in(A, 0)
        await asyncio.wait_for(twice.wait(), timeout=10)
        task.cancel()
        return len(calls)

    assert asyncio.run(main()) == 2
