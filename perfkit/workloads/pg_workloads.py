"""The PostgreSQL workloads: taskorch's core operations on a PostgreSQL server, its connection
pool under exhaustion, and a fleet of agents in several processes, each beside a bare-psycopg
reference (``raw_pg_*``, :mod:`perfkit.workloads.pg_raw`) that does the same physical work.

Registered like :mod:`perfkit.workloads` (the same :class:`~perfkit.workloads.Workload` and
decorator) in a registry of their own, :data:`WORKLOADS`, because they need a server:
``python -m leakcheck suite --registry perfkit.workloads.pg_workloads`` checks them for leaks. Each
session takes, besides its parameters, ``url`` (a server; default: the one the environment names,
:func:`perfkit.harness.postgres.server_url`) and ``prefix`` (the run's schema prefix; default: a
fresh one). Without a server, without psycopg, or on an engine without the PostgreSQL backend,
opening a session raises ``NotImplementedError`` saying why.

Every session works in schemas it created and drops them when it ends. The stores that the read
workloads share (``{prefix}store_{n}``, ``{prefix}rawstore_{n}``) are built once per prefix,
under an advisory lock, by whichever session needs them first; they are dropped by the session
that made up the prefix, or, when the prefix was given, by whoever gave it (the asv suite's
watchdog, :mod:`perfkit.harness.pg_server`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import taskorch

from ..harness.postgres import (
    ENV_URL,
    driver_problem,
    drop_schema,
    new_schema,
    run_prefix,
    server_url,
    with_schema,
)
from . import Step, Workload, cycle, pg_raw, workload
from .pg_pool import pool_round
from .pg_stores import build_raw_store, build_store
from .plans import independent, subtasks

__all__ = ["WORKLOADS"]

WORKLOADS: dict[str, Workload] = {}
pg_workload = partial(workload, registry=WORKLOADS)

STORE_SIZES = (10_000,)


def _server(url: str | None) -> str:
    """The server to use, or ``NotImplementedError`` saying why there is none."""
    problem = driver_problem()
    if problem:
        raise NotImplementedError(problem)
    found = url or server_url()
    if not found:
        raise NotImplementedError(
            f"no PostgreSQL server: set {ENV_URL}, or install the PostgreSQL server binaries"
            " (scripts/pg-server starts a throw-away one)"
        )
    return found


def _engine() -> None:
    try:
        import taskorch.store.postgres  # noqa: F401
    except ImportError as exc:
        raise NotImplementedError(f"this engine has no PostgreSQL backend ({exc})") from exc


@contextmanager
def _setting(url: str | None, prefix: str | None) -> Iterator[tuple[str, str, ExitStack]]:
    """The server, the schema prefix, and a stack closed at the end of the session (which drops
    every schema of the prefix when the prefix was made up here)."""
    server = _server(url)  # psycopg first: without it the engine's backend cannot load either
    _engine()
    with ExitStack() as stack:
        if prefix is None:
            prefix = run_prefix()
            from ..harness.postgres import drop_schemas

            stack.callback(drop_schemas, server, prefix)
        yield server, prefix, stack


def _orchestrator(
    stack: ExitStack, url: str, schema: str, **options: Any
) -> tuple[taskorch.Orchestrator, str]:
    """An orchestrator on ``schema`` (dropped when ``stack`` closes), and its URL."""
    stack.callback(drop_schema, url, schema)
    schema_url = with_schema(url, schema)
    return stack.enter_context(taskorch.open(schema_url, **options)), schema_url


def _raw(stack: ExitStack, url: str, schema: str) -> Any:
    """A bare psycopg connection on a new ``schema`` with the reference tables."""
    stack.callback(drop_schema, url, schema)
    conn = pg_raw.connect(url, schema)
    stack.callback(conn.close)
    return conn


# -- taskorch on PostgreSQL -------------------------------------------------------------------


@pg_workload("pg_plan", "PostgreSQL: plan a goal with n subtasks (a chain of dependencies)",
             reference="raw_pg_plan", requires=("Orchestrator.plan",), n=(1, 1000))  # fmt: skip
def pg_plan_session(
    directory: Path, n: int = 1, url: str | None = None, prefix: str | None = None
) -> Iterator[Step]:
    spec = subtasks(n)
    with _setting(url, prefix) as (server, pre, stack):
        orch, _ = _orchestrator(stack, server, new_schema(pre, "plan"))
        yield lambda: orch.plan("goal", spec)


@pg_workload("pg_claim_complete", "PostgreSQL: claim the oldest ready subtask and complete it",
             reference="raw_pg_claim_complete",
             requires=("Orchestrator.claim", "Orchestrator.complete"))  # fmt: skip
def pg_claim_complete_session(
    directory: Path, url: str | None = None, prefix: str | None = None, agent: str = "agent-1"
) -> Iterator[Step]:
    batch = independent(1000)
    with _setting(url, prefix) as (server, pre, stack):
        orch, _ = _orchestrator(stack, server, new_schema(pre, "cycle"))

        yield cycle(orch, agent, batch)


def _store_session(
    read: Callable[[taskorch.Orchestrator, int], Step], n: int, url: str | None, prefix: str | None
) -> Iterator[Step]:
    with _setting(url, prefix) as (server, pre, stack):
        schema = build_store(server, pre, n)
        orch = stack.enter_context(taskorch.open(with_schema(server, schema)))
        yield read(orch, n)


@pg_workload("pg_get", "PostgreSQL: read one task by id from a store of n tasks",
             reference="raw_pg_get", requires=("Orchestrator.get",), n=STORE_SIZES)  # fmt: skip
def pg_get_session(
    directory: Path, n: int = STORE_SIZES[0], url: str | None = None, prefix: str | None = None
) -> Iterator[Step]:
    yield from _store_session(lambda orch, n: partial(orch.get, n // 2), n, url, prefix)


@pg_workload("pg_status", "PostgreSQL: counts by state over a store of n tasks",
             reference="raw_pg_status", requires=("Orchestrator.status",),
             n=STORE_SIZES)  # fmt: skip
def pg_status_session(
    directory: Path, n: int = STORE_SIZES[0], url: str | None = None, prefix: str | None = None
) -> Iterator[Step]:
    yield from _store_session(lambda orch, n: orch.status, n, url, prefix)


@pg_workload("pg_ready_query", "PostgreSQL: the first 10 ready subtasks in a store of n tasks",
             reference="raw_pg_ready_query", requires=("Orchestrator.tasks",),
             n=STORE_SIZES)  # fmt: skip
def pg_ready_query_session(
    directory: Path, n: int = STORE_SIZES[0], url: str | None = None, prefix: str | None = None
) -> Iterator[Step]:
    yield from _store_session(
        lambda orch, n: partial(orch.tasks, status="ready", limit=10), n, url, prefix
    )


@pg_workload("pg_pool", "PostgreSQL: the pool exhausted (a caller times out) and recovered",
             reference="raw_pg_pool", requires=("PoolTimeoutError", "Orchestrator.batch"),
             pool_size=(4,))  # fmt: skip
def pg_pool_session(
    directory: Path,
    pool_size: int = 4,
    pool_timeout: float = 0.05,
    url: str | None = None,
    prefix: str | None = None,
) -> Iterator[Step]:
    """Each step: ``pool_size`` threads hold every connection (a batch each, around a claim);
    one more call waits ``pool_timeout`` and gets ``PoolTimeoutError``; ``pool_size`` callers
    queue (claim + complete) while the holders complete and let go; then ``pool_size`` callers
    claim and complete at once. Its time is about ``pool_timeout`` plus the recovery."""
    batch = independent(1000)
    agent = "agent-1"
    with _setting(url, prefix) as (server, pre, stack):
        orch, _ = _orchestrator(stack, server, new_schema(pre, "pool"), pool_size=pool_size,
                                pool_timeout=pool_timeout)  # fmt: skip
        threads = stack.enter_context(ThreadPoolExecutor(2 * pool_size))
        first = orch.plan("work", batch)
        refill = threading.Lock()

        def claim() -> taskorch.Task:
            task = orch.claim(agent)
            while task is None:
                with refill:
                    task = orch.claim(agent)
                    if task is None:
                        orch.plan("more work", batch)
            return task

        def hold(held: threading.Barrier, release: threading.Event) -> int:
            with orch.batch():  # pins a connection to this thread until the batch ends
                task = claim()
                held.wait(timeout=60)
                release.wait(timeout=60)
                orch.complete(task.id, agent, result="held")
            return task.id

        def cycle() -> int:
            task = claim()
            orch.complete(task.id, agent, result="done")
            return task.id

        probe = partial(orch.get, first.parent_id)
        yield lambda: pool_round(pool_size, hold, probe, taskorch.PoolTimeoutError, cycle,
                                  threads)  # fmt: skip


# -- a fleet of agents in several processes ---------------------------------------------------


@pg_workload("pg_fleet", "PostgreSQL: agents in p processes drain a plan of independent"
             " subtasks (each completed once); the step returns the round's figures",
             reference="raw_pg_fleet", requires=("Orchestrator.claim", "Orchestrator.complete"),
             processes=(2,))  # fmt: skip
def pg_fleet_session(
    directory: Path,
    processes: int = 2,
    tasks: int = 200,
    url: str | None = None,
    prefix: str | None = None,
) -> Iterator[Step]:
    from .pg_fleet import Fleet

    spec = independent(tasks)
    with _setting(url, prefix) as (server, pre, stack):
        orch, schema_url = _orchestrator(stack, server, new_schema(pre, "fleet"))
        fleet = stack.enter_context(Fleet("taskorch", processes, schema_url))
        yield lambda: fleet.round(orch.plan("fleet round", spec).task_ids)


# -- bare psycopg references ------------------------------------------------------------------


@pg_workload("raw_pg_plan", "bare psycopg: the rows and edges of a plan of n subtasks in one"
             " statement, one commit", n=(1, 1000))  # fmt: skip
def raw_pg_plan_session(
    directory: Path, n: int = 1, url: str | None = None, prefix: str | None = None
) -> Iterator[Step]:
    args = pg_raw.plan_args("goal", subtasks(n))
    with _setting(url, prefix) as (server, pre, stack):
        conn = _raw(stack, server, new_schema(pre, "rawplan"))
        yield lambda: conn.execute(pg_raw.PLAN, args).fetchall()


@pg_workload("raw_pg_claim_complete", "bare psycopg: claim (SKIP LOCKED) and complete, one"
             " statement each")  # fmt: skip
def raw_pg_claim_complete_session(
    directory: Path, url: str | None = None, prefix: str | None = None, agent: str = "agent-1"
) -> Iterator[Step]:
    refill = pg_raw.plan_args("more work", independent(1000))
    with _setting(url, prefix) as (server, pre, stack):
        conn = _raw(stack, server, new_schema(pre, "rawcycle"))

        def step() -> int:
            task_id = pg_raw.claim(conn, agent)
            if task_id is None:
                conn.execute(pg_raw.PLAN, refill)
                task_id = pg_raw.claim(conn, agent)
                assert task_id is not None
            pg_raw.complete(conn, task_id, agent)
            return task_id

        yield step


def _raw_store_session(
    query: str, args: tuple[Any, ...], n: int, url: str | None, prefix: str | None
) -> Iterator[Step]:
    with _setting(url, prefix) as (server, pre, stack):
        schema = build_raw_store(server, pre, n)
        conn = stack.enter_context(pg_raw.connect(server, schema, create=False))
        yield lambda: conn.execute(query, args).fetchall()


@pg_workload("raw_pg_get", "bare psycopg: one row by primary key from n rows", n=STORE_SIZES)
def raw_pg_get_session(
    directory: Path, n: int = STORE_SIZES[0], url: str | None = None, prefix: str | None = None
) -> Iterator[Step]:
    yield from _raw_store_session(pg_raw.GET, (n // 2,), n, url, prefix)


@pg_workload("raw_pg_status", "bare psycopg: count(*) by status over n rows", n=STORE_SIZES)
def raw_pg_status_session(
    directory: Path, n: int = STORE_SIZES[0], url: str | None = None, prefix: str | None = None
) -> Iterator[Step]:
    yield from _raw_store_session(pg_raw.COUNTS, (), n, url, prefix)


@pg_workload("raw_pg_ready_query", "bare psycopg: the first 10 ready rows by id from n rows",
             n=STORE_SIZES)  # fmt: skip
def raw_pg_ready_query_session(
    directory: Path, n: int = STORE_SIZES[0], url: str | None = None, prefix: str | None = None
) -> Iterator[Step]:
    yield from _raw_store_session(pg_raw.READY, (10,), n, url, prefix)


@pg_workload("raw_pg_pool", "bare psycopg_pool: the same exhaustion and recovery with the raw"
             " statements", pool_size=(4,))  # fmt: skip
def raw_pg_pool_session(
    directory: Path,
    pool_size: int = 4,
    pool_timeout: float = 0.05,
    url: str | None = None,
    prefix: str | None = None,
) -> Iterator[Step]:
    from psycopg_pool import ConnectionPool, PoolTimeout

    agent = "agent-1"
    refill = pg_raw.plan_args("more work", independent(1000))
    with _setting(url, prefix) as (server, pre, stack):
        schema = new_schema(pre, "rawpool")
        conn = _raw(stack, server, schema)
        conn.execute(pg_raw.PLAN, refill)
        pool = stack.enter_context(
            ConnectionPool(server, min_size=1, max_size=pool_size, timeout=pool_timeout,
                           kwargs={"autocommit": True, "options": f"-c search_path={schema}"})
        )  # fmt: skip
        threads = stack.enter_context(ThreadPoolExecutor(2 * pool_size))
        lock = threading.Lock()

        def claim(c: Any) -> int:
            task_id = pg_raw.claim(c, agent)
            while task_id is None:
                with lock:
                    task_id = pg_raw.claim(c, agent)
                    if task_id is None:
                        c.execute(pg_raw.PLAN, refill)
            return task_id

        def hold(held: threading.Barrier, release: threading.Event) -> int:
            with pool.connection() as c, c.transaction():
                task_id = claim(c)
                held.wait(timeout=60)
                release.wait(timeout=60)
                pg_raw.complete(c, task_id, agent)
            return task_id

        def cycle() -> int:
            with pool.connection() as c:
                task_id = claim(c)
                pg_raw.complete(c, task_id, agent)
            return task_id

        def exhausted() -> None:
            with pool.connection() as c:
                c.execute(pg_raw.GET, (1,)).fetchall()

        yield lambda: pool_round(pool_size, hold, exhausted, PoolTimeout, cycle, threads)


@pg_workload("raw_pg_fleet", "bare psycopg: the same fleet of processes with the raw"
             " statements", processes=(2,))  # fmt: skip
def raw_pg_fleet_session(
    directory: Path,
    processes: int = 2,
    tasks: int = 200,
    url: str | None = None,
    prefix: str | None = None,
) -> Iterator[Step]:
    from .pg_fleet import Fleet

    args = pg_raw.plan_args("fleet round", independent(tasks))
    with _setting(url, prefix) as (server, pre, stack):
        schema = new_schema(pre, "rawfleet")
        conn = _raw(stack, server, schema)
        fleet = stack.enter_context(Fleet("raw", processes, server, schema))

        def step() -> object:
            ids = [row[0] for row in conn.execute(pg_raw.PLAN, args).fetchall()]
            return fleet.round(ids)

        yield step
