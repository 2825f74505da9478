"""The SQLite backend: one file, WAL journal, one connection per orchestrator.

Durability (``?durability=`` in the URL) maps to ``PRAGMA synchronous``:

- ``normal`` (default): a committed transaction survives a crash of the process; a power loss or
  OS crash may roll back the last transactions, never corrupt the file (WAL + synchronous=NORMAL).
- ``full``: every commit is flushed to disk (fsync) before it returns; survives power loss.
- ``off``: no flushing at all; for throw-away databases and tests.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar
from urllib.parse import parse_qs, unquote

from .. import codec
from ..errors import (
    ConfigurationError,
    CorruptDatabaseError,
    DatabaseLockedError,
    SchemaVersionError,
    StorageError,
)
from ..models import Task, TaskStatus
from . import Finished, NewSubtask
from .schema import MIGRATIONS, SCHEMA_VERSION

DURABILITY = {"off": "OFF", "normal": "NORMAL", "full": "FULL"}

COLUMNS = (
    "id, parent_id, key, title, specialist, description, status, agent,"
    " CASE WHEN status = 'claimed' THEN available_at END, attempts, result, error, artifacts,"
    " created_at, updated_at"
)

SQL_GET = f"SELECT {COLUMNS} FROM tasks WHERE id = ?"
SQL_GET_MANY = f"SELECT {COLUMNS} FROM tasks WHERE id IN (SELECT value FROM json_each(?))"
SQL_CLAIM = f"""
    UPDATE tasks SET status = 'claimed', agent = ?, available_at = ?, attempts = attempts + 1,
        updated_at = ?
    WHERE id = (SELECT id FROM tasks WHERE available_at <= ? ORDER BY available_at LIMIT 1)
    RETURNING {COLUMNS}"""
SQL_CLAIM_SPECIALIST = f"""
    UPDATE tasks SET status = 'claimed', agent = ?, available_at = ?, attempts = attempts + 1,
        updated_at = ?
    WHERE id = (SELECT id FROM tasks WHERE specialist = ? AND available_at <= ?
                ORDER BY available_at LIMIT 1)
    RETURNING {COLUMNS}"""
_HELD = "id = ? AND status = 'claimed' AND agent = ? AND available_at > ?"
SQL_COMPLETE = f"""
    UPDATE tasks SET status = 'completed', result = ?, artifacts = ?, available_at = NULL,
        updated_at = ?
    WHERE {_HELD} RETURNING parent_id, dependents"""
SQL_FAIL = f"""
    UPDATE tasks SET status = 'failed', error = ?, available_at = NULL, updated_at = ?
    WHERE {_HELD} RETURNING parent_id, dependents"""
SQL_RETRY = f"""
    UPDATE tasks SET status = 'ready', error = ?, agent = NULL, available_at = ?, updated_at = ?
    WHERE {_HELD}"""
SQL_RENEW = f"UPDATE tasks SET available_at = ?, updated_at = ? WHERE {_HELD}"
SQL_RELEASE = f"""
    UPDATE tasks SET status = 'ready', agent = NULL, available_at = ?, updated_at = ?
    WHERE {_HELD}"""
SQL_UNBLOCK = """
    UPDATE tasks SET waiting = waiting - 1,
        status = CASE WHEN waiting = 1 THEN 'ready' ELSE status END,
        available_at = CASE WHEN waiting = 1 THEN ? ELSE available_at END, updated_at = ?
    WHERE id IN (SELECT task_id FROM deps WHERE depends_on = ?) AND status = 'pending'
    RETURNING id, status"""
SQL_BLOCK = """
    WITH RECURSIVE below (id) AS (
        SELECT task_id FROM deps WHERE depends_on = ?
        UNION SELECT deps.task_id FROM deps JOIN below ON deps.depends_on = below.id
    )
    UPDATE tasks SET status = 'blocked', available_at = NULL, updated_at = ?
    WHERE id IN below AND status = 'pending'
    RETURNING id"""
SQL_PARENT_DONE = """
    UPDATE tasks SET waiting = waiting - ?, failures = failures + ?,
        status = CASE WHEN waiting = ? THEN
            (CASE WHEN failures + ? > 0 THEN 'failed' ELSE 'completed' END) ELSE status END,
        updated_at = ?
    WHERE id = ? RETURNING status"""
SQL_INSERT_PARENT = """
    INSERT INTO tasks (parent_id, title, status, waiting, size, context, created_at, updated_at)
    VALUES (NULL, ?, ?, ?, ?, ?, ?, ?)"""
SQL_INSERT_SUBTASK = """
    INSERT INTO tasks (id, parent_id, key, title, specialist, description, status, waiting,
        dependents, deps, available_at, created_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"""
SQL_INSERT_DEP = "INSERT INTO deps (depends_on, task_id) VALUES (?, ?)"
SQL_SUBTASKS = f"""
    SELECT {COLUMNS} FROM tasks
    WHERE id > ? AND id <= ? + (SELECT size FROM tasks WHERE id = ?) ORDER BY id"""
SQL_CANCEL = """
    UPDATE tasks SET status = 'cancelled', available_at = NULL, updated_at = ?
    WHERE id > ? AND id <= ? + (SELECT size FROM tasks WHERE id = ? AND parent_id IS NULL)
      AND status IN ('pending', 'ready', 'claimed')"""
SQL_CANCEL_PARENT = """
    UPDATE tasks SET status = 'cancelled', waiting = 0, updated_at = ?
    WHERE id = ? AND parent_id IS NULL AND status = 'active'"""
SQL_LIST = f"SELECT {COLUMNS} FROM tasks WHERE id > ? ORDER BY id LIMIT ?"
SQL_LIST_STATUS = f"SELECT {COLUMNS} FROM tasks WHERE status = ? AND id > ? ORDER BY id LIMIT ?"
SQL_TOTAL = "SELECT count(*) FROM tasks"
SQL_COUNT_STATES = """
    SELECT status, count(*) FROM tasks INDEXED BY tasks_status
    WHERE status IN ('pending', 'ready', 'claimed', 'failed', 'blocked', 'cancelled', 'active')
    GROUP BY status"""
SQL_COUNT_PLANS = """
    SELECT status, count(*) FROM tasks INDEXED BY tasks_plan_status
    WHERE parent_id IS NULL GROUP BY status"""

P = ParamSpec("P")
R = TypeVar("R")


def translated(
    method: Callable[Concatenate[SQLiteStore, P], R],
) -> Callable[Concatenate[SQLiteStore, P], R]:
    """Turn sqlite3's exceptions into taskorch's, at the store boundary."""

    @functools.wraps(method)
    def wrapper(self: SQLiteStore, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise translate(exc, self.path) from exc

    return wrapper


def translate(exc: sqlite3.Error, path: str) -> StorageError:
    message = str(exc)
    if "locked" in message or "busy" in message:
        return DatabaseLockedError(
            f"{path}: database is locked by another connection ({message}); retry later, or raise"
            " ?busy_timeout= in the URL"
        )
    if isinstance(exc, sqlite3.DatabaseError) and (
        "not a database" in message or "malformed" in message or "corrupt" in message
    ):
        return CorruptDatabaseError(
            f"{path}: not a readable taskorch database ({message}); restore it from a backup or"
            " point taskorch at another file"
        )
    return StorageError(f"{path}: {message}")


def parse_url(url: str) -> tuple[str, dict[str, str]]:
    """``sqlite:///rel.db``, ``sqlite:////abs.db`` or ``sqlite:///:memory:`` → (path, options)."""
    rest = url.split("://", 1)[1]
    rest, _, query = rest.partition("?")
    if not rest.startswith("/"):
        raise ConfigurationError(f"bad SQLite URL {url!r}: write sqlite:///relative/path.db")
    options = {k: v[-1] for k, v in parse_qs(query).items()}
    return unquote(rest[1:]) or ":memory:", options


def decode_task(row: Sequence[Any]) -> Task:
    (tid, parent, key, title, specialist, description, status, agent, lease, attempts,
     result, error, artifacts, created, updated) = row  # fmt: skip
    return Task(
        tid, parent, key, title, specialist, description, TaskStatus(status), agent, lease,
        attempts, None if result is None else codec.loads(result), error,
        tuple(codec.loads(artifacts)) if artifacts else (), created, updated,
    )  # fmt: skip


class SQLiteStore:
    """The embedded default backend. Not shared across threads without the engine's lock."""

    def __init__(
        self,
        url: str,
        *,
        durability: str | None = None,
        busy_timeout: float | None = None,
    ) -> None:
        self.url = url
        self.path, options = parse_url(url)
        durability = durability or options.get("durability", "normal")
        if durability not in DURABILITY:
            raise ConfigurationError(
                f"unknown durability {durability!r}; use one of: {', '.join(DURABILITY)}"
            )
        self.durability = durability
        timeout = float(options.get("busy_timeout", 5.0) if busy_timeout is None else busy_timeout)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False,
                cached_statements=256,
            )  # fmt: skip
        except sqlite3.Error as exc:
            raise translate(exc, self.path) from exc
        try:
            self._prepare()
        except sqlite3.Error as exc:
            self.conn.close()
            raise translate(exc, self.path) from exc
        except BaseException:
            self.conn.close()
            raise

    def _prepare(self) -> None:
        conn = self.conn
        conn.execute(f"PRAGMA synchronous = {DURABILITY[self.durability]}")
        if self.path != ":memory:":
            # Switching to WAL waits on the busy timeout when another process is doing the same.
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA foreign_keys = OFF")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise SchemaVersionError(
                f"{self.path} has schema version {version}, newer than this taskorch supports"
                f" ({SCHEMA_VERSION}); upgrade taskorch"
            )
        # Several processes may open a new file at once: the exclusive transaction makes one of
        # them migrate while the others wait, then re-read the version and find nothing to do.
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            for step in range(version + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[step]:
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[None]:
        """One transaction; inside another it becomes a savepoint, so that a batch of operations
        (group commit) shares one commit while each operation still rolls back on its own."""
        conn = self.conn
        if conn.in_transaction:
            conn.execute("SAVEPOINT op")
            try:
                yield
            except BaseException:
                conn.execute("ROLLBACK TO op")
                conn.execute("RELEASE op")
                raise
            conn.execute("RELEASE op")
            return
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    # -- writes ------------------------------------------------------------------------------

    @translated
    def insert_plan(
        self, goal: str, context: str | None, subtasks: Sequence[NewSubtask], now: float
    ) -> tuple[int, list[int]]:
        conn = self.conn
        with self.transaction():
            status = "active" if subtasks else "completed"
            parent = conn.execute(
                SQL_INSERT_PARENT, (goal, status, len(subtasks), len(subtasks), context, now, now)
            ).lastrowid
            assert parent is not None
            ids = list(range(parent + 1, parent + 1 + len(subtasks)))
            conn.executemany(
                SQL_INSERT_SUBTASK,
                [
                    (
                        ids[i],
                        parent,
                        s.key,
                        s.title,
                        s.specialist,
                        s.description,
                        "pending" if s.depends_on else "ready",
                        len(s.depends_on),
                        s.dependents,
                        codec.dumps([ids[d] for d in s.depends_on]) if s.depends_on else None,
                        None if s.depends_on else now,
                        now,
                        now,
                    )
                    for i, s in enumerate(subtasks)
                ],
            )
            conn.executemany(
                SQL_INSERT_DEP,
                [(ids[d], ids[i]) for i, s in enumerate(subtasks) for d in s.depends_on],
            )
        return parent, ids

    @translated
    def claim(
        self, agent: str, specialist: str | None, now: float, lease_until: float
    ) -> Task | None:
        if specialist is None:
            rows = self.conn.execute(SQL_CLAIM, (agent, lease_until, now, now)).fetchall()
        else:
            rows = self.conn.execute(
                SQL_CLAIM_SPECIALIST, (agent, lease_until, now, specialist, now)
            ).fetchall()
        return decode_task(rows[0]) if rows else None

    def _finish(
        self, sql: str, args: tuple[Any, ...], failed: bool, now: float, task_id: int
    ) -> Finished | None:
        conn = self.conn
        with self.transaction():
            rows = conn.execute(sql, args).fetchall()
            if not rows:
                return None
            parent_id, dependents = rows[0]
            released: tuple[int, ...] = ()
            ended = 1
            if dependents and failed:
                released = tuple(r[0] for r in conn.execute(SQL_BLOCK, (task_id, now)))
                ended += len(released)
            elif dependents:
                changed = conn.execute(SQL_UNBLOCK, (now, now, task_id)).fetchall()
                released = tuple(r[0] for r in changed if r[1] == "ready")
            plan_status = conn.execute(
                SQL_PARENT_DONE, (ended, int(failed), ended, int(failed), now, parent_id)
            ).fetchall()[0][0]
        return Finished(parent_id, plan_status, released)

    @translated
    def complete(
        self, task_id: int, agent: str, result: str | None, artifacts: str | None, now: float
    ) -> Finished | None:
        args = (result, artifacts, now, task_id, agent, now)
        return self._finish(SQL_COMPLETE, args, False, now, task_id)

    @translated
    def fail(self, task_id: int, agent: str, error: str, now: float) -> Finished | None:
        return self._finish(SQL_FAIL, (error, now, task_id, agent, now), True, now, task_id)

    @translated
    def retry(self, task_id: int, agent: str, error: str, now: float) -> bool:
        args = (error, now, now, task_id, agent, now)
        return self.conn.execute(SQL_RETRY, args).rowcount > 0

    @translated
    def renew(self, task_id: int, agent: str, now: float, lease_until: float) -> bool:
        return self.conn.execute(SQL_RENEW, (lease_until, now, task_id, agent, now)).rowcount > 0

    @translated
    def release(self, task_id: int, agent: str, now: float) -> bool:
        return self.conn.execute(SQL_RELEASE, (now, now, task_id, agent, now)).rowcount > 0

    @translated
    def cancel(self, parent_id: int, now: float) -> int:
        with self.transaction():
            n = self.conn.execute(SQL_CANCEL, (now, parent_id, parent_id, parent_id)).rowcount
            self.conn.execute(SQL_CANCEL_PARENT, (now, parent_id))
        return n

    # -- reads -------------------------------------------------------------------------------

    @translated
    def get(self, task_id: int) -> Task | None:
        rows = self.conn.execute(SQL_GET, (task_id,)).fetchall()
        return decode_task(rows[0]) if rows else None

    @translated
    def get_many(self, task_ids: Sequence[int]) -> list[Task]:
        rows = self.conn.execute(SQL_GET_MANY, (codec.dumps(list(task_ids)),)).fetchall()
        by_id = {row[0]: decode_task(row) for row in rows}
        return [by_id[i] for i in task_ids if i in by_id]

    @translated
    def dependencies(self, task_id: int) -> list[Task]:
        row = self.conn.execute("SELECT deps FROM tasks WHERE id = ?", (task_id,)).fetchone()
        if row is None or row[0] is None:
            return []
        return self.get_many(codec.loads(row[0]))

    @translated
    def plan_context(self, parent_id: int) -> Any:
        row = self.conn.execute("SELECT context FROM tasks WHERE id = ?", (parent_id,)).fetchone()
        return None if row is None or row[0] is None else codec.loads(row[0])

    @translated
    def subtasks(self, parent_id: int) -> list[Task]:
        rows = self.conn.execute(SQL_SUBTASKS, (parent_id, parent_id, parent_id)).fetchall()
        return [decode_task(r) for r in rows]

    @translated
    def list_tasks(self, status: str | None, after_id: int, limit: int) -> list[Task]:
        if status is None:
            rows = self.conn.execute(SQL_LIST, (after_id, limit)).fetchall()
        else:
            rows = self.conn.execute(SQL_LIST_STATUS, (status, after_id, limit)).fetchall()
        return [decode_task(r) for r in rows]

    @translated
    def counts(self) -> tuple[dict[str, int], dict[str, int]]:
        conn = self.conn
        with self.transaction(write=False):  # one snapshot for the three reads
            total = conn.execute(SQL_TOTAL).fetchone()[0]
            states = dict(conn.execute(SQL_COUNT_STATES).fetchall())
            plans = dict(conn.execute(SQL_COUNT_PLANS).fetchall())
        states["completed"] = total - sum(states.values())
        subtasks = {s: n - plans.get(s, 0) for s, n in states.items()}
        return {s: n for s, n in subtasks.items() if n}, plans

    def close(self) -> None:
        self.conn.close()
