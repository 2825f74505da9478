"""The event bus: bounded queues, filtering, async reads, statistics."""

from __future__ import annotations

import ast
import asyncio
import inspect

import pytest

import taskorch.engine
import taskorch.events
from taskorch import Event, EventBus


def event(i: int, kind: str = "claimed") -> Event:
    return Event(kind, i, None, "a", float(i))


def test_publish_with_no_subscribers_counts_only() -> None:
    bus = EventBus()
    bus.publish(event(1))
    stats = bus.statistics()
    assert (stats.published, stats.delivered, stats.dropped, stats.subscribers) == (1, 0, 0, 0)


def test_slow_subscriber_loses_oldest_and_never_blocks() -> None:
    bus = EventBus()
    slow = bus.subscribe(maxsize=3)
    fast = bus.subscribe(maxsize=100)
    for i in range(10):
        bus.publish(event(i))
    assert [e.task_id for e in slow.drain()] == [7, 8, 9]
    assert slow.dropped == 7
    assert len(fast.drain()) == 10
    stats = bus.statistics()
    assert (stats.published, stats.delivered, stats.dropped) == (10, 20, 7)


def test_kind_filter_and_unsubscribe() -> None:
    bus = EventBus()
    with bus.subscribe(kinds={"completed"}) as sub:
        bus.publish(event(1, "claimed"))
        bus.publish(event(2, "completed"))
        assert sub.poll() == event(2, "completed")
        assert sub.poll() is None
    assert not bus.active
    with pytest.raises(ValueError):
        bus.subscribe(maxsize=0)


def test_an_empty_kinds_set_subscribes_to_nothing() -> None:
    bus = EventBus()
    with bus.subscribe(kinds=set()) as sub:
        bus.publish(event(1, "claimed"))
        assert sub.poll() is None


def test_kinds_are_those_the_engine_publishes() -> None:
    tree = ast.parse(inspect.getsource(taskorch.engine))
    published = {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("_publish", "_finished")
        and isinstance(node.args[0], ast.Constant)
    }
    assert published == taskorch.events.KINDS


def test_async_get_wakes_on_publish() -> None:
    async def main() -> list[int]:
        bus = EventBus()
        sub = bus.subscribe()
        got: list[int] = []

        async def reader() -> None:
            async for e in sub:
                got.append(e.task_id)
                if len(got) == 3:
                    return

        task = asyncio.create_task(reader())
        for i in range(3):
            await asyncio.sleep(0)
            bus.publish(event(i))
        await asyncio.wait_for(task, 5)
        return got

    assert asyncio.run(main()) == [0, 1, 2]
