"""The Orchestrator: validates input, applies the life-cycle rules, publishes events.

It composes a :class:`~taskorch.store.Store` (persistence and atomicity), :mod:`taskorch.graph`
(plan validation) and an :class:`~taskorch.events.EventBus`. One orchestrator may be shared by
threads: calls are serialized by a lock, which costs nothing when uncontended, except on a store
that declares itself ``thread_safe`` (PostgreSQL, with its connection pool).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from . import checks, codec
from .checks import MAX_ID, MAX_SECONDS
from .errors import (
    InvalidTransitionError,
    LeaseExpiredError,
    NotClaimedError,
    TaskorchError,
    UnknownTaskError,
)
from .events import Event, EventBus, Subscription
from .models import Plan, Status, Task, TaskStatus
from .store import Finished, Store
from .subtasks import parse_subtasks, unencodable_plan

STATUS_VALUES = tuple(s.value for s in TaskStatus)


class Orchestrator:
    """Plans goals into subtasks, hands ready subtasks to agents and collects their results."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], float] = time.time,
        lease_seconds: float = 60.0,
        lease_check_interval: float = 1.0,
        context_cache_size: int = 1024,
    ) -> None:
        self.store = store
        self.clock = checks.callable_(clock, "clock")
        self.lease_seconds = checks.seconds(lease_seconds, "lease_seconds")
        self.lease_check_interval = checks.seconds(
            lease_check_interval, "lease_check_interval", zero=True
        )
        context_cache_size = checks.count(context_cache_size, "context_cache_size")
        self._next_lease_check = float("-inf")
        self.events = EventBus()
        self._contexts: codec.ContextCache[str] = codec.ContextCache(context_cache_size)
        self._plans: codec.ContextCache[tuple[str, Any]] = codec.ContextCache(context_cache_size)
        # Calls are serialized unless the store says it is safe to share between threads (a
        # pooled server store: one connection per operation, a batch pins one to its thread).
        self._lock: AbstractContextManager[Any] = (
            nullcontext() if store.thread_safe else threading.RLock()
        )
        self._closed = False

    # -- plan --------------------------------------------------------------------------------

    def plan(
        self,
        goal: str,
        subtasks: Sequence[Mapping[str, Any]],
        context: Any = None,
    ) -> Plan:
        """Write a goal and its subtasks atomically; subtasks without dependencies are ready.

        Raises a :class:`~taskorch.PlanError` (cycle, unknown dependency, bad field) and writes
        nothing when the plan is invalid.
        """
        if type(goal) is not str or not goal or "\x00" in goal:
            goal = checks.text(goal, "goal")
        rows = parse_subtasks(subtasks)
        encoded = None if context is None else codec.dumps(context, "context")
        now = self.clock()
        try:
            with self._lock:
                parent_id, ids = self.store.insert_plan(goal, encoded, rows, now)
        except UnicodeEncodeError as exc:  # the transaction was rolled back
            raise unencodable_plan(exc, goal, encoded, rows) from None
        if self.events.active:
            self._publish("planned", parent_id, None, None, now)
        return Plan(parent_id, tuple(ids), tuple(rows.keys))

    # -- the agent's side --------------------------------------------------------------------

    def claim(
        self, agent: str, specialist: str | None = None, lease_seconds: float | None = None
    ) -> Task | None:
        """Claim the oldest ready subtask (lowest id), of one specialist if given.

        Returns None when nothing is ready. The claim lasts ``lease_seconds`` (default: the
        orchestrator's); renew it with :meth:`renew` for long work. Tasks whose lease ran out are
        made ready again when no other task is ready, and otherwise by the first claim at least
        ``lease_check_interval`` seconds (default 1) after the previous check.
        """
        # Each check is a type test and a comparison when the argument is right (see checks.py).
        if type(agent) is not str or not agent or "\x00" in agent:
            agent = checks.text(agent, "agent")
        if specialist is not None and (
            type(specialist) is not str or not specialist or "\x00" in specialist
        ):
            specialist = checks.text(specialist, "specialist")
        lease = self.lease_seconds if lease_seconds is None else self._lease(lease_seconds)
        now = self.clock()
        with self._lock:
            checked = now >= self._next_lease_check
            if checked:
                self.store.reclaim_expired(now)
                self._next_lease_check = now + self.lease_check_interval
            # Text is checked for lone surrogates only when the driver fails to encode it.
            try:
                task = self.store.claim(agent, specialist, now, now + lease)
            except UnicodeEncodeError as exc:
                raise checks.unencodable(exc, {"agent": agent, "specialist": specialist}) from None
            if task is None and not checked and self.store.reclaim_expired(now):
                task = self.store.claim(agent, specialist, now, now + lease)
        if task is not None and self.events.active:
            self._publish("claimed", task.id, task.parent_id, agent, now)
        return task

    def complete(
        self, task_id: int, agent: str, result: Any = None, artifacts: Iterable[Any] = ()
    ) -> None:
        """Record the result of a subtask held by ``agent``; its dependents may become ready.

        ``result`` and ``artifacts`` must be JSON values that read back as written (see
        :func:`taskorch.codec.check`); anything else is refused before anything is written.
        """
        if type(task_id) is not int or not 0 < task_id <= MAX_ID:
            task_id = checks.task_id(task_id)
        if type(agent) is not str or not agent or "\x00" in agent:
            agent = checks.text(agent, "agent")
        encoded_result = None if result is None else codec.dumps(result, "result")
        if type(artifacts) is not tuple or artifacts:  # the default, (), is the common case
            artifacts = checks.artifacts(artifacts)
        encoded_artifacts = codec.dumps(artifacts, "artifacts") if artifacts else None
        now = self.clock()
        with self._lock:
            try:
                done = self.store.complete(task_id, agent, encoded_result, encoded_artifacts, now)
            except UnicodeEncodeError as exc:  # the json codec leaves surrogates for the driver
                raise checks.unencodable(
                    exc, {"agent": agent, "result": encoded_result, "artifacts": encoded_artifacts}
                ) from None
            if done is None:
                raise self._claim_error(task_id, agent, now, "complete")
        if self.events.active:
            self._finished("completed", task_id, agent, now, done)

    def fail(self, task_id: int, agent: str, error: str, retry: bool = False) -> None:
        """Record that a subtask failed. With ``retry`` it becomes ready again; otherwise it ends
        FAILED and every subtask that depends on it, directly or not, ends BLOCKED."""
        task_id = checks.task_id(task_id)
        agent = checks.text(agent, "agent")
        error = checks.text(error, "error", empty=True)
        retry = checks.flag(retry, "retry")
        now = self.clock()
        with self._lock:
            try:
                if retry:
                    if not self.store.retry(task_id, agent, error, now):
                        raise self._claim_error(task_id, agent, now, "fail")
                    done = None
                else:
                    done = self.store.fail(task_id, agent, error, now)
                    if done is None:
                        raise self._claim_error(task_id, agent, now, "fail")
            except UnicodeEncodeError as exc:
                raise checks.unencodable(exc, {"agent": agent, "error": error}) from None
        if self.events.active:
            if done is None:
                self._publish("released", task_id, None, agent, now)
            else:
                self._finished("failed", task_id, agent, now, done)

    def renew(self, task_id: int, agent: str, lease_seconds: float | None = None) -> None:
        """Extend ``agent``'s lease on a task it holds to ``lease_seconds`` from now."""
        task_id = checks.task_id(task_id)
        agent = checks.text(agent, "agent")
        lease = self._lease(lease_seconds)
        now = self.clock()
        with self._lock:
            try:
                renewed = self.store.renew(task_id, agent, now, now + lease)
            except UnicodeEncodeError as exc:
                raise checks.unencodable(exc, {"agent": agent}) from None
            if not renewed:
                raise self._claim_error(task_id, agent, now, "renew")

    def release(self, task_id: int, agent: str) -> None:
        """Give a held task back unfinished: it is ready again for any agent."""
        task_id = checks.task_id(task_id)
        agent = checks.text(agent, "agent")
        now = self.clock()
        with self._lock:
            try:
                released = self.store.release(task_id, agent, now)
            except UnicodeEncodeError as exc:
                raise checks.unencodable(exc, {"agent": agent}) from None
            if not released:
                raise self._claim_error(task_id, agent, now, "release")
        if self.events.active:
            self._publish("released", task_id, None, agent, now)

    def context(self, task_id: int) -> dict[str, Any]:
        """The specialist context of a subtask: goal, plan context, the subtask, its role and the
        results of the subtasks it depends on. A fresh, JSON-serializable dict."""
        if type(task_id) is not int or not 0 < task_id <= MAX_ID:
            task_id = checks.task_id(task_id)
        result: dict[str, Any] = codec.loads(self.context_json(task_id))
        return result

    def context_json(self, task_id: int) -> str:
        """:meth:`context` as JSON text, ready to send to an agent; cached once it is final."""
        if type(task_id) is not int or not 0 < task_id <= MAX_ID:
            task_id = checks.task_id(task_id)
        cached = self._contexts.get(task_id)
        if cached is not None:
            return cached
        with self._lock:
            task = self.store.get(task_id)
            if task is None or task.parent_id is None:
                raise (
                    UnknownTaskError(task_id)
                    if task is None
                    else InvalidTransitionError(
                        f"task {task_id} is a plan's parent; contexts belong to subtasks"
                    )
                )
            return self._context_json_of(task)

    def _context_json_of(self, task: Task) -> str:
        """:meth:`context_json` of a subtask just read or claimed (the agent runtime has it in
        hand after a claim), without reading it again. Its dependencies are read as usual."""
        cached = self._contexts.get(task.id)
        if cached is not None:
            return cached
        parent_id = task.parent_id
        if parent_id is None:
            raise InvalidTransitionError(
                f"task {task.id} is a plan's parent; contexts belong to subtasks"
            )
        with self._lock:
            plan = self._plans.get(parent_id)
            if plan is None:
                parent = self.store.get(parent_id)
                assert parent is not None
                plan = (parent.title, self.store.plan_context(parent_id))
                self._plans.put(parent_id, plan)
            deps = self.store.dependencies(task.id)
        goal, plan_context = plan
        # Everything in it was read back from the store, so it is JSON already: no walk.
        text = codec.encode(
            {
                "format": codec.FORMAT_VERSION,
                "goal": goal,
                "plan": {"id": parent_id, "context": plan_context},
                "task": {
                    "id": task.id,
                    "key": task.key,
                    "title": task.title,
                    "description": task.description,
                },
                "role": task.specialist,
                "dependencies": [
                    {
                        "id": d.id,
                        "key": d.key,
                        "title": d.title,
                        "specialist": d.specialist,
                        "result": d.result,
                        "artifacts": list(d.artifacts),
                    }
                    for d in deps
                ],
            }
        )
        if all(d.status is TaskStatus.COMPLETED for d in deps):
            self._contexts.put(task.id, text)
        return text

    # -- reading -----------------------------------------------------------------------------

    def get(self, task_id: int) -> Task:
        """The task with this id; :class:`~taskorch.UnknownTaskError` if there is none."""
        if type(task_id) is not int or not 0 < task_id <= MAX_ID:
            task_id = checks.task_id(task_id)
        with self._lock:
            task = self.store.get(task_id)
        if task is None:
            raise UnknownTaskError(task_id)
        return task

    def subtasks(self, parent_id: int) -> list[Task]:
        """A plan's subtasks in the order they were planned."""
        parent = self.get(checks.task_id(parent_id, "parent_id"))
        if parent.parent_id is not None:
            raise InvalidTransitionError(f"task {parent_id} is a subtask, not a plan's parent")
        with self._lock:
            return self.store.subtasks(parent_id)

    def tasks(self, status: str | None = None, after: int = 0, limit: int = 100) -> list[Task]:
        """Tasks (parents and subtasks) by id, optionally of one status; page with ``after``."""
        if status is not None:
            status = checks.choice(status, "status", STATUS_VALUES)
        after = checks.count(after, "after", high=MAX_ID)
        limit = checks.count(limit, "limit", high=MAX_ID)
        with self._lock:
            return self.store.list_tasks(status, after, limit)

    def synthesize(self, parent_id: int, partial: bool = False) -> dict[str, Any]:
        """The plan's combined results, in planned order.

        Raises :class:`~taskorch.InvalidTransitionError` while subtasks remain unfinished,
        unless ``partial`` is true.
        """
        parent_id = checks.task_id(parent_id, "parent_id")
        partial = checks.flag(partial, "partial")
        parent = self.get(parent_id)
        subtasks = self.subtasks(parent_id)
        unfinished = [t for t in subtasks if not t.status.is_terminal]
        if unfinished and not partial:
            raise InvalidTransitionError(
                f"plan {parent_id} has {len(unfinished)} unfinished subtask(s); wait for them,"
                " or pass partial=True"
            )
        with self._lock:
            plan_context = self.store.plan_context(parent_id)
        counts: dict[str, int] = {}
        for t in subtasks:
            counts[t.status.value] = counts.get(t.status.value, 0) + 1
        return {
            "format": codec.FORMAT_VERSION,
            "plan_id": parent_id,
            "goal": parent.title,
            "status": parent.status.value,
            "finished": not unfinished,
            "context": plan_context,
            "counts": counts,
            "results": [
                {
                    "id": t.id,
                    "key": t.key,
                    "title": t.title,
                    "specialist": t.specialist,
                    "status": t.status.value,
                    "result": t.result,
                    "artifacts": list(t.artifacts),
                    "error": t.error,
                }
                for t in subtasks
            ],
        }

    def status(self) -> Status:
        """Counts by state over the whole store, from indexes only."""
        with self._lock:
            subtasks, plans = self.store.counts()
        return Status(subtasks, plans)

    def cancel(self, parent_id: int) -> int:
        """Cancel a plan: its unfinished subtasks end CANCELLED. Returns how many."""
        parent = self.get(checks.task_id(parent_id, "parent_id"))
        if parent.parent_id is not None:
            raise InvalidTransitionError(f"task {parent_id} is a subtask; cancel its plan instead")
        now = self.clock()
        with self._lock:
            n = self.store.cancel(parent_id, now)
        if self.events.active:
            self._publish("cancelled", parent_id, None, None, now)
        return n

    @contextmanager
    def batch(self) -> Iterator[Orchestrator]:
        """Run several operations in one transaction with one commit (group commit).

        An operation that raises inside the batch is undone on its own; an exception that leaves
        the ``with`` block undoes the whole batch. Other threads wait until the batch ends, except
        on a thread-safe store, where they go on with connections of their own.
        """
        with self._lock, self.store.transaction():
            yield self

    # -- events and life cycle ---------------------------------------------------------------

    def subscribe(self, maxsize: int = 1000, kinds: set[str] | None = None) -> Subscription:
        """Subscribe to state changes (see :mod:`taskorch.events`)."""
        return self.events.subscribe(maxsize, kinds)

    def close(self) -> None:
        """Close the store. Idempotent."""
        if not self._closed:
            self._closed = True
            with self._lock:
                self.store.close()

    def __enter__(self) -> Orchestrator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ---------------------------------------------------------------------------

    def _lease(self, lease_seconds: object) -> float:
        if lease_seconds is None:
            return self.lease_seconds
        t = type(lease_seconds)
        # NaN fails the comparison, so this also refuses it (a NaN lease would never expire).
        if (t is float or t is int) and 0 < lease_seconds <= MAX_SECONDS:  # type: ignore[operator]
            return lease_seconds  # type: ignore[return-value]
        return checks.seconds(lease_seconds, "lease_seconds")

    def _publish(
        self, kind: str, task_id: int, parent_id: int | None, agent: str | None, at: float
    ) -> None:
        self.events.publish(Event(kind, task_id, parent_id, agent, at))

    def _finished(self, kind: str, task_id: int, agent: str, now: float, done: Finished) -> None:
        self._publish(kind, task_id, done.parent_id, agent, now)
        if done.plan_status != TaskStatus.ACTIVE:
            self._publish("plan_finished", done.parent_id, None, None, now)

    def _claim_error(self, task_id: int, agent: str, now: float, action: str) -> TaskorchError:
        """Why ``agent`` could not act on ``task_id``: read the task and say precisely."""
        task = self.store.get(task_id)
        if task is None:
            return UnknownTaskError(task_id)
        if task.status is not TaskStatus.CLAIMED:
            return InvalidTransitionError(
                f"cannot {action} task {task_id}: it is {task.status.value}, not claimed"
            )
        if task.agent != agent:
            return NotClaimedError(
                f"cannot {action} task {task_id}: it is claimed by {task.agent!r}, not {agent!r}"
            )
        return LeaseExpiredError(
            f"cannot {action} task {task_id}: {agent!r}'s lease expired"
            f" {now - (task.lease_expires or now):.3f}s ago; claim a task again"
        )
