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

# A claim is one UPDATE of the oldest ready task: its write lock is taken before the subquery
# reads, so two connections never take the same task. The row the Task is built from is handed
# to Python by a function of the connection (``taskorch_claimed``, registered by the store) that
# the UPDATE calls once, for the row it takes, with the row's values before the change; it
# returns the new attempts. RETURNING would do the same through a temporary table (about 50,000
# instructions more a claim), and a SELECT before the UPDATE costs a statement and a read
# transaction more. The agent is bound whether or not a task is ready, so text the driver cannot
# encode is refused either way.
_CLAIM = """
    UPDATE tasks SET status = 'claimed', agent = ?, lease_expires = ?, updated_at = ?,
        attempts = taskorch_claimed(id, parent_id, key, title, specialist, description,
                                    attempts, result, error, artifacts, created_at, deps)
    WHERE id = ({})"""
SQL_CLAIM = _CLAIM.format(
    f"SELECT id FROM tasks WHERE status = 'ready' AND {INDEXED} ORDER BY id LIMIT 1"
)
SQL_CLAIM_SPECIALIST = _CLAIM.format(
    """SELECT id FROM tasks INDEXED BY tasks_ready_by_specialist
       WHERE specialist = ? AND status = 'ready' ORDER BY id LIMIT 1"""
)
SQL_ANY_EXPIRED = f"""
    SELECT 1 FROM tasks WHERE status = 'claimed' AND {INDEXED} AND lease_expires <= ? LIMIT 1"""
SQL_SWEEP = f"""
    UPDATE tasks SET status = 'ready', agent = NULL, lease_expires = NULL
    WHERE status = 'claimed' AND {INDEXED} AND lease_expires <= ?"""
_HELD = "id = ? AND status = 'claimed' AND agent = ? AND lease_expires > ?"
# Completing or failing is one UPDATE of the held task, guarded by the hold; it hands its plan's
# parent and its dependents to Python through ``taskorch_ended`` (which returns NULL, the new
# lease). The parent is then counted down by id (``SQL_PARENT_COUNT``), its new counters and
# status handed back by ``taskorch_counted``; only the plan's last subtask writes the parent's
# status (``SQL_PARENT_DONE``), so the other completions leave the plans' index alone (a page
# fewer written). Inside the write transaction nothing else changes either row in between.
_ENDED = "lease_expires = taskorch_ended(parent_id, dependents)"
_COMPLETE = f"""
    UPDATE tasks SET status = 'completed', result = {{}}, artifacts = {{}}, {_ENDED},
        updated_at = ?
    WHERE {_HELD}"""
# By (result is None, artifacts is None); the values that are None are not bound.
SQL_COMPLETE = {
    (False, False): _COMPLETE.format("?", "?"),
    (False, True): _COMPLETE.format("?", "NULL"),
    (True, False): _COMPLETE.format("NULL", "?"),
    (True, True): _COMPLETE.format("NULL", "NULL"),
}
SQL_FAIL = f"""
    UPDATE tasks SET status = 'failed', error = ?, {_ENDED}, updated_at = ?
    WHERE {_HELD}"""
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
SQL_PARENT_COUNT = """
    UPDATE tasks SET failures = failures + ?2, updated_at = ?3,
        waiting = taskorch_counted(waiting - ?1, failures + ?2, status)
    WHERE id = ?4"""
SQL_PARENT_DONE = "UPDATE tasks SET status = ? WHERE id = ?"
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
