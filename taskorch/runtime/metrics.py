"""Measurements of a running fleet: latency samples and the event loop's lag."""

from __future__ import annotations

import asyncio
import contextlib
import time
from array import array
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Percentiles:
    """A summary of samples in seconds: count, median, 99th percentile and maximum."""

    count: int
    p50: float
    p99: float
    max: float

    def as_dict(self, scale: float = 1e3) -> dict[str, float]:
        """The summary scaled (default: to milliseconds), for reports."""
        return {
            "count": self.count,
            "p50": self.p50 * scale,
            "p99": self.p99 * scale,
            "max": self.max * scale,
        }


class Samples:
    """Latency samples in seconds, kept compactly (8 bytes each) up to ``capacity``.

    Past capacity every other sample is dropped and only every second new one is kept, so memory
    stays bounded on long runs while the distribution stays representative.
    """

    __slots__ = ("_every", "_seen", "capacity", "data")

    def __init__(self, capacity: int = 1 << 20) -> None:
        self.capacity = capacity
        self.data = array("d")
        self._every = 1
        self._seen = 0

    def add(self, seconds: float) -> None:
        self._seen += 1
        if self._seen % self._every:
            return
        self.data.append(seconds)
        if len(self.data) >= self.capacity:
            self.data = self.data[::2]
            self._every *= 2

    def summary(self) -> Percentiles:
        """Median, 99th percentile and maximum of the samples kept (zeros when empty)."""
        if not self.data:
            return Percentiles(0, 0.0, 0.0, 0.0)
        ordered = sorted(self.data)
        n = len(ordered)
        return Percentiles(
            self._seen, ordered[n // 2], ordered[min(n - 1, int(n * 0.99))], ordered[-1]
        )


class LoopLagMonitor:
    """Measures how late the event loop wakes a sleeping task: the lag every coroutine feels.

    Every ``interval`` seconds it sleeps and records (actual wake-up - planned wake-up). A loop
    blocked by synchronous work shows it directly as lag.
    """

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.samples = Samples()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start measuring on the running loop."""
        self._task = asyncio.create_task(self._run(), name="taskorch-loop-lag")

    async def stop(self) -> Percentiles:
        """Stop measuring; the lag summary."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        return self.samples.summary()

    async def _run(self) -> None:
        clock = time.perf_counter
        while True:
            planned = clock() + self.interval
            await asyncio.sleep(self.interval)
            self.samples.add(max(0.0, clock() - planned))
