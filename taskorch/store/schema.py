"""The SQLite schema, as numbered migrations recorded in ``PRAGMA user_version``.

Index choices follow the queries in ``sqlite.py`` (a test checks them with EXPLAIN QUERY PLAN); each
index costs every write that touches it, so there are as few as the queries allow:

- ``tasks_status`` (status; the rowid follows), partial: it leaves out 'pending' and 'completed',
  the two states most tasks are in, so planning and completing touch it little, and (since
  version 2) 'active', the state of a plan's parent while it runs, which no query looks up there
  (active plans are counted and listed through ``tasks_plan_status``): a plan writes one index
  entry fewer, and one page fewer at its commit. The condition is a two-value ``NOT IN`` and a
  comparison, not a three-value ``NOT IN``: SQLite evaluates an IN list of three or more
  constants through a temporary table built on each use, on every write to the row as well.
  It is the ready queue (a claim takes the lowest id with status 'ready'), the lease sweep (the
  'claimed' range) and what ``status()`` counts; pending and completed counts follow from each
  active plan's ``waiting`` (its unfinished subtasks) and the plans' ``size`` (their subtasks).
  Queries repeat the index's condition (``INDEXED`` in ``sqlite.py``): SQLite uses a partial
  index only then.
- ``tasks_ready_by_specialist``: claims filtered by specialist; partial, holding ready tasks only.
- ``tasks_plan_status`` (status, parent_id, size): counts of plans by state and of all subtasks
  (the sum of ``size``), without reading the table — a ``count(*)`` would read every row, as no
  index covers all rows; partial, one entry per plan, which changes only when the plan ends.

The ``tasks`` table has the columns of the PostgreSQL backend's (:func:`.rows.tasks_table`), in
SQLite's types. A plan's subtasks get consecutive ids right after their parent's (a plan is
written in one exclusive transaction), so they form a primary-key range. The dependency graph is
kept in the rows: ``deps`` (what a subtask needs, for its context) and ``dependents`` (what it
releases on completion), both JSON lists of offsets from the plan's first subtask, so completing
a task touches only its out-neighbours.
"""

from __future__ import annotations

from .rows import tasks_table

SCHEMA_VERSION = 2

# Pages of 2 KiB, not SQLite's 4 KiB, for a new file (an existing file keeps the size it was made
# with: SQLite changes it only by rebuilding the file). A commit in WAL mode writes and checksums
# each page it changed whole, and a claim or a completion changes three small rows or index
# entries on three pages, so half the page is half of that work: 12,000 instructions fewer a
# claim and a completion (6 %). 1 KiB pages save a third more there, but a plan of 1,000
# subtasks then writes four times the frames of 4 KiB pages, a syscall each, and takes 1.5 times
# bare sqlite3 with its default pages where it takes 1.4 at 2 KiB. A read by id in a store of
# 100k tasks costs the same at 1, 2 and 4 KiB.
PAGE_SIZE = 2048

MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        tasks_table(id="INTEGER", id_list="TEXT", time="REAL"),  # INTEGER: the rowid itself
        """CREATE INDEX tasks_status ON tasks (status)
           WHERE status NOT IN ('pending', 'completed')""",
        """CREATE INDEX tasks_ready_by_specialist ON tasks (specialist)
           WHERE status = 'ready'""",
        """CREATE INDEX tasks_plan_status ON tasks (status, parent_id, size)
           WHERE parent_id IS NULL""",
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "INSERT INTO meta (key, value) VALUES ('codec_format', '1')",
    ),
    2: (
        "DROP INDEX tasks_status",
        """CREATE INDEX tasks_status ON tasks (status)
           WHERE status NOT IN ('pending', 'completed') AND status <> 'active'""",
    ),
}
