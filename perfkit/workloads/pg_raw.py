"""Bare psycopg: the physical work of taskorch's PostgreSQL operations, done by hand.

The references of :mod:`perfkit.workloads.pg_workloads` (``raw_pg_*``) run these on the same server
in the same run, so that ours/raw can be read from one result set. The schema is the least a correct
task store needs: a primary key, one index on ``(status, id)`` (the ready queue, the counts by
state, the ready listing) and a dependency table with an index to find a task's dependents.
Each operation is one statement, so one round trip and one commit (autocommit): the floor that
taskorch's statements, round trips and Python are compared with.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

__all__ = [
    "CLAIM",
    "COMPLETE",
    "COUNTS",
    "GET",
    "PLAN",
    "READY",
    "SCHEMA",
    "claim",
    "complete",
    "connect",
    "plan_args",
]

SCHEMA = (
    """CREATE TABLE tasks (id BIGSERIAL PRIMARY KEY, parent_id BIGINT, key TEXT,
        title TEXT NOT NULL, specialist TEXT, description TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL, waiting INTEGER NOT NULL DEFAULT 0, agent TEXT,
        lease_expires DOUBLE PRECISION, attempts INTEGER NOT NULL DEFAULT 0, result TEXT,
        created_at DOUBLE PRECISION NOT NULL, updated_at DOUBLE PRECISION NOT NULL)""",
    "CREATE INDEX tasks_status ON tasks (status, id)",
    "CREATE TABLE edges (task_id BIGINT NOT NULL, depends_on BIGINT NOT NULL)",
    "CREATE INDEX edges_depends_on ON edges (depends_on)",
)

# A plan in one statement: the parent, its subtasks (pending until their dependencies complete)
# and the dependency edges, by key within the plan; it returns the subtasks' ids.
PLAN = """
    WITH parent AS (
        INSERT INTO tasks (title, status, waiting, created_at, updated_at)
        VALUES (%(goal)s, 'active', %(size)s, %(now)s, %(now)s) RETURNING id
    ), subs AS (
        INSERT INTO tasks (parent_id, key, title, specialist, description, status, waiting,
            created_at, updated_at)
        SELECT (SELECT id FROM parent), u.key, u.title, u.specialist, u.description,
            CASE WHEN u.waiting > 0 THEN 'pending' ELSE 'ready' END, u.waiting, %(now)s, %(now)s
        FROM unnest(%(keys)s::text[], %(titles)s::text[], %(specialists)s::text[],
                    %(descriptions)s::text[], %(waiting)s::int[])
            AS u (key, title, specialist, description, waiting)
        RETURNING id, key
    ), edges AS (
        INSERT INTO edges (task_id, depends_on)
        SELECT s.id, d.id FROM unnest(%(child)s::text[], %(needs)s::text[]) AS e (child, needs)
        JOIN subs s ON s.key = e.child JOIN subs d ON d.key = e.needs
    )
    SELECT id FROM subs ORDER BY id"""

CLAIM = """
    UPDATE tasks SET status = 'claimed', agent = %(agent)s, lease_expires = %(until)s,
        attempts = attempts + 1, updated_at = %(now)s
    WHERE id = (SELECT id FROM tasks WHERE status = 'ready' ORDER BY id LIMIT 1
                FOR UPDATE SKIP LOCKED)
    RETURNING id"""

# The task completed if the agent holds it, its dependents released, its plan's count updated.
COMPLETE = """
    WITH done AS (
        UPDATE tasks SET status = 'completed', result = %(result)s, lease_expires = NULL,
            updated_at = %(now)s
        WHERE id = %(id)s AND status = 'claimed' AND agent = %(agent)s RETURNING parent_id
    ), released AS (
        UPDATE tasks SET waiting = waiting - 1,
            status = CASE WHEN waiting = 1 THEN 'ready' ELSE status END, updated_at = %(now)s
        WHERE id IN (SELECT task_id FROM edges WHERE depends_on = %(id)s)
            AND status = 'pending' AND EXISTS (SELECT 1 FROM done)
    )
    UPDATE tasks SET waiting = waiting - 1, updated_at = %(now)s
    FROM done WHERE tasks.id = done.parent_id
    RETURNING tasks.id"""

GET = "SELECT * FROM tasks WHERE id = %s"
COUNTS = "SELECT status, count(*) FROM tasks GROUP BY status"
READY = "SELECT * FROM tasks WHERE status = 'ready' ORDER BY id LIMIT %s"


def connect(url: str, schema: str, create: bool = True) -> Any:
    """An autocommit connection whose search path is ``schema``; with ``create``, the schema
    and its tables are made first."""
    import psycopg

    conn = psycopg.connect(url, autocommit=True, options=f"-c search_path={schema}")
    if create:
        with conn.transaction():
            conn.execute(f'CREATE SCHEMA "{schema}"')
            for statement in SCHEMA:
                conn.execute(statement)
    return conn


def plan_args(goal: str, spec: Sequence[dict[str, Any]], now: float = 1.0) -> dict[str, Any]:
    """The parameters of :data:`PLAN` for the subtasks ``spec`` (as :mod:`perfkit.workloads.plans`
    writes them)."""
    deps = [list(s.get("depends_on") or ()) for s in spec]
    return {
        "goal": goal,
        "size": len(spec),
        "now": now,
        "keys": [s["key"] for s in spec],
        "titles": [s["title"] for s in spec],
        "specialists": [s["specialist"] for s in spec],
        "descriptions": [s.get("description", "") for s in spec],
        "waiting": [len(d) for d in deps],
        "child": [s["key"] for s, d in zip(spec, deps, strict=True) for _ in d],
        "needs": [n for d in deps for n in d],
    }


def claim(conn: Any, agent: str) -> int | None:
    """Claim the oldest ready task for ``agent`` (a lease of a minute); its id, or None."""
    now = time.time()
    row = conn.execute(CLAIM, {"agent": agent, "until": now + 60, "now": now}).fetchone()
    return None if row is None else int(row[0])


def complete(conn: Any, task_id: int, agent: str) -> None:
    """Complete a task ``agent`` holds; :class:`RuntimeError` when it does not hold it."""
    args = {"id": task_id, "agent": agent, "result": '"done"', "now": time.time()}
    if conn.execute(COMPLETE, args).fetchone() is None:
        raise RuntimeError(f"task {task_id} was not held by {agent} at completion")
