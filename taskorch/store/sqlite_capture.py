"""What the SQLite store's writes hand back to Python, through functions of the connection.

sqlite3 gives an UPDATE no result rows but those of RETURNING, which SQLite buffers in a
temporary table (about 50,000 instructions for one row). Instead the hot writes call a function
of the connection in one of their SET expressions: SQLite calls it once for each row the UPDATE
changes, with that row's values before the change, and stores what it returns in the column.
The function keeps the values for the store to read once the statement has run. The SQL that
calls them is in ``sqlite_sql.py`` (``SQL_CLAIM``, ``SQL_COMPLETE``, ``SQL_FAIL``,
``SQL_PARENT_COUNT``).

One :class:`Captured` per connection: the store's calls are serialized (one connection, the
engine's lock), and each store call reads what its own statement left, right after it.
"""

from __future__ import annotations

import sqlite3
from typing import Any


class Captured:
    """The values the last capturing statement handed back; ``None`` when it changed no row."""

    __slots__ = ("counted", "ended", "taken")

    def __init__(self) -> None:
        # (id, parent_id, key, title, specialist, description, attempts, result, error,
        #  artifacts, created_at, deps) of the task a claim took, before the claim.
        self.taken: tuple[Any, ...] | None = None
        # (parent_id, dependents) of the task a completion or failure ended.
        self.ended: tuple[int, str | None] | None = None
        # (waiting, failures, status) of a plan's parent after it was counted down.
        self.counted: tuple[int, int, str] | None = None

    def register(self, conn: sqlite3.Connection) -> None:
        """Make the functions the store's SQL calls known to ``conn``."""
        conn.create_function("taskorch_claimed", 12, self._claimed)
        conn.create_function("taskorch_ended", 2, self._ended)
        conn.create_function("taskorch_counted", 3, self._counted)

    def _claimed(self, *row: Any) -> int:
        self.taken = row
        return row[6] + 1  # type: ignore[no-any-return]  # the claim counts an attempt

    def _ended(self, parent_id: int, dependents: str | None) -> None:
        self.ended = (parent_id, dependents)

    def _counted(self, waiting: int, failures: int, status: str) -> int:
        self.counted = (waiting, failures, status)
        return waiting
