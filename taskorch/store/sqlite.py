"""The SQLite backend: one file, WAL journal, one connection per orchestrator.

Durability (``?durability=`` in the URL) maps to ``PRAGMA synchronous``:

- ``normal`` (default): a committed transaction survives a crash of the process; a power loss or
  OS crash may roll back the last transactions, never corrupt the file (WAL + synchronous=NORMAL).
- ``full``: every commit is flushed to disk (fsync) before it returns; survives power loss.
- ``off``: no flushing at all; for throw-away databases and tests.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Sequence
from itertools import repeat
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote

from .. import checks, codec
from ..checks import MAX_ID
from ..errors import (
    ConfigurationError,
    CorruptDatabaseError,
    SchemaVersionError,
    StorageError,
)
from ..models import Task, TaskStatus
from . import Finished, NewSubtasks, Store
from .rows import (
    decode_context,
    decode_task,
    decode_tasks,
    in_order,
    new_plan_status,
    new_task,
    status_counts,
)
from .schema import MIGRATIONS, PAGE_SIZE, SCHEMA_VERSION
from .sqlite_capture import Captured
from .sqlite_errors import translate, translated
from .sqlite_sql import (
    SQL_ANY_EXPIRED,
    SQL_BLOCK,
    SQL_CANCEL,
    SQL_CANCEL_PARENT,
    SQL_CLAIM,
    SQL_CLAIM_SPECIALIST,
    SQL_COMPLETE,
    SQL_COUNT_PLANS,
    SQL_COUNT_STATES,
    SQL_DEPS,
    SQL_FAIL,
    SQL_GET,
    SQL_GET_MANY,
    SQL_INSERT_PARENT,
    SQL_INSERT_PARENT_NO_CONTEXT,
    SQL_INSERT_SUBTASK,
    SQL_LIST,
    SQL_LIST_BY_STATUS,
    SQL_LIST_STATUS,
    SQL_PARENT_COUNT,
    SQL_PARENT_DONE,
    SQL_PLAN_CONTEXT,
    SQL_RELEASE,
    SQL_RENEW,
    SQL_RETRY,
    SQL_SUBTASKS,
    SQL_SWEEP,
    SQL_UNBLOCK,
    SQL_UNFINISHED,
)

DURABILITY = {"off": "OFF", "normal": "NORMAL", "full": "FULL"}


def parse_url(url: str) -> tuple[str, dict[str, str]]:
    """``sqlite:///rel.db``, ``sqlite:////abs.db`` or ``sqlite:///:memory:`` → (path, options)."""
    rest = url.split("://", 1)[1]
    rest, _, query = rest.partition("?")
    if not rest.startswith("/"):
        raise ConfigurationError(f"bad SQLite URL {url!r}: write sqlite:///relative/path.db")
    # Blank values are kept so that ?busy_timeout= is refused, not silently the default.
    options = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    try:
        # Strict: the default would turn every invalid escape into U+FFFD, so %ff and %fe would
        # name one file.
        path = unquote(rest[1:], errors="strict")
    except UnicodeDecodeError as exc:
        raise ConfigurationError(
            f"bad SQLite URL {url!r}: its path has an escape that is not UTF-8 ({exc.reason})"
        ) from None
    if "\x00" in path:  # no file name can hold one
        raise ConfigurationError(f"bad SQLite URL {url!r}: its path holds a NUL (%00)")
    return path or ":memory:", options


class Transaction:
    """The context manager behind ``SQLiteStore.transaction`` (a class: every write enters one,
    and a generator-based context manager costs several calls more). BEGIN and COMMIT can fail
    too (a lock held past the busy timeout): their errors are translated like any other."""

    __slots__ = ("conn", "nested", "store", "write")

    def __init__(self, store: SQLiteStore, write: bool) -> None:
        self.store = store
        self.conn = store.conn  # the hot path's: one attribute lookup, not two
        self.write = write
        self.nested = False

    def __enter__(self) -> None:
        self.nested = self.conn.in_transaction
        try:
            if self.nested:
                self.conn.execute("SAVEPOINT op")
            elif self.write:
                self.store.same_file()
                self.conn.execute("BEGIN IMMEDIATE")
            else:
                self.conn.execute("BEGIN")
        except sqlite3.Error as exc:
            raise translate(exc, self.store.path) from exc

    def __exit__(self, kind: object, error: object, tb: object) -> None:
        try:
            if kind is None:
                self.conn.execute("RELEASE op" if self.nested else "COMMIT")
            elif self.nested:
                self.conn.execute("ROLLBACK TO op")
                self.conn.execute("RELEASE op")
            elif self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
        except sqlite3.Error as exc:
            if kind is None and not self.nested and self.conn.in_transaction:
                self.conn.execute("ROLLBACK")  # a failed COMMIT leaves nothing half-written
            raise translate(exc, self.store.path) from exc


