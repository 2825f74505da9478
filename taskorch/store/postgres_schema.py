"""The PostgreSQL schema: numbered migrations, applied under an advisory lock.

Each orchestrator database lives in its own PostgreSQL schema (``?schema=``, default
``taskorch``), so several taskorch databases can share a server database, and tests use one schema
each. The version is recorded in the ``meta`` table.

Index choices follow the queries in ``postgres_sql.py``; each index costs the writes that touch
it, so there are few:

- ``tasks_status`` on ``(status, id)``, partial: it leaves out 'pending' and 'completed', the
  states most tasks are in, and (since version 2) 'active', a running plan's parent, which no
  query looks up there (plans are found through ``tasks_plan_status``). It is the ready queue
  (a claim takes the lowest id with status 'ready' that it can lock, ``FOR UPDATE SKIP
  LOCKED``), the lease sweep (the 'claimed' range) and what ``status()`` counts, with each
  plan's ``size`` and ``waiting``.
- ``tasks_ready_by_specialist`` on ``(specialist, id)``: claims filtered by specialist.
- ``tasks_plan_status``: plans by state; partial, one entry per plan.
- ``tasks_parent``: a plan's subtasks. Ids come from a sequence shared by concurrent writers, so
  a plan's subtasks are not one id range as in SQLite; they are in planned order by id.

The dependency graph is kept in the rows, as arrays of task ids: ``deps`` (what a subtask needs,
for its context) and ``dependents`` (what it releases on completion, in O(out-degree)).
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from ..errors import CorruptDatabaseError, SchemaVersionError
from .rows import tasks_table

SCHEMA_VERSION = 2

# pg_advisory_xact_lock(LOCK_CLASS, hashtext(schema)): one lock per schema, so that creating one
# schema does not wait for another.
LOCK_CLASS = 0x7A5C

MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        tasks_table(id="BIGINT", id_list="BIGINT[]", time="DOUBLE PRECISION"),
        "CREATE SEQUENCE tasks_id_seq OWNED BY tasks.id",
        """CREATE INDEX tasks_status ON tasks (status, id)
           WHERE status NOT IN ('pending', 'completed')""",
        """CREATE INDEX tasks_ready_by_specialist ON tasks (specialist, id)
           WHERE status = 'ready'""",
        "CREATE INDEX tasks_plan_status ON tasks (status) WHERE parent_id IS NULL",
        "CREATE INDEX tasks_parent ON tasks (parent_id, id) WHERE parent_id IS NOT NULL",
        "INSERT INTO meta (key, value) VALUES ('codec_format', '1')",
    ),
    2: (
        "DROP INDEX tasks_status",
        """CREATE INDEX tasks_status ON tasks (status, id)
           WHERE status NOT IN ('pending', 'completed', 'active')""",
    ),
}

_META = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"


def read_version(conn: psycopg.Connection[tuple[object, ...]]) -> int:
    """The schema version of the search path's schema; 0 when taskorch never wrote there."""
    if conn.execute("SELECT to_regclass('meta')").fetchone() == (None,):
        return 0
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return 0 if row is None else int(str(row[0]))


def migrate(conn: psycopg.Connection[tuple[object, ...]], schema: str) -> None:
    """Bring ``schema`` to :data:`SCHEMA_VERSION`; ``conn`` is in autocommit mode with the
    search path set to ``schema``.

    Several processes may open a new database at once: the advisory lock makes one of them create
    the schema while the others wait, then re-read the version and find nothing to do.
    """
    if _checked(read_version(conn), schema) == SCHEMA_VERSION:
        return
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (LOCK_CLASS, schema))
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        version = _checked(read_version(conn), schema)
        if version == 0 and conn.execute("SELECT to_regclass('tasks')").fetchone() != (None,):
            raise CorruptDatabaseError(
                f"schema {schema!r} already has a 'tasks' table that taskorch did not create;"
                " choose another schema with ?schema= in the URL"
            )
        conn.execute(_META)
        for step in range(version + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[step]:
                conn.execute(statement)
        conn.execute(
            """INSERT INTO meta (key, value) VALUES ('schema_version', %s)
               ON CONFLICT (key) DO UPDATE SET value = excluded.value""",
            (str(SCHEMA_VERSION),),
        )


def _checked(version: int, schema: str) -> int:
    if version > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"schema {schema!r} has version {version}, newer than this taskorch supports"
            f" ({SCHEMA_VERSION}); upgrade taskorch"
        )
    return version
