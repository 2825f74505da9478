"""The stores the PostgreSQL read workloads share: taskorch's, and the same rows in the bare
reference tables of :mod:`perfkit.workloads.pg_raw`. Each is built once per schema prefix, by
whichever session needs it first, under an advisory lock, vacuumed and analyzed, and marked complete
by a ``built`` table.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import taskorch

from ..harness.postgres import with_schema
from . import pg_raw
from .plans import subtasks

__all__ = ["build_raw_store", "build_store"]


def _once(url: str, schema: str, build: Callable[[], None]) -> None:
    """Run ``build`` unless ``schema`` is already complete (it holds ``built``), under an
    advisory lock so that concurrent sessions build it once."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (schema,))
        try:
            done = conn.execute("SELECT to_regclass(%s)", (f'"{schema}".built',)).fetchone()
            if done == (None,):
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')  # a partial build
                build()
                # A store at rest, as autovacuum leaves it: without this, the dead index entries
                # the build left and the planner's missing statistics stay until autovacuum
                # happens to come by, in the middle of some benchmark.
                tables = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s",
                                      (schema,)).fetchall()  # fmt: skip
                for (table,) in tables:
                    conn.execute(f'VACUUM ANALYZE "{schema}"."{table}"')
                conn.execute(f'CREATE TABLE "{schema}".built (n BIGINT)')
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (schema,))


def build_store(url: str, prefix: str, n: int) -> str:
    """The schema of a taskorch store of ``n`` subtasks shaped like
    :func:`perfkit.workloads.build_store`'s (plans of 100, 80 % finished, a few claimed)."""
    schema = f"{prefix}store_{n}"

    def build() -> None:
        plans, size = max(1, n // 100), min(100, n)
        finished = int(plans * 0.8)
        with taskorch.open(with_schema(url, schema), durability="off", pool_size=4) as orch:
            for p in range(finished):
                orch.plan(f"goal {p}", subtasks(size, fan_in=1))

            def drain(agent: str) -> None:
                while (task := orch.claim(agent)) is not None:
                    orch.complete(task.id, agent, result={"ok": True})

            with ThreadPoolExecutor(4) as pool:  # the store is thread-safe: 4 connections
                list(pool.map(drain, [f"builder-{i}" for i in range(4)]))
            for p in range(finished, plans):
                orch.plan(f"goal {p}", subtasks(size, fan_in=1))
            for _ in range(max(1, n // 1000)):
                orch.claim("holder", lease_seconds=3600 * 24 * 365)

    _once(url, schema, build)
    return schema


def build_raw_store(url: str, prefix: str, n: int) -> str:
    """The reference tables holding the rows of :func:`build_store`'s store, in the same
    states."""
    schema = f"{prefix}rawstore_{n}"

    def build() -> None:
        plans, size = max(1, n // 100), min(100, n)
        finished = int(plans * 0.8)
        with pg_raw.connect(url, schema) as conn, conn.transaction():
            for p in range(plans):
                conn.execute(pg_raw.PLAN, pg_raw.plan_args(f"goal {p}", subtasks(size)))
            conn.execute("UPDATE tasks SET status = 'completed', waiting = 0 WHERE id <= %s",
                         (finished * (size + 1),))  # fmt: skip
            conn.execute("""UPDATE tasks SET status = 'claimed', agent = 'holder' WHERE id IN
                (SELECT id FROM tasks WHERE status = 'ready' ORDER BY id LIMIT %s)""",
                         (max(1, n // 1000),))  # fmt: skip

    _once(url, schema, build)
    return schema
