"""An in-process event bus: every state change is published; subscribers read bounded queues.

Publishing never blocks: a subscriber whose queue is full loses its oldest event (counted in
``dropped``), so a slow subscriber cannot stall the engine. Subscriptions can be read with
``poll()``/``drain()`` from any thread or awaited with ``await sub.get()`` / ``async for``.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import checks
from .errors import InvalidArgumentError

if TYPE_CHECKING:  # asyncio costs ~25 ms to import; only async readers need it
    import asyncio

#: What :class:`Event.kind` may be.
KINDS = frozenset(
    {"planned", "claimed", "completed", "failed", "released", "cancelled", "plan_finished"}
)
#: The largest queue a subscription may ask for (each slot may hold an event).
MAX_QUEUE = 10_000_000


def _kinds(kinds: object) -> set[str]:
    """A subscription's kinds: a collection of known kinds (a string is not one: its letters
    would be taken for kinds)."""
    if not isinstance(kinds, (set, frozenset, list, tuple)) or not all(
        isinstance(k, str) for k in kinds
    ):
        raise InvalidArgumentError("kinds", f"must be a set of event kinds, got {kinds!r:.60}")
    unknown = set(kinds) - KINDS
    if unknown:
        raise InvalidArgumentError(
            "kinds", f"unknown event kind(s) {sorted(unknown)}; known: {sorted(KINDS)}"
        )
    return set(kinds)


@dataclass(frozen=True, slots=True)
class Event:
    """A state change: ``kind`` is ``planned``, ``claimed``, ``completed``, ``failed``,
    ``released``, ``cancelled`` or ``plan_finished``."""

    kind: str
    task_id: int
    parent_id: int | None
    agent: str | None
    at: float


@dataclass(frozen=True, slots=True)
class BusStatistics:
    published: int
    delivered: int
    dropped: int
    subscribers: int


class Subscription:
    """A bounded queue of events for one subscriber. Close it (or use ``with``) to unsubscribe."""

    def __init__(self, bus: EventBus, maxsize: int, kinds: frozenset[str] | None) -> None:
        self._bus = bus
        self._queue: deque[Event] = deque(maxlen=maxsize)
        self.kinds = kinds
        self.dropped = 0
        self._waiter: asyncio.Future[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _offer(self, event: Event) -> bool:
        dropped = len(self._queue) == self._queue.maxlen
        if dropped:
            self.dropped += 1
        self._queue.append(event)
        waiter = self._waiter
        if waiter is not None and self._loop is not None:
            self._waiter = None
            self._loop.call_soon_threadsafe(_wake, waiter)
        return dropped

    def poll(self) -> Event | None:
        """The oldest queued event, or None when the queue is empty (it never raises, unlike
        ``asyncio.Queue.get_nowait``)."""
        return self._queue.popleft() if self._queue else None

    def drain(self) -> list[Event]:
        """All queued events, oldest first; the queue is left empty."""
        events = list(self._queue)
        self._queue.clear()
        return events

    async def get(self) -> Event:
        """Wait for the next event."""
        import asyncio

        while not self._queue:
            self._loop = asyncio.get_running_loop()
            self._waiter = self._loop.create_future()
            await self._waiter
        return self._queue.popleft()

    async def __aiter__(self) -> AsyncIterator[Event]:
        while True:
            yield await self.get()

    def __len__(self) -> int:
        return len(self._queue)

    def close(self) -> None:
        self._bus._unsubscribe(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class EventBus:
    """Fan-out of events to subscribers. Thread-safe; publishing is O(subscribers)."""

    def __init__(self) -> None:
        self._subscribers: tuple[Subscription, ...] = ()
        self._lock = threading.Lock()
        self._published = 0
        self._delivered = 0
        self._dropped = 0

    @property
    def active(self) -> bool:
        """Whether anyone listens; the engine skips building events when nobody does."""
        return bool(self._subscribers)

    def subscribe(self, maxsize: int = 1000, kinds: set[str] | None = None) -> Subscription:
        """A new subscription holding at most ``maxsize`` events, optionally of some kinds only."""
        maxsize = checks.count(maxsize, "maxsize", low=1, high=MAX_QUEUE)
        if kinds is not None:
            kinds = _kinds(kinds)
        # An empty set subscribes to no kind; only None means every kind.
        sub = Subscription(self, maxsize, None if kinds is None else frozenset(kinds))
        with self._lock:
            self._subscribers = (*self._subscribers, sub)
        return sub

    def _unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            self._subscribers = tuple(s for s in self._subscribers if s is not sub)

    def publish(self, event: Event) -> None:
        """Deliver ``event`` to every subscriber that wants its kind, without blocking."""
        self._published += 1
        for sub in self._subscribers:
            if sub.kinds is None or event.kind in sub.kinds:
                self._delivered += 1
                if sub._offer(event):
                    self._dropped += 1

    def statistics(self) -> BusStatistics:
        return BusStatistics(
            self._published, self._delivered, self._dropped, len(self._subscribers)
        )
