"""The database worker: the one place where an agent fleet touches the orchestrator.

Agents never call the orchestrator directly. They :meth:`DatabaseWorker.submit` a call and
await its future. The worker takes every call queued so far (up to ``max_batch``) and runs them
inside one :meth:`~taskorch.Orchestrator.batch`, so a thousand agents share one transaction and
one commit (group commit). Results are handed back only after the commit, so no agent ever acts
on a write that could still roll back.

Three placements (``thread=``):

- ``None`` (default): each batch where it costs least without the loop ever waiting. A batch
  runs on the event loop when the store allows it (SQLite whose commits do not sync the disk, see
  :mod:`taskorch.runtime.onloop`), it is small (at most ``LOOP_CALLS`` calls: a handful of agents),
  the thread has nothing running or queued, and the connection and SQLite's write lock are free
  at once. Anything else goes to the database thread, which waits for locks as configured, and
  runs the WAL checkpoints. One agent's loop then costs no hand-off between threads; a thousand
  agents' batches run on the thread, as with ``True``. On PostgreSQL every batch goes to the
  thread.
- ``True``: a dedicated thread runs every batch. The event loop only enqueues calls and resolves
  futures, once per batch, so database work never stalls it; each call crosses to the thread and
  back (two wake-ups of a sleeping thread).
- ``False``: every batch runs on the event loop, between agent steps. No thread at all, but
  each batch blocks the loop for its whole duration, lock waits and checkpoints included.

``group_commit=False`` runs each call in its own transaction (one commit per call), on the
thread unless ``thread=False``; it exists to measure what group commit buys.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from ..engine import Orchestrator
from ..errors import InvalidArgumentError, StorageError, TaskorchError, WorkerClosedError
from .onloop import LoopAccess, NotBegun

DELIVER_CHUNK = 64
#: The largest batch run on the loop by the automatic placement: a few agents' calls, a
#: millisecond or so of the loop; more agents' batches go to the thread.
LOOP_CALLS = 16

Call = tuple[Callable[..., Any], tuple[Any, ...], "asyncio.Future[Any]"]
Outcome = tuple["asyncio.Future[Any]", Any, BaseException | None]
#: Put in the thread's queue (between calls) to ask for a WAL checkpoint.
CHECKPOINT = "CHECKPOINT"


@dataclass(frozen=True, slots=True)
class WorkerActivity:
    """What a :class:`DatabaseWorker` is doing now: the call it runs (``None`` when idle; "BEGIN"
    or "COMMIT" for the transaction itself, "CHECKPOINT" for a WAL checkpoint), for how many
    seconds its batch (the transaction the call runs in) has run, how many calls wait behind it,
    and whether its thread (or, without one, the worker) still runs."""

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
    """Counters of a :class:`DatabaseWorker`: calls run and transactions committed; of those
    transactions, how many ran on the event loop (``on_loop``); how many batches the automatic
    placement tried on the loop and handed to the thread because the connection or SQLite's
    write lock was busy (``handed_over``); WAL checkpoints the thread ran for the loop."""

    calls: int
    batches: int
    on_loop: int = 0
    handed_over: int = 0
    checkpoints: int = 0


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
        thread: bool | None = None,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        if thread is not None and thread is not True and thread is not False:
            raise InvalidArgumentError(
                "thread", f"must be True, False or None (automatic), got {thread!r}"
            )
        self.orch = orch
        self.group_commit = group_commit
        self.max_batch = max_batch if group_commit else 1
        self.thread = thread
        # The automatic placement needs group commit: its BEGIN is the batch's own.
        self._auto = thread is None and group_commit
        self._calls = 0
        self._batches = 0
        self._on_loop = 0
        self._handed_over = 0
        self._checkpoints = 0
        # What runs now and since when (a monotonic time): read by activity() from the loop.
        self._busy: object = None
        self._busy_since = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._died: WorkerClosedError | None = None
        self._abandoned = False
        # the thread: a C-level queue, drained by the worker thread
        self._inbox: queue.SimpleQueue[Call | str | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        # the loop: calls waiting for the batch that runs in the loop's next iteration
        self._pending: deque[Call] = deque()
        self._scheduled = False
        # set by the thread once it found the store fit for batches on the loop
        self._access: LoopAccess | None = None
        self._unprobed: LoopAccess | None = None  # for the thread to probe
        self._checkpoint_asked = False

    async def __aenter__(self) -> DatabaseWorker:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def start(self) -> None:
        """Start serving calls; must be called from the event loop that will submit them."""
        self._loop = asyncio.get_running_loop()
        if self._auto:
            # Probed here when nobody else holds the connection (the usual case: the first
            # calls may then run on the loop), else by the thread before its first batch.
            access = LoopAccess.of(self.orch)
            if access is not None:
                fit = access.probe(wait=False)
                self._unprobed = access if fit is None else None
                self._access = access if fit else None
        if self.thread is not False:
            self._thread = threading.Thread(target=self._serve, name="taskorch-db", daemon=True)
            self._thread.start()

    async def aclose(self, timeout: float | None = None) -> None:
        """Finish the calls already submitted, then stop. With ``timeout``, a thread still busy
        after that many seconds is left behind (it is a daemon) and runs no more calls."""
        if self._closed:
            if self._died is not None and self._thread is not None:  # it is ending on its own
                await asyncio.to_thread(self._thread.join, timeout)
            return
        self._closed = True
        if self._thread is not None:
            while self._pending:  # not run on the loop yet: the thread runs them before it stops
                self._inbox.put(self._pending.popleft())
            self._inbox.put(None)
            await asyncio.to_thread(self._thread.join, timeout)
            if self._thread.is_alive():
                self._abandoned = True
        else:
            while self._pending and self._died is None:
                self._run_pending()

    def activity(self) -> WorkerActivity:
        """The call running now, for how long, and the queue behind it (for stall reports)."""
        busy = self._busy
        running_for = time.monotonic() - self._busy_since if busy is not None else 0.0
        queued = self._inbox.qsize() + len(self._pending)
        if self._thread is not None:
            alive = self._thread.is_alive()
        else:
            alive = self._loop is not None and not self._closed
        name = None if busy is None else call_name(busy)
        return WorkerActivity(name, running_for, queued, alive)

    def submit(self, fn: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        """Queue ``fn(*args)``; the future gets its result once the transaction committed."""
        if self._closed or self._loop is None:
            if self._died is not None:
                raise self._died
            raise WorkerClosedError("the database worker is not running")
        future = self._loop.create_future()
        if self.thread is False:
            self._pending.append((fn, args, future))
            self._schedule()
        elif not self._loop_may_run(len(self._pending) + 1):
            pending = self._pending
            while pending:  # bound for the thread now: with the others, in one batch
                self._inbox.put(pending.popleft())
            self._inbox.put((fn, args, future))
        else:
            self._pending.append((fn, args, future))
            self._schedule()
        return future

    def backlog(self) -> int:
        """How many submitted calls wait for a batch (not counting the batch running now)."""
        return self._inbox.qsize() + len(self._pending)

    def statistics(self) -> WorkerStatistics:
        """Calls run, transactions committed and where, so far."""
        return WorkerStatistics(
            self._calls, self._batches, self._on_loop, self._handed_over, self._checkpoints
        )

    # -- running batches ---------------------------------------------------------------------

    def _run(self, calls: list[Call], access: LoopAccess | None = None) -> list[Outcome]:
        """Run calls in one transaction. Each call's error goes to its own future (the engine
        undoes that call alone); an error of the transaction itself goes to every future. With
        ``access`` (on the loop), a BEGIN that would wait raises :class:`NotBegun` instead."""
        outcomes: list[Outcome] = []
        # Without group commit every orchestrator call is its own transaction already.
        transaction: Any = self.orch.batch() if self.group_commit else nullcontext()
        if access is not None:
            transaction = access.begin(transaction)
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
        except NotBegun:
            raise
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

    def _died_of(self, exc: BaseException) -> WorkerClosedError:
        error = WorkerClosedError(f"the database worker stopped: {type(exc).__name__}: {exc}")
        error.__cause__ = exc
        self._died = error
        self._closed = True
        return error

    def _fail_all(self, calls: list[Call], error: BaseException) -> None:
        """On the loop: fail the calls of the batch that broke and every call still queued."""
        outcomes: list[Outcome] = [(future, None, error) for _, _, future in calls]
        while self._pending:
            outcomes.append((self._pending.popleft()[2], None, error))
        while True:
            try:
                item = self._inbox.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, tuple):
                outcomes.append((item[2], None, error))
        self._deliver(outcomes)

    # -- on the loop -------------------------------------------------------------------------

    def _schedule(self) -> None:
        if not self._scheduled:
            self._scheduled = True
            assert self._loop is not None
            self._loop.call_soon(self._run_pending)

    def _run_pending(self) -> None:
        """The loop's batch: the calls submitted since the last one. Every agent awaiting one
        has yielded to the loop, so the supervisor and the other coroutines get their turn."""
        self._scheduled = False
        pending = self._pending
        if not pending:
            return
        calls = [pending.popleft() for _ in range(min(len(pending), self.max_batch))]
        if pending:
            self._schedule()
        try:
            if self.thread is False:
                self._deliver(self._run(calls))
                self._on_loop += 1
            else:
                self._run_here_or_hand_over(calls)
        except BaseException as exc:  # a call raised what is not an Exception
            self._fail_all(calls, self._died_of(exc))
            if self._thread is not None:
                self._inbox.put(None)
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise

    def _loop_may_run(self, calls: int) -> bool:
        """Whether the automatic placement may run a batch of ``calls`` calls on the loop: the
        store allows it, the batch is small, and the thread has nothing running or queued (the
        batch would otherwise commit before calls submitted earlier)."""
        return (
            self._access is not None
            and calls <= LOOP_CALLS
            and self._busy is None
            and not self._inbox.qsize()
        )

    def _run_here_or_hand_over(self, calls: list[Call]) -> None:
        access = self._access
        if access is None or not self._loop_may_run(len(calls)):
            self._hand_over(calls)
            return
        if not access.enter():  # another thread is in an orchestrator call
            self._handed_over += 1
            self._hand_over(calls)
            return
        committed = 0
        try:
            outcomes = self._run(calls, access)
            committed = len(calls)
        except NotBegun:
            self._handed_over += 1
            self._hand_over(calls)
            return
        finally:
            access.exit(committed)
        self._on_loop += 1
        self._deliver(outcomes)
        if access.due() and not self._checkpoint_asked:
            self._checkpoint_asked = True
            self._inbox.put(CHECKPOINT)

    def _hand_over(self, calls: list[Call]) -> None:
        if self._died is not None:
            self._deliver([(future, None, self._died) for _, _, future in calls])
            return
        for call in calls:
            self._inbox.put(call)

    # -- on the thread -----------------------------------------------------------------------

    def _serve(self) -> None:
        calls: list[Call] = []
        try:
            unprobed, self._unprobed = self._unprobed, None
            if unprobed is not None and unprobed.probe(wait=True):
                self._access = unprobed
            self._serve_batches(calls)
        except BaseException as exc:  # the thread must not die without a word
            # Without this every agent would wait for ever on a future nobody resolves.
            error = self._died_of(exc)
            assert self._loop is not None
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting
                self._loop.call_soon_threadsafe(self._fail_all, calls, error)
        finally:
            if self._access is not None and not self._abandoned:
                # The connection checkpoints by itself again (if it can still be used).
                with contextlib.suppress(Exception):
                    self._access.close()

    def _serve_batches(self, calls: list[Call]) -> None:
        inbox = self._inbox
        assert self._loop is not None
        loop = self._loop
        stopping = False
        while not stopping and not self._abandoned:
            first = inbox.get()
            if first is None:
                break
            checkpoint = first is CHECKPOINT
            calls[:] = [] if checkpoint else [first]  # type: ignore[list-item]
            while len(calls) < self.max_batch:
                try:
                    item = inbox.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                if item is CHECKPOINT:
                    checkpoint = True
                else:
                    calls.append(item)  # type: ignore[arg-type]
            if calls:
                access = self._access
                if access is None:
                    outcomes = self._run(calls)
                else:
                    with access.lock:
                        outcomes = self._run(calls)
                        access.calls += len(calls)
                    checkpoint = checkpoint or access.due()
                # One wake-up of the loop per batch, not per call.
                loop.call_soon_threadsafe(self._deliver, outcomes)
            if checkpoint:  # once the agents have their results: they go on meanwhile
                self._checkpoint()

    def _checkpoint(self) -> None:
        """The WAL checkpoint the commits did not make (see :mod:`.onloop`)."""
        access = self._access
        self._checkpoint_asked = False
        if access is None or not access.due():  # one ran since it was asked for
            return
        self._busy, self._busy_since = CHECKPOINT, time.monotonic()
        try:
            with access.lock:
                access.checkpoint()
        finally:
            self._busy = None
        self._checkpoints += 1