class SQLiteStore:
    """The embedded default backend. Not shared across threads without the engine's lock."""

    thread_safe = False  # one connection: the engine serializes the calls of every thread
    OPTIONS = frozenset({"durability", "busy_timeout"})

    def __init__(
        self,
        url: str,
        *,
        durability: str | None = None,
        busy_timeout: float | None = None,
    ) -> None:
        self.url = url
        self.path, query = parse_url(url)
        unknown = set(query) - self.OPTIONS
        if unknown:
            raise ConfigurationError(
                f"unknown option(s) {sorted(unknown)} in {url!r}; use: {sorted(self.OPTIONS)}"
            )
        given: dict[str, object] = dict(query)
        if durability is not None:
            given["durability"] = durability
        if busy_timeout is not None:
            given["busy_timeout"] = busy_timeout
        options = {k: checks.store_option(k, v) for k, v in given.items()}
        self.durability: str = options.get("durability", "normal")
        timeout: float = options.get("busy_timeout", 5.0)
        if self.path != ":memory:":
            try:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:  # e.g. a parent that is a regular file
                raise StorageError(
                    f"{self.path}: cannot create its folder ({exc.strerror or exc});"
                    " point taskorch at a path in a folder you can write"
                ) from exc
        try:
            self.conn = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False,
                cached_statements=256,
            )  # fmt: skip
        except sqlite3.Error as exc:
            raise translate(exc, self.path) from exc
        self.captured = Captured()
        self.captured.register(self.conn)
        try:
            self._prepare(timeout)
            self.identity = self._identity()
        except sqlite3.Error as exc:
            self.conn.close()
            raise translate(exc, self.path) from exc
        except BaseException:
            self.conn.close()
            raise

    def _prepare(self, timeout: float) -> None:
        conn = self.conn
        conn.execute(f"PRAGMA synchronous = {DURABILITY[self.durability]}")
        conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")  # a new file's; before WAL creates it
        if self.path != ":memory:":
            self._enter_wal(timeout)
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

    def _enter_wal(self, timeout: float) -> None:
        """``PRAGMA journal_mode = WAL``, retried for up to ``timeout`` seconds: while another
        process opening the same new file holds its lock, SQLite may refuse the switch at once
        instead of calling the busy handler (it would deadlock waiting), so the busy timeout
        alone does not cover it."""
        deadline = time.monotonic() + timeout
        pause = 0.001
        while True:
            try:
                self.conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() + pause > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.05)

    def _identity(self) -> tuple[str, int, int] | None:
        """The open file as (absolute path, device, inode); None for an in-memory database."""
        if self.path == ":memory:":
            return None
        path = os.path.abspath(self.path)  # the process may change its working folder later
        st = os.stat(path)
        return path, st.st_dev, st.st_ino

    def same_file(self) -> None:
        """Stop before a write when the file at the path is no longer the one this store opened
        (deleted, or replaced by a rename): SQLite would go on writing to the old, unlinked file,
        and every later write would succeed and vanish. Inside a transaction the check was made
        at its start."""
        if self.identity is None or self.conn.in_transaction:
            return
        path, device, inode = self.identity
        try:
            st = os.stat(path)
        except OSError:
            st = None
        if st is None or st.st_ino != inode or st.st_dev != device:
            raise StorageError(
                f"{self.path}: the database file was deleted or replaced since it was opened;"
                " nothing was written (it would have gone to the old file): open it again"
            )

    def describe(self) -> str:
        """The database file (or ``:memory:``), for messages."""
        return self.path

    def transaction(self, write: bool = True) -> Transaction:
        """One transaction; inside another it becomes a savepoint, so that a batch of operations
        (group commit) shares one commit while each operation still rolls back on its own."""
        return Transaction(self, write)

    # -- writes ------------------------------------------------------------------------------

    def insert_plan(
        self, goal: str, context: str | None, subtasks: NewSubtasks, now: float
    ) -> tuple[int, list[int]]:
        # The hot methods translate errors themselves: @translated costs a call per operation.
        conn = self.conn
        n = len(subtasks.keys)
        try:
            with self.transaction():
                if context is None:
                    head: tuple[Any, ...] = (goal, new_plan_status(n), n, n, now, now)
                    parent = conn.execute(SQL_INSERT_PARENT_NO_CONTEXT, head).lastrowid
                else:
                    head = (goal, new_plan_status(n), n, n, context, now, now)
                    parent = conn.execute(SQL_INSERT_PARENT, head).lastrowid
                assert parent is not None
                first = parent + 1
                if parent + n > MAX_ID:  # SQLite would pick ids at random beyond it
                    raise StorageError(f"{self.path}: no task ids left for {n} subtasks")
                # The rows are put together in C (zip), not by a Python loop; zip hands the
                # driver one tuple after another, reused once the driver has bound it.
                rows = zip(
                    repeat(parent, n),
                    subtasks.keys,
                    subtasks.titles,
                    subtasks.specialists,
                    subtasks.descriptions,
                    subtasks.waiting,
                    subtasks.deps,
                    subtasks.dependents,
                    repeat(now, n),
                    strict=True,
                )
                if n == 1:
                    conn.execute(SQL_INSERT_SUBTASK, next(rows))
                elif n:
                    conn.executemany(SQL_INSERT_SUBTASK, rows)
        except sqlite3.Error as exc:
            raise translate(exc, self.path) from exc
        return parent, list(range(first, first + n))

    def claim(
        self, agent: str, specialist: str | None, now: float, lease_until: float
    ) -> Task | None:
        self.same_file()
        captured = self.captured
        captured.taken = None
        try:
            if specialist is None:
                self.conn.execute(SQL_CLAIM, (agent, lease_until, now))
            else:
                self.conn.execute(SQL_CLAIM_SPECIALIST, (agent, lease_until, now, specialist))
        except sqlite3.Error as exc:
            raise translate(exc, self.path) from exc
        row = captured.taken
        if row is None:
            return None
        (tid, parent, key, title, role, description, attempts, result, error, artifacts,
         created, _) = row  # fmt: skip
        return new_task(
            (
                tid, parent, key, title, role, description, TaskStatus.CLAIMED, agent,
                lease_until, attempts + 1, None if result is None else codec.loads(result),
                error, tuple(codec.loads(artifacts)) if artifacts else (), created, now,
            )
        )  # fmt: skip

    @translated
    def reclaim_expired(self, now: float) -> int:
        # Look before writing: an UPDATE takes the write lock even when it changes nothing.
        if self.conn.execute(SQL_ANY_EXPIRED, (now,)).fetchone() is None:
            return 0
        self.same_file()
        return self.conn.execute(SQL_SWEEP, (now,)).rowcount

    def _finish(self, sql: str, args: tuple[Any, ...], failed: bool, now: float) -> Finished | None:
        """End a held task (``sql`` with ``args``, guarded by the hold), release or block its
        dependents, count it on its plan's parent and end the plan with its last subtask."""
        conn = self.conn
        captured = self.captured
        with self.transaction():
            captured.ended = None
            conn.execute(sql, args)
            if captured.ended is None:
                return None
            parent_id, dependents = captured.ended
            ended = 1
            if dependents and failed:
                ended += len(conn.execute(SQL_BLOCK, (parent_id, dependents, now)).fetchall())
            elif dependents:
                conn.execute(SQL_UNBLOCK, (now, parent_id, dependents))
            captured.counted = None
            conn.execute(SQL_PARENT_COUNT, (ended, 1 if failed else 0, now, parent_id))
            if captured.counted is None:  # only a damaged file has a subtask without its parent
                raise CorruptDatabaseError(f"{self.path}: task {args[-3]} has no plan's parent")
            waiting, failures, status = captured.counted
            if not waiting:
                status = "failed" if failures else "completed"
                conn.execute(SQL_PARENT_DONE, (status, parent_id))
        return Finished(parent_id, status)

    def complete(
        self, task_id: int, agent: str, result: str | None, artifacts: str | None, now: float
    ) -> Finished | None:
        if result is None:
            args: tuple[Any, ...] = (now, task_id, agent, now) if artifacts is None else (
                artifacts, now, task_id, agent, now)  # fmt: skip
        elif artifacts is None:
            args = (result, now, task_id, agent, now)
        else:
            args = (result, artifacts, now, task_id, agent, now)
        sql = SQL_COMPLETE[result is None, artifacts is None]
        try:
            return self._finish(sql, args, False, now)
        except sqlite3.Error as exc:
            raise translate(exc, self.path) from exc

    @translated
    def fail(self, task_id: int, agent: str, error: str, now: float) -> Finished | None:
        return self._finish(SQL_FAIL, (error, now, task_id, agent, now), True, now)

    @translated
    def retry(self, task_id: int, agent: str, error: str, now: float) -> bool:
        self.same_file()
        args = (error, now, task_id, agent, now)
        return self.conn.execute(SQL_RETRY, args).rowcount > 0

    @translated
    def renew(self, task_id: int, agent: str, now: float, lease_until: float) -> bool:
        self.same_file()
        return self.conn.execute(SQL_RENEW, (lease_until, now, task_id, agent, now)).rowcount > 0

    @translated
    def release(self, task_id: int, agent: str, now: float) -> bool:
        self.same_file()
        return self.conn.execute(SQL_RELEASE, (now, task_id, agent, now)).rowcount > 0

    @translated
    def cancel(self, parent_id: int, now: float) -> int:
        with self.transaction():
            n = self.conn.execute(SQL_CANCEL, (now, parent_id, parent_id, parent_id)).rowcount
            self.conn.execute(SQL_CANCEL_PARENT, (now, parent_id))
        return n

    # -- reads -------------------------------------------------------------------------------

    def get(self, task_id: int) -> Task | None:
        try:
            row = self.conn.execute(SQL_GET, (task_id,)).fetchone()
        except sqlite3.Error as exc:
            raise translate(exc, self.path) from exc
        return None if row is None else decode_task(row)

    @translated
    def get_many(self, task_ids: Sequence[int]) -> list[Task]:
        rows = self.conn.execute(SQL_GET_MANY, (codec.encode(list(task_ids)),)).fetchall()
        return in_order(task_ids, rows)

    @translated
    def dependencies(self, task_id: int) -> list[Task]:
        # A claimed task's dependencies are read from the claim's row when asked for right after
        # it (an agent's context); they never change once planned.
        taken = self.captured.taken
        if taken is not None and taken[0] == task_id:
            parent_id, deps = taken[1], taken[11]
        else:
            row = self.conn.execute(SQL_DEPS, (task_id,)).fetchone()
            if row is None:
                return []
            parent_id, deps = row
        if deps is None:
            return []
        first = parent_id + 1
        return self.get_many([first + i for i in codec.loads(deps)])

    @translated
    def plan_context(self, parent_id: int) -> Any:
        return decode_context(self.conn.execute(SQL_PLAN_CONTEXT, (parent_id,)).fetchone())

    @translated
    def subtasks(self, parent_id: int) -> list[Task]:
        rows = self.conn.execute(SQL_SUBTASKS, (parent_id, parent_id, parent_id)).fetchall()
        return decode_tasks(rows)

    @translated
    def list_tasks(self, status: str | None, after_id: int, limit: int) -> list[Task]:
        if status is None:
            rows = self.conn.execute(SQL_LIST, (after_id, limit)).fetchall()
        elif status in SQL_LIST_BY_STATUS:
            rows = self.conn.execute(SQL_LIST_BY_STATUS[status], (after_id, limit)).fetchall()
        else:
            rows = self.conn.execute(SQL_LIST_STATUS, (status, after_id, limit)).fetchall()
        return decode_tasks(rows)

    @translated
    def counts(self) -> tuple[dict[str, int], dict[str, int]]:
        conn = self.conn
        with self.transaction(write=False):  # one snapshot for the three reads
            states = dict(conn.execute(SQL_COUNT_STATES).fetchall())
            by_plan = conn.execute(SQL_COUNT_PLANS).fetchall()
            unfinished = conn.execute(SQL_UNFINISHED).fetchone()[0]
        return status_counts(states, by_plan, unfinished)

    def close(self) -> None:
        self.conn.close()


if TYPE_CHECKING:  # mypy checks that the backend fulfils the contract
    _: type[Store] = SQLiteStore
