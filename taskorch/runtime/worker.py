"""The database worker: the one place where an agent fleet touches the orchestrator.

Agents never call the orchestrator from the event loop. They :meth:`DatabaseWorker.submit` a
call and await its future. The worker takes every call queued so far (up to ``max_batch``) and
runs them inside one :meth:`~taskorch.Orchestrator.batch`, so a thousand agents share one
transaction and one commit (group commit). Results are handed back only after the commit, so no
agent ever acts on a write that could still roll back.

Two placements:

- ``thread=True`` (default): a dedicated thread runs the batches. The event loop only enqueues
  calls and resolves futures, once per batch, so database work does not stall it.
- ``thread=False``: the batches run on the event loop itself, between agent steps. No thread
  hand-off, but each batch blocks the loop for its whole duration.

``group_commit=False`` runs each call in its own transaction (one commit per call); it exists to
measure what group commit buys.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections import deque
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from ..engine import Orchestrator
from ..errors import StorageError, TaskorchError, WorkerClosedError

DELIVER_CHUNK = 64

Call = tuple[Callable[..., Any], tuple[Any, ...], "asyncio.Future[Any]"]
Outcome = tuple["asyncio.Future[Any]", Any, BaseException | None]


@dataclass(frozen=True, slots=True)
class WorkerStatistics:
    """Counters of a :class:`DatabaseWorker`: calls run and transactions committed."""

    calls: int
    batches: int


def storage_error(orch: Orchestrator, exc: Exception) -> Exception:
    """The error every call of a failed batch gets (BEGIN or COMMIT failed). Stores translate
    their driver's errors; anything else is wrapped so that agents see a taskorch error."""
    if isinstance(exc, TaskorchError):
        return exc
    error = StorageError(f"{orch.store.describe()}: {exc}")
    error.__cause__ = exc
    return error


class DatabaseWorker:
    """Runs orchestrator calls for coroutines, many per transaction. Use ``async with``."""

    def __init__(
        self,
        orch: Orchestrator,
        *,
        group_commit: bool = True,
        max_batch: int = 512,
        thread: bool = True,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.orch = orch
        self.group_commit = group_commit
        self.max_batch = max_batch if group_commit else 1
        self.thread = thread
        self._calls = 0
        self._batches = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        # thread placement: a C-level queue, drained by the worker thread
        self._inbox: queue.SimpleQueue[Call | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        # loop placement: a deque drained by a task on the loop
        self._pending: deque[Call] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> DatabaseWorker:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def start(self) -> None:
        """Start serving calls; must be called from the event loop that will submit them."""
        self._loop = asyncio.get_running_loop()
        if self.thread:
            self._thread = threading.Thread(target=self._serve, name="taskorch-db", daemon=True)
            self._thread.start()
        else:
            self._task = asyncio.create_task(self._serve_on_loop(), name="taskorch-db")

    async def aclose(self) -> None:
        """Finish the calls already submitted, then stop."""
        if self._closed:
            return
        self._closed = True
        if self._thread is not None:
            self._inbox.put(None)
            await asyncio.to_thread(self._thread.join)
        elif self._task is not None:
            self._wake.set()
            await self._task

    def submit(self, fn: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        """Queue ``fn(*args)``; the future gets its result once the transaction committed."""
        if self._closed or self._loop is None:
            raise WorkerClosedError("the database worker is not running")
        future = self._loop.create_future()
        if self.thread:
            self._inbox.put((fn, args, future))
        else:
            self._pending.append((fn, args, future))
            self._wake.set()
        return future

    def statistics(self) -> WorkerStatistics:
        """Calls run and transactions committed so far."""
        return WorkerStatistics(self._calls, self._batches)

    # -- running batches ---------------------------------------------------------------------

    def _run(self, calls: list[Call]) -> list[Outcome]:
        """Run calls in one transaction. Each call's error goes to its own future (the engine
        undoes that call alone); an error of the transaction itself goes to every future."""
        outcomes: list[Outcome] = []
        # Without group commit every orchestrator call is its own transaction already.
        transaction = self.orch.batch() if self.group_commit else nullcontext()
        try:
            with transaction:
                for fn, args, future in calls:
                    try:
                        outcomes.append((future, fn(*args), None))
                    except Exception as exc:
                        outcomes.append((future, None, exc))
        except Exception as exc:  # BEGIN or COMMIT failed: nothing of this batch happened
            error = storage_error(self.orch, exc)
            return [(future, None, error) for _, _, future in calls]
        self._calls += len(calls)
        self._batches += 1 if self.group_commit else len(calls)
        return outcomes

    def _deliver(self, outcomes: list[Outcome], start: int = 0) -> None:
        """Resolve the futures of a batch, ``DELIVER_CHUNK`` per loop iteration: each resolved
        future schedules its agent's next step, and a loop iteration runs every step scheduled
        before it began; resolving a whole batch at once would keep every other coroutine (and
        timer) waiting for ~500 agent steps."""
        end = start + DELIVER_CHUNK
        for future, result, exc in outcomes[start:end]:
            if future.done():  # its awaiting agent was cancelled
                continue
            if exc is None:
                future.set_result(result)
            else:
                future.set_exception(exc)
        if end < len(outcomes):
            assert self._loop is not None
            self._loop.call_soon(self._deliver, outcomes, end)

    def _serve(self) -> None:
        inbox = self._inbox
        assert self._loop is not None
        loop = self._loop
        stopping = False
        while not stopping:
            first = inbox.get()
            if first is None:
                break
            calls = [first]
            while len(calls) < self.max_batch:
                try:
                    item = inbox.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                calls.append(item)
            outcomes = self._run(calls)
            # One wake-up of the loop per batch, not per call.
            loop.call_soon_threadsafe(self._deliver, outcomes)

    async def _serve_on_loop(self) -> None:
        pending = self._pending
        while True:
            if not pending:
                if self._closed:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            n = min(len(pending), self.max_batch)
            self._deliver(self._run([pending.popleft() for _ in range(n)]))
            # Let the agents just resumed queue their next calls before the next batch.
            await asyncio.sleep(0)
