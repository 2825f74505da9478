"""The SQLite schema, as numbered migrations recorded in ``PRAGMA user_version``.

Index choices follow the queries in ``sqlite.py`` (a test checks them with EXPLAIN QUERY PLAN):

- ``tasks_claimable``: claim takes the task claimable longest: ``available_at`` is when a ready task
  became ready, or when a claimed task's lease runs out, and NULL otherwise; the index is partial,
  so pending and finished tasks cost nothing in it.
- ``tasks_claimable_by_specialist``: the same, for claims filtered by specialist.
- ``tasks_status``: ``status()`` counts each state over an index range, and total ``count(*)``
  gives the rest, so it reads no table rows.
- ``tasks_plan_status``: the same for parents only, a small partial index.
- ``deps`` is keyed (depends_on, task_id): completing a task finds its dependents in O(out-degree).
  A subtask's own dependencies are kept in its row (``deps``, a JSON list) for contexts.

A plan's subtasks get consecutive ids right after their parent's (a plan is written in one
exclusive transaction), so a plan's subtasks are a primary-key range and need no index.
"""

from __future__ import annotations

SCHEMA_VERSION = 1

MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """
        CREATE TABLE tasks (
            id INTEGER PRIMARY KEY,
            parent_id INTEGER REFERENCES tasks (id),
            key TEXT,
            title TEXT NOT NULL,
            specialist TEXT,
            description TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL,
            waiting INTEGER NOT NULL DEFAULT 0,
            failures INTEGER NOT NULL DEFAULT 0,
            size INTEGER NOT NULL DEFAULT 0,
            dependents INTEGER NOT NULL DEFAULT 0,
            deps TEXT,
            available_at REAL,
            agent TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            result TEXT,
            error TEXT,
            artifacts TEXT,
            context TEXT,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        )
        """,
        "CREATE INDEX tasks_claimable ON tasks (available_at) WHERE available_at IS NOT NULL",
        """CREATE INDEX tasks_claimable_by_specialist ON tasks (specialist, available_at)
           WHERE available_at IS NOT NULL""",
        "CREATE INDEX tasks_status ON tasks (status)",
        "CREATE INDEX tasks_plan_status ON tasks (status, parent_id) WHERE parent_id IS NULL",
        """
        CREATE TABLE deps (
            depends_on INTEGER NOT NULL,
            task_id INTEGER NOT NULL,
            PRIMARY KEY (depends_on, task_id)
        ) WITHOUT ROWID
        """,
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "INSERT INTO meta (key, value) VALUES ('codec_format', '1')",
    ),
}
