"""Deterministic counters: SQL statements and memory allocations per operation.

They do not depend on the machine's speed or load, so any change is a real change in what the
engine does: the noise-free regression signal that timings on a shared machine cannot give.
"""

from __future__ import annotations

import gc
import sqlite3
import statistics
import sys
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from ._support import scratch_dir, workloads

# operation -> (workload, its params); what the engine must have is the workload's declaration
OPERATIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "plan_1": ("plan", {"n": 1}),
    "plan_10": ("plan", {"n": 10}),
    "claim": ("claim", {"pool": 1000}),
    "complete": ("complete", {}),
    "context_uncached": ("context", {"cached": False}),
    "get": ("get", {"n": 1000}),
    "status": ("status", {"n": 1000}),
}
WARMUP = 5  # first calls fill caches (statements, contexts) that later calls reuse
CALLS = 50
# Blocks retained are counted over a window of 1,000 calls after 1,000 more of warm-up: shorter
# windows show the one-off filling of caches, and 1,000 is the refill period of the workloads
# that keep a pool of work, so a window always holds exactly one refill.
RETAIN_WINDOW = 1000


class StatementCounter:
    """A ``set_trace_callback`` target: counts the statements SQLite runs."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, statement: str) -> None:
        self.count += 1


@contextmanager
def tracing_connections(counter: StatementCounter) -> Iterator[None]:
    """Trace every sqlite3 connection opened inside: the engine keeps its connection private,
    so the counter is attached where connections are made."""
    real = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn: sqlite3.Connection = real(*args, **kwargs)
        conn.set_trace_callback(counter)
        return conn

    sqlite3.connect = connect  # type: ignore[assignment]
    try:
        yield
    finally:
        sqlite3.connect = real


class OperationCounter:
    """Opens the operation's workload fresh (not the shared session: counters need it from the
    start) and warms it up."""

    param_names = ["operation"]
    params = [list(OPERATIONS)]
    stack: ExitStack

    def open(self, operation: str, stack: ExitStack) -> Callable[[], object]:
        name, params = OPERATIONS[operation]
        session = workloads().WORKLOADS[name].session(scratch_dir(), **params)
        step: Callable[[], object] = stack.enter_context(session)
        for _ in range(WARMUP):
            step()
        return step

    def teardown(self, operation: str) -> None:
        self.stack.close()


class SQLStatements(OperationCounter):
    """SQL statements per operation (BEGIN and COMMIT included)."""

    unit = "statements"
    version = "1"

    def setup(self, operation: str) -> None:
        self.stack = ExitStack()
        self.counter = StatementCounter()
        self.stack.enter_context(tracing_connections(self.counter))
        self.step = self.open(operation, self.stack)

    def track_statements(self, operation: str) -> float:
        self.counter.count = 0
        for _ in range(CALLS):
            self.step()
        return self.counter.count / CALLS


class Allocations(OperationCounter):
    """Memory per operation: the peak of Python allocations made during one call (tracemalloc,
    median of 50 calls), and the memory blocks it leaves allocated per call in steady state (a leak
    shows here first)."""

    version = "2"

    def setup(self, operation: str) -> None:
        self.stack = ExitStack()
        self.step = self.open(operation, self.stack)

    def track_peak_bytes(self, operation: str) -> float:
        peaks = []
        tracemalloc.start()
        try:
            for _ in range(CALLS):
                tracemalloc.reset_peak()
                before = tracemalloc.get_traced_memory()[0]
                self.step()
                peaks.append(tracemalloc.get_traced_memory()[1] - before)
        finally:
            tracemalloc.stop()
        return float(statistics.median(peaks))

    track_peak_bytes.unit = "bytes"  # type: ignore[attr-defined]

    def track_retained_blocks(self, operation: str) -> float:
        for _ in range(RETAIN_WINDOW):
            self.step()
        gc.collect()
        before = sys.getallocatedblocks()
        for _ in range(RETAIN_WINDOW):
            self.step()
        gc.collect()
        # Fewer blocks than before (a cache trimmed) is no leak; asv also misreads negative values.
        return max(0.0, (sys.getallocatedblocks() - before) / RETAIN_WINDOW)

    track_retained_blocks.unit = "blocks"  # type: ignore[attr-defined]
