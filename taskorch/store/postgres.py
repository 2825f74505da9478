"""The PostgreSQL backend: for fleets of agents on many machines, many threads per process.

``postgresql://user:password@host:port/dbname?schema=taskorch&pool_size=10&pool_timeout=30``

Connections come from a :class:`psycopg_pool.ConnectionPool`. An operation checks one out for as
long as it runs; a transaction (``Orchestrator.batch()``) pins one to the calling thread until it
ends, and operations inside it run on that connection, each within a savepoint, so one that fails
is undone alone. The store is therefore safe to share between threads without the engine's lock
(:attr:`PostgresStore.thread_safe`). A caller that cannot get a connection within ``pool_timeout``
gets :class:`~taskorch.PoolTimeoutError`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.abc import Params
from psycopg_pool import ConnectionPool

from .. import codec
from ..models import Task
from . import Finished, NewSubtasks, Store
from . import postgres_sql as q
from .postgres_errors import Conn, connect_error, translate, translated
from .postgres_options import OPTION_NAMES, describe, parse_url
from .postgres_schema import migrate
from .rows import (
    decode_context,
    decode_task,
    decode_tasks,
    in_order,
    new_plan_status,
    status_counts,
)

# The most subtasks a plan written in one statement has; a larger one is written in a
# transaction of two (``postgres_sql.INSERT_PARENT``, ``INSERT_SUBTASKS``), which scale better.
ONE_STATEMENT_PLAN = 100


class PostgresStore:
    """The server backend: ``FOR UPDATE SKIP LOCKED`` claims, a connection pool, one schema.

    Options (URL query or keywords): ``schema``, ``pool_size``, ``pool_timeout``,
    ``busy_timeout``, ``durability``, ``connect_timeout``, ``statement_timeout``; see
    :class:`~taskorch.store.postgres_options.Options`. Other query parameters go to libpq.
    """

    thread_safe = True  # each thread gets a connection of its own: no engine-wide lock needed
    OPTIONS = OPTION_NAMES

    def __init__(self, url: str, **options: Any) -> None:
        self.url = url
        conninfo, self.options = parse_url(url, options)
        self.schema = self.options.schema
        self.pool_size = self.options.pool_size
        self.pool_timeout = self.options.pool_timeout
        self.busy_timeout = self.options.busy_timeout
        self._where = describe(conninfo, self.schema)
        self._local = threading.local()
        # libpq splits ``options`` at spaces unless they are escaped.
        settings = " ".join(
            f"-c {k}=" + v.replace("\\", "\\\\").replace(" ", "\\ ")
            for k, v in self.options.settings().items()
        )
        given = psycopg.conninfo.conninfo_to_dict(conninfo).get("options")
        conninfo = psycopg.conninfo.make_conninfo(
            conninfo, options=f"{given} {settings}" if given else settings
        )
        kwargs: dict[str, Any] = {"autocommit": True}
        try:
            with psycopg.connect(conninfo, **kwargs) as conn:
                migrate(conn, self.schema)
        except psycopg.Error as exc:
            raise connect_error(exc, self._where) from exc
        self.pool: ConnectionPool[Conn] = ConnectionPool(
            conninfo,
            kwargs=kwargs,
            min_size=1,
            max_size=self.pool_size,
            timeout=self.pool_timeout,
            name=f"taskorch:{self.schema}",
            open=False,
        )
        try:
            # Wait for the first connection here, so that a short pool_timeout does not fail the
            # first operation of a store that is still connecting; connect_timeout bounds it.
            self.pool.open(wait=True, timeout=max(self.pool_timeout, self.options.connect_timeout))
        except psycopg.Error as exc:
            self.pool.close()
            raise connect_error(exc, self._where) from exc

    # -- connections and transactions ---------------------------------------------------------

    @contextmanager
    def _connection(self) -> Iterator[Conn]:
        """The connection for one statement: the thread's pinned one inside a transaction (in a
        savepoint, so that a failing statement does not abort the whole transaction), else a
        pooled one in autocommit mode."""
        pinned: Conn | None = getattr(self._local, "conn", None)
        if pinned is not None:
            with pinned.transaction():
                yield pinned
            return
        with self.pool.connection() as conn:
            yield conn

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[None]:
        """One transaction on a connection pinned to this thread; inside another it becomes a
        savepoint, so that a batch of operations shares one commit while each operation still
        rolls back on its own."""
        pinned: Conn | None = getattr(self._local, "conn", None)
        try:
            if pinned is not None:
                with pinned.transaction():
                    yield
                return
            with self.pool.connection() as conn:
                self._local.conn = conn
                try:
                    with conn.transaction():
                        yield
                finally:
                    self._local.conn = None
        except psycopg.Error as exc:  # BEGIN, COMMIT or the checkout itself failed
            raise translate(exc, self._where, self.options) from exc

    @contextmanager
    def _atomic(self) -> Iterator[Conn]:
        """A connection inside a new transaction, or inside a savepoint of the caller's."""
        pinned: Conn | None = getattr(self._local, "conn", None)
        with ExitStack() as stack:
            conn = pinned or stack.enter_context(self.pool.connection())
            stack.enter_context(conn.transaction())
            yield conn

    def _one(self, statement: str, args: Params) -> tuple[Any, ...] | None:
        """Run one statement; its first row."""
        with self._connection() as conn:
            return conn.execute(statement, args).fetchone()

    def _all(self, statement: str, args: Params) -> list[tuple[Any, ...]]:
        """Run one statement; all its rows."""
        with self._connection() as conn:
            return conn.execute(statement, args).fetchall()

    def _changed(self, statement: str, args: Params) -> bool:
        """Run one statement; whether it changed a row."""
        with self._connection() as conn:
            return conn.execute(statement, args).rowcount > 0

    @property
    def in_transaction(self) -> bool:
        """Whether the calling thread is inside :meth:`transaction`."""
        return getattr(self._local, "conn", None) is not None

    def describe(self) -> str:
        """Where the data lives, for messages: host, database and schema (no password)."""
        return self._where

    # -- writes ------------------------------------------------------------------------------

    @translated
    def insert_plan(
        self, goal: str, context: str | None, subtasks: NewSubtasks, now: float
    ) -> tuple[int, list[int]]:
        n = len(subtasks.keys)
        if n > ONE_STATEMENT_PLAN:
            return self._insert_large_plan(goal, context, subtasks, now)
        args = {
            "n": n,
            "goal": goal,
            "status": new_plan_status(n),
            "context": context,
            "now": now,
            "keys": list(subtasks.keys),
            "titles": list(subtasks.titles),
            "specialists": list(subtasks.specialists),
            "descriptions": list(subtasks.descriptions),
            "waiting": list(subtasks.waiting),
            "deps": list(map(_indices, subtasks.deps)),
            "dependents": list(map(_indices, subtasks.dependents)),
        }
        ids = [r[0] for r in self._all(q.INSERT_PLAN, args)]
        parent, ids = ids[0], ids[1:]
        return parent, ids

    def _insert_large_plan(
        self, goal: str, context: str | None, subtasks: NewSubtasks, now: float
    ) -> tuple[int, list[int]]:
        n = len(subtasks.keys)
        with self._atomic() as conn:
            head = (n, goal, new_plan_status(n), n, n, context, now, now)
            ids = [r[0] for r in conn.execute(q.INSERT_PARENT, head).fetchall()]
            parent, ids = ids[0], ids[1:]
            if n:
                conn.execute(
                    q.INSERT_SUBTASKS,
                    {
                        "parent": parent,
                        "now": now,
                        "ids": ids,
                        "keys": list(subtasks.keys),
                        "titles": list(subtasks.titles),
                        "specialists": list(subtasks.specialists),
                        "descriptions": list(subtasks.descriptions),
                        "waiting": list(subtasks.waiting),
                        "deps": [_array(ids, text) for text in subtasks.deps],
                        "dependents": [_array(ids, text) for text in subtasks.dependents],
                    },
                )
        return parent, ids

    @translated
    def claim(
        self, agent: str, specialist: str | None, now: float, lease_until: float
    ) -> Task | None:
        args = {"agent": agent, "until": lease_until, "now": now, "specialist": specialist}
        row = self._one(q.CLAIM if specialist is None else q.CLAIM_SPECIALIST, args)
        return None if row is None else decode_task(row)

    @translated
    def reclaim_expired(self, now: float) -> int:
        with self._connection() as conn:
            return conn.execute(q.SWEEP, {"now": now}).rowcount

    def _finish(self, statement: str, args: Params) -> Finished | None:
        row = self._one(statement, args)
        return None if row is None else Finished(row[0], row[1])

    @translated
    def complete(
        self, task_id: int, agent: str, result: str | None, artifacts: str | None, now: float
    ) -> Finished | None:
        args = {"id": task_id, "agent": agent, "now": now, "failed": 0}
        return self._finish(q.COMPLETE, {**args, "result": result, "artifacts": artifacts})

    @translated
    def fail(self, task_id: int, agent: str, error: str, now: float) -> Finished | None:
        args = {"id": task_id, "agent": agent, "now": now, "failed": 1, "error": error}
        return self._finish(q.FAIL, args)

    @translated
    def retry(self, task_id: int, agent: str, error: str, now: float) -> bool:
        return self._changed(q.RETRY, {"id": task_id, "agent": agent, "now": now, "error": error})

    @translated
    def renew(self, task_id: int, agent: str, now: float, lease_until: float) -> bool:
        args = {"id": task_id, "agent": agent, "now": now, "until": lease_until}
        return self._changed(q.RENEW, args)

    @translated
    def release(self, task_id: int, agent: str, now: float) -> bool:
        return self._changed(q.RELEASE, {"id": task_id, "agent": agent, "now": now})

    @translated
    def cancel(self, parent_id: int, now: float) -> int:
        with self._atomic() as conn:
            args = {"parent": parent_id, "now": now}
            n = conn.execute(q.CANCEL, args).rowcount
            conn.execute(q.CANCEL_PARENT, args)
        return n

    # -- reads -------------------------------------------------------------------------------

    @translated
    def get(self, task_id: int) -> Task | None:
        row = self._one(q.GET, (task_id,))
        return None if row is None else decode_task(row)

    @translated
    def get_many(self, task_ids: Sequence[int]) -> list[Task]:
        return in_order(task_ids, self._all(q.GET_MANY, (list(task_ids),)))

    @translated
    def dependencies(self, task_id: int) -> list[Task]:
        return decode_tasks(self._all(q.DEPENDENCIES, (task_id,)))

    @translated
    def plan_context(self, parent_id: int) -> Any:
        return decode_context(self._one(q.PLAN_CONTEXT, (parent_id,)))

    @translated
    def subtasks(self, parent_id: int) -> list[Task]:
        return decode_tasks(self._all(q.SUBTASKS, (parent_id,)))

    @translated
    def list_tasks(self, status: str | None, after_id: int, limit: int) -> list[Task]:
        if status is None:
            return decode_tasks(self._all(q.LIST, (after_id, limit)))
        written = q.LIST_BY_STATUS.get(status)
        if written is None:
            return decode_tasks(self._all(q.LIST_STATUS, (status, after_id, limit)))
        return decode_tasks(self._all(written, (after_id, limit)))

    @translated
    def counts(self) -> tuple[dict[str, int], dict[str, int]]:
        states: dict[str, int] = {}
        plans: list[tuple[str, int, int]] = []
        unfinished = 0
        for is_plan, status, n, size, waiting in self._all(q.COUNTS, ()):
            if not is_plan:
                states[status] = n
                continue
            plans.append((status, n, size))
            if status == "active":
                unfinished += waiting
        return status_counts(states, plans, unfinished)

    def close(self) -> None:
        """Close every pooled connection. Idempotent."""
        self.pool.close()


def _array(ids: Sequence[int], indices: str) -> str | None:
    """The tasks at ``indices`` (a JSON list) of a plan as a PostgreSQL array literal
    (``{3,4}``), or None when there are none."""
    if indices == "[]":
        return None
    return "{" + ",".join(str(ids[i]) for i in codec.loads(indices)) + "}"


def _indices(indices: str) -> str | None:
    """Indices into a plan's subtasks (a JSON list, ``[0,2]``) as a PostgreSQL array literal
    (``{0,2}``), or None when there are none."""
    return None if indices == "[]" else "{" + indices[1:-1] + "}"


if TYPE_CHECKING:  # mypy checks that the backend fulfils the contract
    _: type[Store] = PostgresStore
