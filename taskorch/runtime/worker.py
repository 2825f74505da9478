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
import time
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
class WorkerActivity:
    """What a :class:`DatabaseWorker` is doing now: the call it runs (``None`` when idle; "BEGIN"
    or "COMMIT" for the transaction itself), for how many seconds its batch (the transaction the
    call runs in) has run, how many calls wait behind it, and whether its thread (or task) still
    runs."""

    call: str | None
    running_for: float
    queued: int
    alive: bool

    def describe(self) -> str:
        if not self.alive:
            return f"the database worker is not running ({self.queued} calls queued)"
        doing = f"in {self.call} for {self.running_for:.1f}s" if self.call is not None else "idle"
        return f"the database worker is {doing}, {self.queued} calls queued"


def call_name(fn: object) -> str:
    """A call's name for messages: ``Orchestrator.claim``, ``Fleet._renew_all``..."""
    if isinstance(fn, str):
        return fn
    return str(getattr(fn, "__qualname__", None) or repr(fn))


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
        # What runs now and since when (a monotonic time): read by activity() from the loop.
        self._busy: object = None
        self._busy_since = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._died: WorkerClosedError | None = None
        self._abandoned = False
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

    async def aclose(self, timeout: float | None = None) -> None:
        """Finish the calls already submitted, then stop. With ``timeout``, a thread still busy
        after that many seconds is left behind (it is a daemon) and runs no more calls."""
        if self._closed:
            if self._died is not None and self._thread is not None:  # it is ending on its own
                await asyncio.to_thread(self._thread.join, timeout)
            return
        self._closed = True
        if self._thread is not None:
            self._inbox.put(None)
            await asyncio.to_thread(self._thread.join, timeout)
            if self._thread.is_alive():
                self._abandoned = True
        elif self._task is not None:
            self._wake.set()
            await self._task

    def activity(self) -> WorkerActivity:
        """The call running now, for how long, and the queue behind it (for stall reports)."""
        busy = self._busy
        running_for = time.monotonic() - self._busy_since if busy is not None else 0.0
        if self.thread:
            queued = self._inbox.qsize()
            alive = self._thread is not None and self._thread.is_alive()
        else:
            queued = len(self._pending)
            alive = self._task is not None and not self._task.done()
        name = None if busy is None else call_name(busy)
        return WorkerActivity(name, running_for, queued, alive)

    def submit(self, fn: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        """Queue ``fn(*args)``; the future gets its result once the transaction committed."""
        if self._closed or self._loop is None:
            if self._died is not None:
                raise self._died
            raise WorkerClosedError("the database worker is not running")
        future = self._loop.create_future()
        if self.thread:
            self._inbox.put((fn, args, future))
        else:
            self._pending.append((fn, args, future))
            self._wake.set()
        return future

    def backlog(self) -> int:
        """How many submitted calls wait for a batch (not counting the batch running now)."""
        return self._inbox.qsize() if self.thread else len(self._pending)

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
        # The clock is read once per batch, not per call: a stall report gives the batch's age,
        # which bounds the call's (and is how long the transaction has held its locks).
        self._busy, self._busy_since = "BEGIN", time.monotonic()
        try:
            with transaction:
                for fn, args, future in calls:
                    if future.cancelled():  # its agent is gone: a stalled fleet gave up
                        continue
                    self._busy = fn
                    try:
                        outcomes.append((future, fn(*args), None))
                    except Exception as exc:
                        outcomes.append((future, None, exc))
                self._busy = "COMMIT"
        except Exception as exc:  # BEGIN or COMMIT failed: nothing of this batch happened
            error = storage_error(self.orch, exc)
            return [(future, None, error) for _, _, future in calls]
        finally:
            self._busy = None
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
        calls: list[Call] = []
        try:
            self._serve_batches(calls)
        except BaseException as exc:  # the thread must not die without a word
            # Without this every agent would wait for ever on a future nobody resolves.
            error = WorkerClosedError(f"the database worker stopped: {type(exc).__name__}: {exc}")
            error.__cause__ = exc
            self._died = error
            self._closed = True
            assert self._loop is not None
            try:
                self._loop.call_soon_threadsafe(self._fail_all, calls, error)
            except RuntimeError:  # the loop is closed already: nobody is waiting
                return

    def _fail_all(self, calls: list[Call], error: BaseException) -> None:
        """On the loop: fail the calls of the batch that broke and every call still queued."""
        outcomes: list[Outcome] = [(future, None, error) for _, _, future in calls]
        while True:
            try:
                item = self._inbox.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                outcomes.append((item[2], None, error))
        self._deliver(outcomes)

    def _serve_batches(self, calls: list[Call]) -> None:
        inbox = self._inbox
        assert self._loop is not None
        loop = self._loop
        stopping = False
        while not stopping and not self._abandoned:
            first = inbox.get()
            if first is None:
                break
            calls[:] = [first]
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
