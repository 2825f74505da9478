"""One round of a connection pool exhausted and recovered, for the pool workloads of
:mod:`perfkit.workloads.pg_workloads` (taskorch's pool and a bare ``psycopg_pool`` alike).

The round: every connection is held by a thread of its own; one more caller must time out; as many
callers again queue for a connection while the holders finish; then as many callers are served at
once. Each task is completed exactly once, or the round raises :class:`AssertionError`. A holder
that times out taking its connection (the pool opens its connections on demand, and on a loaded
machine opening one can take longer than the short pool timeout), a queued or a later caller that
meets a pool timeout tries again, and the round counts it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

__all__ = ["PoolRound", "Retrying", "pool_round"]


@dataclass(frozen=True, slots=True)
class PoolRound:
    """One round of the pool workloads: ``completed`` tasks (each once), the deliberate
    ``timeouts`` (always 1), and the timeouts callers met and retried while waiting
    (``waiting_retries``) and once the pool was free again (``recovery_retries``), and those
    the holders met taking their connections (``holding_retries``)."""

    completed: int
    timeouts: int
    waiting_retries: int
    recovery_retries: int
    holding_retries: int = 0


class Retrying:
    """Runs calls again after a pool timeout, counting how often that happened."""

    def __init__(self, timeout: type[BaseException]) -> None:
        self.timeout, self.count, self._lock = timeout, 0, threading.Lock()

    def __call__(self, fn: Callable[[], int]) -> int:
        while True:
            try:
                return fn()
            except self.timeout:
                with self._lock:
                    self.count += 1


def pool_round(
    size: int,
    hold: Callable[[threading.Barrier, threading.Event], int],
    exhausted: Callable[[], object],
    timeout: type[BaseException],
    cycle: Callable[[], int],
    threads: ThreadPoolExecutor,
    wait: float = 60.0,
) -> PoolRound:
    """``size`` holders take every connection; one more caller times out; ``size`` callers
    queue for a connection while the holders finish; then ``size`` callers are served at once.
    The holders have ``wait`` seconds to take their connections."""
    held, release = threading.Barrier(size + 1), threading.Event()
    holding = Retrying(timeout)
    holders = [threads.submit(holding, partial(hold, held, release)) for _ in range(size)]
    try:
        held.wait(timeout=wait)
    except threading.BrokenBarrierError:
        release.set()
        for f in holders:  # a holder's own failure says more than the broken barrier
            if f.done() and f.exception() is not None:
                raise AssertionError("a holder failed before holding its connection") from (
                    f.exception()
                )
        raise
    try:
        exhausted()
    except timeout:
        timeouts = 1
    else:
        raise AssertionError("a caller found a free connection in an exhausted pool")
    waiting, recovery = Retrying(timeout), Retrying(timeout)
    queued = [threads.submit(waiting, cycle) for _ in range(size)]
    release.set()
    done = [f.result() for f in (*holders, *queued)]
    done += [f.result() for f in [threads.submit(recovery, cycle) for _ in range(size)]]
    if len(set(done)) != 3 * size:
        raise AssertionError(f"pool round: {3 * size} tasks expected once each, got {done}")
    return PoolRound(len(done), timeouts, waiting.count, recovery.count, holding.count)
