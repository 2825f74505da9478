"""The SQL of the SQLite backend (``sqlite.py``), with the reasons for its less obvious forms.

Statements name the partial indexes they are meant to use where SQLite would not prove the
index's condition itself; every statement is compiled once per connection (the statement cache).
"""

from __future__ import annotations

from .rows import COLUMNS

SQL_GET = f"SELECT {COLUMNS} FROM tasks WHERE id = ?"
SQL_DEPS = "SELECT parent_id, deps FROM tasks WHERE id = ?"
SQL_GET_MANY = f"SELECT {COLUMNS} FROM tasks WHERE id IN (SELECT value FROM json_each(?))"
SQL_PLAN_CONTEXT = "SELECT context FROM tasks WHERE id = ?"
# The condition of the partial index tasks_status; SQLite uses that index only when a query says it.
# Written as a two-value NOT IN and a comparison: SQLite evaluates an IN list of three or more
# constants through a temporary table it builds on each use, on every write to the index too.
INDEXED = "status NOT IN ('pending', 'completed') AND status <> 'active'"
# Binding None costs sqlite3 an adapter lookup that fails through a formatted exception (about
# 0.3 µs a value); columns that are often NULL are bound as '' and stored as NULL (NULLIF) where
# the store writes the text itself, or get a statement of their own where the caller gives it.

# A claim reads the oldest ready task, then takes it with an UPDATE guarded by what it read:
# status 'ready' and the attempts seen (every claim counts one), so that a task another
# connection took in between is not taken twice but looked for again. Cheaper than one
# UPDATE ... RETURNING, whose returned rows go through a temporary table. The agent is bound to
# the SELECT as well, so that text the driver cannot encode is refused even when nothing is ready.
SQL_NEXT_READY = f"""
    SELECT {COLUMNS} FROM tasks
    WHERE ? IS NOT NULL
      AND id = (SELECT id FROM tasks WHERE status = 'ready' AND {INDEXED} ORDER BY id LIMIT 1)"""
SQL_NEXT_READY_SPECIALIST = f"""
    SELECT {COLUMNS} FROM tasks
    WHERE ? IS NOT NULL
      AND id = (SELECT id FROM tasks INDEXED BY tasks_ready_by_specialist
                WHERE specialist = ? AND status = 'ready' ORDER BY id LIMIT 1)"""
SQL_TAKE = """
    UPDATE tasks SET status = 'claimed', agent = ?, lease_expires = ?, attempts = ?,
        updated_at = ?
    WHERE id = ? AND status = 'ready' AND attempts = ?"""
SQL_ANY_EXPIRED = f"""
    SELECT 1 FROM tasks WHERE status = 'claimed' AND {INDEXED} AND lease_expires <= ? LIMIT 1"""
SQL_SWEEP = f"""
    UPDATE tasks SET status = 'ready', agent = NULL, lease_expires = NULL
    WHERE status = 'claimed' AND {INDEXED} AND lease_expires <= ?"""
_HELD = "id = ? AND status = 'claimed' AND agent = ? AND lease_expires > ?"
# Completing or failing reads the held task and its plan's parent in one SELECT, then writes
# both with plain UPDATEs by id: inside the write transaction nothing else can change them in
# between, and RETURNING would cost a temporary table per statement (about 4 µs each).
SQL_HELD_WITH_PARENT = """
    SELECT t.parent_id, t.dependents, p.waiting, p.failures, p.status
    FROM tasks t JOIN tasks p ON p.id = t.parent_id
    WHERE t.id = ? AND t.status = 'claimed' AND t.agent = ? AND t.lease_expires > ?"""
_COMPLETE = """
    UPDATE tasks SET status = 'completed', result = {}, artifacts = {}, lease_expires = NULL,
        updated_at = ?
    WHERE id = ?"""
# By (result is None, artifacts is None); the values that are None are not bound.
SQL_COMPLETE = {
    (False, False): _COMPLETE.format("?", "?"),
    (False, True): _COMPLETE.format("?", "NULL"),
    (True, False): _COMPLETE.format("NULL", "?"),
    (True, True): _COMPLETE.format("NULL", "NULL"),
}
SQL_FAIL = """
    UPDATE tasks SET status = 'failed', error = ?, lease_expires = NULL, updated_at = ?
    WHERE id = ?"""
SQL_RETRY = f"""
    UPDATE tasks SET status = 'ready', error = ?, agent = NULL, lease_expires = NULL, updated_at = ?
    WHERE {_HELD}"""
SQL_RENEW = f"UPDATE tasks SET lease_expires = ?, updated_at = ? WHERE {_HELD}"
SQL_RELEASE = f"""
    UPDATE tasks SET status = 'ready', agent = NULL, lease_expires = NULL, updated_at = ?
    WHERE {_HELD}"""
SQL_UNBLOCK = """
    UPDATE tasks SET waiting = waiting - 1,
        status = CASE WHEN waiting = 1 THEN 'ready' ELSE status END, updated_at = ?
    WHERE id IN (SELECT ? + 1 + value FROM json_each(?)) AND status = 'pending'"""
