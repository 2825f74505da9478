"""What lets a :class:`~taskorch.runtime.worker.DatabaseWorker` run a batch on the event loop
without the loop ever waiting: an SQLite connection taken only when free, a write lock taken only
when free, and checkpoints left to the database thread.

Only an SQLite store qualifies, and only when a commit does not wait for the disk: a WAL file
at ``durability=normal`` or ``off`` (a commit writes the WAL and returns; ``full`` syncs it every
commit), or an in-memory database. A PostgreSQL store does not: every statement is a network
round trip, which on the loop would stall every coroutine for each one.

Three waits are ruled out:

- **The connection.** The orchestrator's lock guards its one connection; the loop takes it only
  with a non-blocking acquire. Held elsewhere (the database thread, or another thread of the
  application in an orchestrator call), the batch goes to the thread.
- **The write lock.** ``BEGIN IMMEDIATE`` runs with a busy timeout of 0, the connection's own
  restored right after: when another connection (another process) holds the write lock, the
  BEGIN fails at once and the batch goes to the thread, which waits as configured. Once begun,
  a WAL transaction holding the write lock waits for nothing until its COMMIT.
- **The checkpoint.** SQLite checkpoints the WAL inside a COMMIT once it passed
  ``wal_autocheckpoint`` pages: two ``fsync`` calls, milliseconds on the loop. While the worker
  runs, the connection's automatic checkpoint is off; the thread runs a passive checkpoint about
  as often as SQLite would have (:meth:`LoopAccess.due`), after the batch's results were handed
  back (or, after the loop's commits, when the loop asks), so the agents go on meanwhile.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ..engine import Orchestrator

#: WAL frames a settle-and-claim call writes on SQLite (the task's page, the status index and the
#: specialist index for the claim; the task, the status index and the plan's parent for the
#: completion): how many loop calls make the ``wal_autocheckpoint`` pages between checkpoints.
FRAMES_PER_CALL = 6
#: The fewest calls between two checkpoints (a WAL that cannot be reset fills at once).
MIN_CALLS = 16


class NotBegun(Exception):
    """The batch's BEGIN failed without waiting (the connection or the write lock was busy)."""


class LoopAccess:
    """The connection and lock of an SQLite orchestrator, taken by the loop only when free."""

    __slots__ = ("calls", "conn", "every", "lock", "no_wait", "pages", "restore_wait")

    def __init__(self, conn: sqlite3.Connection, lock: Any) -> None:
        self.conn = conn
        self.lock = lock
        self.no_wait = "PRAGMA busy_timeout = 0"
        self.restore_wait = ""  # the connection's busy timeout, set again: see probe()
        self.pages = 0  # the connection's wal_autocheckpoint (0: none, or not a WAL file)
        self.calls = 0  # calls committed since the last checkpoint
        self.every = 0  # calls between checkpoints: about ``pages`` WAL frames

    @classmethod
    def of(cls, orch: Orchestrator) -> LoopAccess | None:
        """The access for ``orch`` if its store is SQLite (not yet :meth:`probe`-d)."""
        conn = getattr(orch.store, "conn", None)
        lock = getattr(orch, "_lock", None)
        if not isinstance(conn, sqlite3.Connection) or not hasattr(lock, "acquire"):
            return None
        return cls(conn, lock)

    def probe(self, wait: bool) -> bool | None:
        """Whether the connection can be used on the loop without waiting; if so, its automatic
        checkpoint is off until :meth:`close`. None when ``wait`` is false and another thread
        holds the connection."""
        if not self.lock.acquire(blocking=wait):
            return None
        try:
            conn = self.conn
            journal = conn.execute("PRAGMA journal_mode").fetchone()[0]
            synchronous = conn.execute("PRAGMA synchronous").fetchone()[0]
            busy_ms = conn.execute("PRAGMA busy_timeout").fetchone()[0]
            pages = conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
            if journal == "memory":  # in-memory: no file, no other connection, no checkpoint
                pages = 0
            elif journal != "wal" or synchronous > 1:  # FULL and EXTRA sync each commit
                return False
            if pages > 0:
                conn.execute("PRAGMA wal_autocheckpoint = 0")
        except sqlite3.Error:
            return False
        finally:
            self.lock.release()
        self.restore_wait = f"PRAGMA busy_timeout = {busy_ms}"
        self.pages = pages
        self.every = max(1, pages // FRAMES_PER_CALL)
        return True

    def enter(self) -> bool:
        """Take the connection if nobody holds it (never waits); then :meth:`exit` it."""
        return bool(self.lock.acquire(blocking=False))

    def exit(self, calls: int) -> None:
        """Give the connection back after a batch of ``calls`` calls committed (0: none)."""
        self.calls += calls
        self.lock.release()

    def due(self) -> bool:
        """Whether the commits since the last checkpoint call for another."""
        return self.pages > 0 and self.calls >= self.every

    def checkpoint(self) -> None:
        """A passive checkpoint (it waits for no reader), on the thread, holding the lock. The
        frames it found tell how many calls make ``pages`` frames, for the next one."""
        try:
            _, frames, _ = self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error:
            frames = 0  # as after SQLite's own: the next one tries again
        if frames > 0 and self.calls > 0:
            self.every = max(MIN_CALLS, self.calls * self.pages // frames)
        self.calls = 0

    def close(self) -> None:
        """On the thread, once the worker stops: the connection checkpoints by itself again."""
        if self.pages:
            with self.lock:
                self.conn.execute(f"PRAGMA wal_autocheckpoint = {self.pages}")

    def begin(self, transaction: Any) -> NoWaitBegin:
        """``transaction`` (a batch's context manager), entered with a busy timeout of 0."""
        return NoWaitBegin(self, transaction)


class NoWaitBegin:
    """Enters a transaction without waiting for the write lock: :class:`NotBegun` if busy."""

    __slots__ = ("access", "inner")

    def __init__(self, access: LoopAccess, inner: Any) -> None:
        self.access = access
        self.inner = inner

    def __enter__(self) -> None:
        conn = self.access.conn
        conn.execute(self.access.no_wait)
        try:
            self.inner.__enter__()
        except Exception as exc:
            raise NotBegun(str(exc)) from exc
        finally:
            conn.execute(self.access.restore_wait)

    def __exit__(self, kind: Any, error: Any, tb: Any) -> Any:
        return self.inner.__exit__(kind, error, tb)
