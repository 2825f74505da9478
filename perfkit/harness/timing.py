"""Calls of a step timed one by one, and the summary of their times.

Every call is timed on its own (``perf_counter_ns``), after warm-up calls that fill the caches,
so a summary can say what one call takes and how the calls spread. The summaries use
:mod:`statistics`.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

__all__ = ["Summary", "atime_calls", "summarize", "time_calls", "time_round_robin"]

Step = Callable[[], object]


@dataclass(frozen=True, slots=True)
class Summary:
    """Times of ``count`` calls, in seconds."""

    count: int
    mean: float
    median: float
    p95: float
    min: float
    max: float

    def as_ms(self) -> dict[str, float]:
        """The summary in milliseconds, with the calls per second the mean gives."""
        return {
            "mean_ms": self.mean * 1e3,
            "median_ms": self.median * 1e3,
            "p95_ms": self.p95 * 1e3,
            "min_ms": self.min * 1e3,
            "max_ms": self.max * 1e3,
            "ops_per_second": 1 / self.mean if self.mean else 0.0,
        }


def summarize(seconds: Sequence[float]) -> Summary:
    """Mean, median, 95th percentile (interpolated between the samples), minimum and maximum."""
    if not seconds:
        raise ValueError("no times to summarize")
    ordered = sorted(seconds)
    p95 = (
        statistics.quantiles(ordered, n=20, method="inclusive")[18]
        if len(ordered) > 1
        else ordered[0]
    )
    return Summary(
        len(ordered),
        statistics.fmean(ordered),
        statistics.median(ordered),
        p95,
        ordered[0],
        ordered[-1],
    )


def _check(calls: int, warmup: int) -> None:
    if calls < 1:
        raise ValueError(f"calls must be at least 1, got {calls}")
    if warmup < 0:
        raise ValueError(f"warmup must not be negative, got {warmup}")


def time_round_robin(
    steps: Mapping[str, Step],
    calls: int,
    *,
    warmup: int = 10,
    clock: Callable[[], int] = time.perf_counter_ns,
) -> dict[str, list[float]]:
    """Time ``calls`` calls in all, taking the steps in turn, so that a machine that slows down
    for a while slows every step alike; each step first runs ``warmup`` times untimed.
    Returns each step's times in seconds, under its name. ``clock`` counts nanoseconds: wall
    clock by default, ``time.process_time_ns`` for CPU time."""
    _check(calls, warmup)
    if not steps:
        raise ValueError("no steps to time")
    for step in steps.values():
        for _ in range(warmup):
            step()
    order = list(steps.items())
    times: dict[str, list[float]] = {name: [] for name in steps}
    for i in range(calls):
        name, step = order[i % len(order)]
        start = clock()
        step()
        times[name].append((clock() - start) / 1e9)
    return times


def time_calls(step: Step, calls: int, *, warmup: int = 10) -> list[float]:
    """Seconds each of ``calls`` calls of ``step`` took, after ``warmup`` untimed calls."""
    return time_round_robin({"step": step}, calls, warmup=warmup)["step"]


async def atime_calls(
    step: Callable[[], Awaitable[object]], calls: int, *, warmup: int = 10
) -> list[float]:
    """:func:`time_calls` for a coroutine function: each awaited call timed on its own."""
    _check(calls, warmup)
    for _ in range(warmup):
        await step()
    times = []
    clock = time.perf_counter_ns
    for _ in range(calls):
        start = clock()
        await step()
        times.append((clock() - start) / 1e9)
    return times