# The blocked rows are returned to be counted: sqlite3 reports no rowcount for a statement that
# starts with WITH.
SQL_BLOCK = """
    WITH RECURSIVE below (id) AS (
        SELECT ? + 1 + value FROM json_each(?)
        UNION SELECT t.parent_id + 1 + j.value
        FROM below JOIN tasks t ON t.id = below.id, json_each(t.dependents) j
    )
    UPDATE tasks SET status = 'blocked', updated_at = ?
    WHERE id IN below AND status = 'pending'
    RETURNING id"""
SQL_PARENT_DONE = """
    UPDATE tasks SET waiting = ?, failures = ?, status = ?, updated_at = ? WHERE id = ?"""
SQL_INSERT_PARENT = """
    INSERT INTO tasks (parent_id, title, status, waiting, size, context, created_at, updated_at)
    VALUES (NULL, ?, ?, ?, ?, ?, ?, ?)"""
SQL_INSERT_PARENT_NO_CONTEXT = """
    INSERT INTO tasks (parent_id, title, status, waiting, size, context, created_at, updated_at)
    VALUES (NULL, ?, ?, ?, ?, NULL, ?, ?)"""
# No id: SQLite gives each new row the largest id + 1, so inside the plan's write transaction the
# subtasks get the ids right after their parent's, in order (checked against the id limit).
# Numbered parameters: the status follows from the number of dependencies and one time is bound
# for both timestamps (each bound text is copied by SQLite). Dependencies and dependents come as
# JSON lists, '[]' (stored as NULL) when empty.
SQL_INSERT_SUBTASK = """
    INSERT INTO tasks (parent_id, key, title, specialist, description, status, waiting,
        deps, dependents, created_at, updated_at)
    VALUES (?1, ?2, ?3, ?4, ?5, CASE WHEN ?6 > 0 THEN 'pending' ELSE 'ready' END, ?6,
        NULLIF(?7, '[]'), NULLIF(?8, '[]'), ?9, ?9)"""
SQL_SUBTASKS = f"""
    SELECT {COLUMNS} FROM tasks
    WHERE id > ? AND id <= ? + (SELECT size FROM tasks WHERE id = ?) ORDER BY id"""
SQL_CANCEL = """
    UPDATE tasks SET status = 'cancelled', lease_expires = NULL, updated_at = ?
    WHERE id > ? AND id <= ? + (SELECT size FROM tasks WHERE id = ? AND parent_id IS NULL)
      AND status IN ('pending', 'ready', 'claimed')"""
SQL_CANCEL_PARENT = """
    UPDATE tasks SET status = 'cancelled', waiting = 0, updated_at = ?
    WHERE id = ? AND parent_id IS NULL AND status = 'active'"""
SQL_LIST = f"SELECT {COLUMNS} FROM tasks WHERE id > ? ORDER BY id LIMIT ?"
SQL_LIST_STATUS = f"""
    SELECT {COLUMNS} FROM tasks WHERE status = ? AND id > ? ORDER BY id LIMIT ?"""
# Only a plan's parent is ever 'active': its plans are found through tasks_plan_status.
SQL_LIST_ACTIVE = f"""
    SELECT {COLUMNS} FROM tasks INDEXED BY tasks_plan_status
    WHERE status = ? AND parent_id IS NULL AND id > ? ORDER BY id LIMIT ?"""
SQL_LIST_INDEXED_STATUS = f"""
    SELECT {COLUMNS} FROM tasks WHERE status = ? AND {INDEXED} AND id > ? ORDER BY id LIMIT ?"""
# The statements above with each known status written in: SQLite decides whether a partial
# index serves "status = ?" from the bound value, so such a statement is compiled again every
# time it is bound (about 190,000 instructions, most of a ten-task page). The status is bound
# only for a value outside this set.
SQL_LIST_BY_STATUS = {
    status: sql.replace("status = ?", f"status = '{status}'")
    for status, sql in [
        ("active", SQL_LIST_ACTIVE),
        ("pending", SQL_LIST_STATUS),
        ("completed", SQL_LIST_STATUS),
        *((s, SQL_LIST_INDEXED_STATUS) for s in ("ready", "claimed", "failed", "blocked")),
        ("cancelled", SQL_LIST_INDEXED_STATUS),
    ]
}
SQL_COUNT_STATES = f"""
    SELECT status, count(*) FROM tasks
    WHERE status IN ('ready', 'claimed', 'failed', 'blocked', 'cancelled') AND {INDEXED}
    GROUP BY status"""
SQL_COUNT_PLANS = """
    SELECT status, count(*), sum(size) FROM tasks INDEXED BY tasks_plan_status
    WHERE parent_id IS NULL GROUP BY status"""
SQL_UNFINISHED = """
    SELECT coalesce(sum(waiting), 0) FROM tasks INDEXED BY tasks_plan_status
    WHERE status = 'active' AND parent_id IS NULL"""
