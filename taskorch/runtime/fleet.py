"""A fleet of asyncio agents working one orchestrator.

Each agent loops: claim a ready subtask (with its specialist context, in one call), await the
user's handler, complete the subtask with what the handler returned (or fail it when the handler
raised). All database calls go through one :class:`~taskorch.runtime.worker.DatabaseWorker`, so
the writes of every agent share transactions.

One supervisor task, not one per agent, does the periodic work: it renews every held lease in one
call, wakes an idle agent to look for new work, reports progress, notices when the work is
drained, and notices a stall (see :mod:`taskorch.runtime.stall`). Idle agents wait on a future,
not a timer: an agent that finds work wakes one more, so a burst of ready tasks fans out quickly
without a thousand agents polling an empty queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from typing import Any

from .. import checks, codec
from ..engine import Orchestrator
from ..errors import ClaimError, FleetStalledError, InvalidArgumentError, InvalidTransitionError
from ..models import Status, Task
from .metrics import LoopLagMonitor, Samples
from .report import FleetCounters, FleetReport, Result
from .stall import describe_stall
from .worker import DatabaseWorker

Handler = Callable[[Task, dict[str, Any]], Awaitable[Any]]
ProgressCallback = Callable[[FleetCounters, float], None]
LOST = (ClaimError, InvalidTransitionError)  # the task was reclaimed or cancelled meanwhile
Claimed = tuple[Task, str]  # a claimed task and its context, as JSON text

#: The most agents one fleet runs (each is an asyncio task; more is surely a mistake).
MAX_AGENTS = 1_000_000


class Fleet:
    """``agents`` asyncio agents claiming subtasks of ``orch`` and running ``handler`` on them.

    ``handler(task, context)`` is awaited with the claimed :class:`~taskorch.Task` and its
    specialist context (a dict); its return value (or a :class:`Result`) becomes the result. A
    handler that raises fails the subtask, retried while ``task.attempts < max_attempts``.
    ``ledger``, when given, counts successful completions per task id (for invariant checks).
    The database options are those of :class:`DatabaseWorker`: ``db_thread`` is its ``thread``
    (None, the default: each batch on the event loop when that cannot make the loop wait, as
    for a few agents on SQLite, else on the database thread; True: always the thread; False:
    always the loop).

    When nothing finishes for ``stall_timeout`` seconds (default 60; None: never give up) while
    work is left, :meth:`run` ends with :class:`~taskorch.FleetStalledError` saying what it
    waited on. A handler that is running is never taken for a stall.
    """

    def __init__(
        self,
        orch: Orchestrator,
        handler: Handler,
        *,
        agents: int = 1,
        specialist: str | None = None,
        lease_seconds: float | None = None,
        max_attempts: int = 3,
        poll_interval: float = 0.05,
        group_commit: bool = True,
        max_batch: int = 512,
        db_thread: bool | None = None,
        name: str = "agent",
        ledger: Counter[int] | None = None,
        stall_timeout: float | None = 60.0,
    ) -> None:
        # Checked here, not when the run is under way: a NaN lease or interval would otherwise
        # surface as a stall or a busy loop long after the mistake.
        self.stall_timeout = (
            None if stall_timeout is None else checks.seconds(stall_timeout, "stall_timeout")
        )
        self.orch = orch
        self.handler = checks.callable_(handler, "handler")
        self.agents = checks.count(agents, "agents", low=1, high=MAX_AGENTS)
        self.specialist = checks.optional_text(specialist, "specialist")
        self.lease_seconds = (
            orch.lease_seconds
            if lease_seconds is None
            else checks.seconds(lease_seconds, "lease_seconds")
        )
        self.max_attempts = checks.count(max_attempts, "max_attempts", low=1)
        self.poll_interval = checks.seconds(poll_interval, "poll_interval")
        self.name = name
        self.ledger = ledger
        self.worker = DatabaseWorker(
            orch,
            group_commit=checks.flag(group_commit, "group_commit"),
            max_batch=checks.count(max_batch, "max_batch", low=1),
            thread=None if db_thread is None else checks.flag(db_thread, "db_thread"),
        )
        self._held: dict[int, str] = {}
        self._idle: deque[asyncio.Future[None]] = deque()
        self._in_handler: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._found_nothing = False
        self._claim_latency = Samples()
        self._completed = self._failed = self._retried = self._released = self._lost = 0
        self._progress_at = time.monotonic()  # when something last finished (or a handler ran)
        self._seen: dict[str, int] | None = None  # the store's counts when the idle period began
        self._seen_for: float | None = None  # the _progress_at that _seen was taken for
        self._last_progress_at: float | None = None  # _progress_at at the previous stall check
        self._orphans: dict[int, str] = {}  # tasks a failed call left claimed: id -> agent

    # -- public ------------------------------------------------------------------------------

    async def run(
        self,
        duration: float | None = None,
        *,
        drain: bool = True,
        grace: float = 5.0,
        on_progress: ProgressCallback | None = None,
        progress_interval: float = 1.0,
    ) -> FleetReport:
        """Run the agents until ``duration`` seconds passed, or (``drain``) no subtask is left
        unfinished in the store, or :meth:`stop` is called. In-flight handlers get ``grace``
        seconds to finish, then are cancelled and their subtasks released.

        A storage error that the agents cannot work around (e.g.
        :class:`~taskorch.DatabaseLockedError` after the busy timeout) stops the fleet and is
        raised here.
        """
        lag = LoopLagMonitor()
        started = time.perf_counter()
        self._progress_at = time.monotonic()
        failure: BaseException | None = None
        self.worker.start()
        try:
            lag.start()
            agents = [
                asyncio.create_task(self._agent(f"{self.name}-{i}"), name=f"{self.name}-{i}")
                for i in range(self.agents)
            ]
            supervisor = asyncio.create_task(
                self._supervise(started, duration, drain, on_progress, progress_interval)
            )
            watched: set[asyncio.Task[None]] = {supervisor, *agents}
            try:
                while failure is None and supervisor in watched:
                    done, watched = await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
                    failure = next((t.exception() for t in done if not t.cancelled()), None)
            finally:
                self.stop()
                await self._wind_down(agents, grace, force=failure is not None)
                supervisor.cancel()
                await asyncio.gather(supervisor, return_exceptions=True)
            elapsed = time.perf_counter() - started
            loop_lag = await lag.stop()
        finally:
            # After a failure the database thread may be the thing that hangs: wait for it a
            # bounded time only, then leave it behind (it runs no further call).
            await self.worker.aclose(timeout=None if failure is None else max(grace, 1.0))
        if failure is not None:
            self._release_orphans()
            raise failure
        stats = self.worker.statistics()
        return FleetReport(
            self.agents,
            elapsed,
            self.counters(),
            self._claim_latency.summary(),
            loop_lag,
            stats.calls,
            stats.batches,
        )

    def stop(self) -> None:
        """Ask the agents to stop after their current subtask."""
        self._stopping = True
        while self._idle:
            waiter = self._idle.popleft()
            if not waiter.done():
                waiter.set_result(None)

    def counters(self) -> FleetCounters:
        """What the fleet has done so far."""
        return FleetCounters(
            self._completed, self._failed, self._retried, self._released, self._lost
        )

    async def renew_leases(self) -> int:
        """Renew every lease the fleet holds, in one call; returns how many were still held."""
        if not self._held:
            return 0
        lost: list[int] = await self.worker.submit(self._renew_all, list(self._held.items()))
        return len(self._held) - len(lost)

    # -- the agents --------------------------------------------------------------------------

    async def _agent(self, name: str) -> None:
        submit = self.worker.submit
        clock = time.perf_counter
        me = asyncio.current_task()
        assert me is not None
        claimed: Claimed | None = None
        while True:
            if self._stopping:
                if claimed is not None:  # claimed with a completion as the fleet wound down
                    await submit(self._release, claimed[0].id, name)
                return
            if claimed is None:
                t0 = clock()
                claimed = await submit(self._claim, name)
                self._claim_latency.add(clock() - t0)
                if claimed is None:
                    self._found_nothing = True
                    await self._wait_idle()
                    continue
                if self._stopping:
                    continue
            self._found_nothing = False
            task, context = claimed
            self._wake_one()  # there may be more ready work
            self._held[task.id] = name
            try:
                claimed = await self._work(me, name, task, context)
            finally:
                del self._held[task.id]
                self._progress_at = time.monotonic()

    async def _work(
        self, me: asyncio.Task[None], name: str, task: Task, context: str
    ) -> Claimed | None:
        """Run the handler on ``task`` and settle it; returns the agent's next task when it was
        claimed with the settling (see :meth:`_settle_and_claim`)."""
        self._in_handler.add(me)
        try:
            outcome = await self.handler(task, codec.loads(context))
        except asyncio.CancelledError:
            # Give the task back so that another agent need not wait for the lease to expire.
            await self.worker.submit(self._release, task.id, name)
            raise
        except Exception as exc:
            self._in_handler.discard(me)
            return await self._fail(name, task, f"{type(exc).__name__}: {exc}")
        finally:
            self._in_handler.discard(me)
        if isinstance(outcome, Result):
            args: tuple[Any, ...] = (task.id, name, outcome.value, outcome.artifacts)
        else:
            args = (task.id, name, outcome)
        try:
            return await self._settle(self.orch.complete, args, task.id, None)
        except InvalidArgumentError as exc:  # the handler returned what cannot be stored
            return await self._fail(name, task, f"the handler's result was refused: {exc}")

    async def _fail(self, name: str, task: Task, error: str) -> Claimed | None:
        # A handler's message may hold a lone surrogate, which no database stores: escaped, it
        # fails only this task instead of being refused and ending the fleet.
        error = error.encode("utf-8", "backslashreplace").decode()
        retry = task.attempts < self.max_attempts
        return await self._settle(self.orch.fail, (task.id, name, error, retry), task.id, retry)

    async def _settle(
        self, fn: Callable[..., None], args: tuple[Any, ...], task_id: int, retry: bool | None
    ) -> Claimed | None:
        """Complete (``retry`` None) or fail a task and count the outcome once it committed;
        returns the agent's next task when it was claimed in the same call.

        No shield is needed around the call: agents are cancelled only inside their handler
        (see :meth:`_wind_down`), so a call that committed is always counted. A call that failed
        was undone, so the task is still held: it is given back (if the database allows) before
        the error goes on, and nothing is left claimed by an agent that stopped.
        """
        t0 = time.perf_counter()
        settled: tuple[Claimed | None, Exception | None] = (None, None)
        try:
            # The next claim comes with the settling when the worker has nothing queued: then
            # each hand-off is a wait. A busy worker takes the two as calls of their own: fused
            # calls measured 0.85 times the throughput of 1,000 agents (every batch longer, every
            # claim later), against 1.6 to 1.9 times for one agent.
            if self.worker.backlog():
                await self.worker.submit(fn, *args)
            else:
                settled = await self.worker.submit(self._settle_and_claim, fn, args)
        except LOST:
            self._lost += 1
            return None
        except InvalidArgumentError:
            raise  # nothing was tried: the caller decides
        except Exception:
            try:
                await self.worker.submit(self._release, task_id, args[1])
            except Exception:  # the database refuses this too: try once more at the end
                self._orphans[task_id] = args[1]
            raise
        claimed, claim_error = settled
        if retry is None:
            self._completed += 1
            if self.ledger is not None:
                self.ledger[task_id] += 1
        elif retry:
            self._retried += 1
        else:
            self._failed += 1
        self._wake_one()  # dependents may be ready, or the task itself again
        if claim_error is not None:
            raise claim_error
        if claimed is not None:
            self._claim_latency.add(time.perf_counter() - t0)
        return claimed

    async def _wait_idle(self) -> None:
        if self._stopping:  # stop() has woken the waiters already: nobody would wake this one
            return
        waiter = asyncio.get_running_loop().create_future()
        self._idle.append(waiter)
        await waiter

    def _wake_one(self) -> None:
        while self._idle:
            waiter = self._idle.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def _wind_down(
        self, agents: list[asyncio.Task[None]], grace: float, force: bool = False
    ) -> None:
        """Let in-flight work finish for ``grace`` seconds, then cancel the handlers still
        running (their agents release the tasks). Agents are cancelled only inside a handler,
        never in the middle of a database call whose effect they must account for; except with
        ``force`` (the run failed), once a second grace period has passed: the database may be
        what they wait on, and a lease left behind runs out."""
        pending = [t for t in agents if not t.done()]
        if pending and grace > 0:
            await asyncio.wait(pending, timeout=grace)
        for task in list(self._in_handler):
            task.cancel()
        if force:
            pending = [t for t in agents if not t.done()]
            if pending:
                _, late = await asyncio.wait(pending, timeout=max(grace, 1.0))
                for task in late:
                    task.cancel()
        await asyncio.gather(*agents, return_exceptions=True)

    async def _supervise(
        self,
        started: float,
        duration: float | None,
        drain: bool,
        on_progress: ProgressCallback | None,
        progress_interval: float,
    ) -> None:
        clock = time.perf_counter
        renew_every = self.lease_seconds / 3
        next_renew = clock() + renew_every
        next_progress = clock() + progress_interval
        while not self._stopping:
            await asyncio.sleep(self.poll_interval)
            now = clock()
            if duration is not None and now - started >= duration:
                break
            if now >= next_renew:
                next_renew = now + renew_every
                await self._answer(self.renew_leases())
            if on_progress is not None and now >= next_progress:
                next_progress = now + progress_interval
                on_progress(self.counters(), now - started)
            if drain and self._found_nothing and not self._held and await self._drained():
                break
            if self.stall_timeout is not None:
                await self._check_stall()
            self._wake_one()  # look for work planned or released by someone else
        self.stop()

    async def _drained(self) -> bool:
        status: Status = await self._answer(self.worker.submit(self.orch.status))
        left = status.subtasks
        return not (left.get("pending") or left.get("ready") or left.get("claimed"))

    async def _answer(self, call: Awaitable[Any]) -> Any:
        """Await the database worker for the supervisor, at most ``stall_timeout``: a worker
        that does not answer is a stall, reported as one."""
        if self.stall_timeout is None:
            return await call
        try:
            return await asyncio.wait_for(call, self.stall_timeout)
        except TimeoutError:
            idle_for = time.monotonic() - self._progress_at
            raise FleetStalledError(
                describe_stall(
                    idle_for, None, None, (), self.specialist, self.worker.activity(), 0.0
                )
            ) from None

    async def _check_stall(self) -> None:
        """Raise :class:`FleetStalledError` if nothing finished for ``stall_timeout``, here or
        elsewhere, while work is left."""
        assert self.stall_timeout is not None
        mono = time.monotonic()
        if self._in_handler:  # waiting on the user's handlers is not a stall
            self._progress_at = mono
            return
        progress_at = self._progress_at
        steady = progress_at == self._last_progress_at
        self._last_progress_at = progress_at
        idle_for = mono - progress_at
        if self._seen_for != progress_at and steady:
            # The idle period began since the last check: the store's counts are taken now, so
            # that progress elsewhere is judged against them and a stall is raised one
            # stall_timeout after the idle period began (not two). Waiting for one quiet check
            # keeps steady local progress from costing a status query per check.
            status: Status = await self._answer(self.worker.submit(self.orch.status))
            self._seen = dict(status.subtasks)
            self._seen_for = progress_at
        if idle_for < self.stall_timeout:
            return
        status = await self._answer(self.worker.submit(self.orch.status))
        left = status["pending"] + status["ready"] + status["claimed"]
        if status.subtasks != self._seen or not left:
            # Someone finished something since the last look (or there is nothing to wait for).
            self._seen = dict(status.subtasks)
            self._progress_at = self._seen_for = self._last_progress_at = mono
            return
        claimed = await self._answer(self.worker.submit(self.orch.tasks, "claimed", 0, 50))
        raise FleetStalledError(
            describe_stall(
                idle_for,
                status,
                claimed,
                self._held,
                self.specialist,
                self.worker.activity(),
                self.orch.clock(),
            )
        )

    # -- run on the database worker ----------------------------------------------------------

    def _claim(self, agent: str) -> Claimed | None:
        orch = self.orch
        task = orch.claim(agent, self.specialist, self.lease_seconds)
        if task is None:
            return None
        try:
            return task, orch._context_json_of(task)  # the task in hand: not read again
        except Exception:
            orch.release(task.id, agent)
            raise

    def _settle_and_claim(
        self, fn: Callable[..., None], args: tuple[Any, ...]
    ) -> tuple[Claimed | None, Exception | None]:
        """Settle a task (``fn(*args)``: complete or fail it; its errors are the call's) and
        claim the agent's next one in the same call, so that an agent's loop is one hand-off to
        the database worker and one transaction, not two. The claim's error is handed back, not
        raised: the settling stays, and commits with the rest of the batch."""
        fn(*args)
        if self._stopping:
            return None, None
        try:
            return self._claim(args[1]), None
        except Exception as exc:
            return None, exc

    def _release_orphans(self) -> None:
        """Give back, from the loop, what failed calls left claimed; only once the database
        thread has ended (a thread still stuck in a call owns the connection: its leases run
        out instead)."""
        if self.worker.activity().alive:
            return
        for task_id, agent in list(self._orphans.items()):
            with contextlib.suppress(Exception):
                self._release(task_id, agent)
                del self._orphans[task_id]

    def _release(self, task_id: int, agent: str) -> None:
        try:
            self.orch.release(task_id, agent)
        except LOST:
            return
        self._released += 1
        self._progress_at = time.monotonic()

    def _renew_all(self, held: list[tuple[int, str]]) -> list[int]:
        lost = []
        for task_id, agent in held:
            try:
                self.orch.renew(task_id, agent, self.lease_seconds)
            except LOST:
                lost.append(task_id)
        return lost
