"""How many agents are working at the same moment, measured from inside their handler.

A :class:`WorkGauge` counts the agents inside the handler it wraps: +1 on entry, -1 on exit.
The Fleet calls a handler only with a subtask it has just claimed and holds (its supervisor
renews the lease), so an agent counted here holds a live claim and is doing its work.

The count is kept **time-weighted on each change**, not sampled by a periodic task: at every
entry and exit the time spent at the previous level is added to that level's total. That is
exact (a sampler misses every peak shorter than its period, and the median of its samples
depends on where they fell), and cheap: one clock read and one dict update per change, with no
task of its own competing with the agents for the event loop. From the totals come the peak
(the most agents inside at once), the median (the most agents that were all working together
for more than half of the time: "sustained") and the mean.

The clock runs from :meth:`WorkGauge.start` to the end of the measured duration: the ramp-up is
in it, the wind-down after the deadline (the last handlers finishing) is not.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from taskorch import Task
from taskorch.agents import Handler

__all__ = ["Concurrency", "WorkGauge"]


@dataclass(frozen=True, slots=True)
class Concurrency:
    """Agents working at once over ``seconds``: the peak, the time-weighted median and mean."""

    peak: int
    median: int
    mean: float
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "working_peak": self.peak,
            "working_median": self.median,
            "working_mean": round(self.mean, 1),
            "working_seconds": round(self.seconds, 3),
        }


class WorkGauge:
    """Counts the agents inside a handler, weighted by the time spent at each count."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self._clock = clock
        self._level = 0
        self._peak = 0
        self._time: defaultdict[int, float] = defaultdict(float)
        self._last: float | None = None  # None: not started, nothing is weighted yet
        self._end = math.inf

    def start(self, duration: float | None = None) -> None:
        """Start weighting now, for ``duration`` seconds (None: until :meth:`summary`)."""
        now = self._clock()
        self._last = now
        self._end = math.inf if duration is None else now + duration
        self._peak = self._level

    @contextmanager
    def working(self) -> Iterator[None]:
        """Count the caller as working for the length of the ``with`` block."""
        self._move(1)
        try:
            yield
        finally:
            self._move(-1)

    def wrap(self, handler: Handler) -> Handler:
        """``handler``, with every call counted as one agent working."""

        async def counted(task: Task, context: dict[str, Any]) -> Any:
            with self.working():
                return await handler(task, context)

        return counted

    def summary(self) -> Concurrency:
        """The figures so far (up to the end of the duration given to :meth:`start`)."""
        if self._last is None:
            raise RuntimeError("the gauge was never started")
        self._advance(self._clock())
        total = sum(self._time.values())
        if total <= 0:
            return Concurrency(self._peak, self._level, float(self._level), 0.0)
        mean = sum(level * seconds for level, seconds in self._time.items()) / total
        return Concurrency(self._peak, _median(self._time, total), mean, total)

    def _move(self, step: int) -> None:
        now = self._clock()
        self._advance(now)
        self._level += step
        if self._last is not None and now < self._end:
            self._peak = max(self._peak, self._level)

    def _advance(self, now: float) -> None:
        if self._last is None:
            return
        upto = min(now, self._end)
        if upto > self._last:
            self._time[self._level] += upto - self._last
            self._last = upto


def _median(weights: dict[int, float], total: float) -> int:
    """The highest level that the count was at or above for more than half of ``total``."""
    above = 0.0
    for level in sorted(weights, reverse=True):
        above += weights[level]
        if above > total / 2:
            return level
    return 0
