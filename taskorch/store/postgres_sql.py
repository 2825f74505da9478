"""The SQL of the PostgreSQL backend (the semantics mirror ``sqlite.py``).

Row locks are always taken in id order (``ORDER BY id FOR UPDATE``) when a statement changes
several tasks, so that concurrent completions and cancellations do not deadlock each other; the
store retries the rare deadlock PostgreSQL still detects.
"""

from __future__ import annotations

COLUMNS = (
    "id, parent_id, key, title, specialist, description, status, agent,"
    " CASE WHEN status = 'claimed' THEN available_at END, attempts, result, error, artifacts,"
    " created_at, updated_at"
)

GET = f"SELECT {COLUMNS} FROM tasks WHERE id = %s"
GET_MANY = f"SELECT {COLUMNS} FROM tasks WHERE id = ANY(%s)"
# A subtask's dependencies in the order they were planned, in one round trip.
DEPENDENCIES = f"""
    SELECT {COLUMNS} FROM tasks, (SELECT deps AS ids FROM tasks WHERE id = %s) AS of
    WHERE id = ANY(of.ids) ORDER BY array_position(of.ids, id)"""
PLAN_CONTEXT = "SELECT context FROM tasks WHERE id = %s"

# One statement: SKIP LOCKED passes over rows another claim is taking, and a row changed since the
# statement's snapshot is re-checked against the WHERE clause once locked.
CLAIM = f"""
    UPDATE tasks SET status = 'claimed', agent = %s, available_at = %s, attempts = attempts + 1,
        updated_at = %s
    WHERE id = (SELECT id FROM tasks WHERE available_at <= %s ORDER BY available_at, id
                LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING {COLUMNS}"""
CLAIM_SPECIALIST = f"""
    UPDATE tasks SET status = 'claimed', agent = %s, available_at = %s, attempts = attempts + 1,
        updated_at = %s
    WHERE id = (SELECT id FROM tasks WHERE specialist = %s AND available_at <= %s
                ORDER BY available_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING {COLUMNS}"""

_HELD = "id = %(id)s AND status = 'claimed' AND agent = %(agent)s AND available_at > %(now)s"
RETRY = f"""
    UPDATE tasks SET status = 'ready', error = %(error)s, agent = NULL, available_at = %(now)s,
        updated_at = %(now)s
    WHERE {_HELD}"""
RENEW = f"UPDATE tasks SET available_at = %(until)s, updated_at = %(now)s WHERE {_HELD}"
RELEASE = f"""
    UPDATE tasks SET status = 'ready', agent = NULL, available_at = %(now)s, updated_at = %(now)s
    WHERE {_HELD}"""

# Completing or failing a task is one statement (one round trip, atomic without a transaction):
# ``done`` ends the task if the agent holds it; ``changed`` releases (complete) or blocks (fail)
# the dependents, locked in id order; ``parent`` counts the ended subtasks on the plan's parent
# and ends the plan with its last one. Nothing but ``done`` changes unless the agent held the task.
# SET expressions read the row as it was before the update, as in SQLite.
_PARENT_DONE = """
    parent AS (
        UPDATE tasks SET waiting = waiting - ended.n, failures = failures + %(failed)s,
            status = CASE WHEN waiting = ended.n THEN
                (CASE WHEN failures + %(failed)s > 0 THEN 'failed' ELSE 'completed' END)
                ELSE status END,
            updated_at = %(now)s
        FROM ended WHERE tasks.id = ended.parent_id
        RETURNING tasks.status
    )
    SELECT done.parent_id, (SELECT status FROM parent),
        ARRAY(SELECT id FROM changed WHERE status <> 'pending' ORDER BY id)
    FROM done"""
COMPLETE = f"""
    WITH done AS (
        UPDATE tasks SET status = 'completed', result = %(result)s, artifacts = %(artifacts)s,
            available_at = NULL, updated_at = %(now)s
        WHERE {_HELD} RETURNING parent_id, dependents
    ), locked AS (
        SELECT id FROM tasks
        WHERE id IN (SELECT task_id FROM deps WHERE depends_on = %(id)s) AND status = 'pending'
            AND EXISTS (SELECT FROM done WHERE dependents > 0)
        ORDER BY id FOR UPDATE
    ), changed AS (
        UPDATE tasks SET waiting = waiting - 1,
            status = CASE WHEN waiting = 1 THEN 'ready' ELSE status END,
            available_at = CASE WHEN waiting = 1 THEN %(now)s ELSE available_at END,
            updated_at = %(now)s
        FROM locked WHERE tasks.id = locked.id AND tasks.status = 'pending'
        RETURNING tasks.id, tasks.status
    ), ended AS (SELECT parent_id, 1 AS n FROM done),
    {_PARENT_DONE}"""
FAIL = f"""
    WITH RECURSIVE done AS (
        UPDATE tasks SET status = 'failed', error = %(error)s, available_at = NULL,
            updated_at = %(now)s
        WHERE {_HELD} RETURNING parent_id, dependents
    ), below (id) AS (
        SELECT task_id FROM deps WHERE depends_on = %(id)s
            AND EXISTS (SELECT FROM done WHERE dependents > 0)
        UNION SELECT deps.task_id FROM deps JOIN below ON deps.depends_on = below.id
    ), locked AS (
        SELECT id FROM tasks WHERE id IN (SELECT id FROM below) AND status = 'pending'
        ORDER BY id FOR UPDATE
    ), changed AS (
        UPDATE tasks SET status = 'blocked', available_at = NULL, updated_at = %(now)s
        FROM locked WHERE tasks.id = locked.id AND tasks.status = 'pending'
        RETURNING tasks.id, tasks.status
    ), ended AS (SELECT parent_id, 1 + (SELECT count(*) FROM changed) AS n FROM done),
    {_PARENT_DONE}"""

# A plan's ids are taken from the sequence and its parent written in one statement; sorted, the
# first id is the parent's, the others go to the subtasks in planned order.
INSERT_PARENT = """
    WITH ids AS MATERIALIZED (SELECT nextval('tasks_id_seq') AS id FROM generate_series(0, %s)),
    parent AS (
        INSERT INTO tasks (id, parent_id, title, status, waiting, context, created_at, updated_at)
        SELECT min(id), NULL, %s, %s, %s, %s, %s, %s FROM ids
    )
    SELECT id FROM ids ORDER BY id"""
# Subtasks go in as arrays, one statement whatever the plan's size; a row's dependencies travel as
# array literals ('{3,4}') because PostgreSQL arrays cannot be ragged.
INSERT_SUBTASKS = """
    INSERT INTO tasks (id, parent_id, key, title, specialist, description, status, waiting,
        dependents, deps, available_at, created_at, updated_at)
    SELECT u.id, %s, u.key, u.title, u.specialist, u.description,
        CASE WHEN u.waiting > 0 THEN 'pending' ELSE 'ready' END, u.waiting, u.dependents,
        u.deps::bigint[], CASE WHEN u.waiting > 0 THEN NULL ELSE %s END, %s, %s
    FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[], %s::int[],
                %s::int[], %s::text[])
        AS u (id, key, title, specialist, description, waiting, dependents, deps)"""
INSERT_DEPS = """
    INSERT INTO deps (depends_on, task_id) SELECT * FROM unnest(%s::bigint[], %s::bigint[])"""

SUBTASKS = f"SELECT {COLUMNS} FROM tasks WHERE parent_id = %s ORDER BY id"
CANCEL = """
    WITH locked AS (
        SELECT id FROM tasks
        WHERE parent_id = %s AND status IN ('pending', 'ready', 'claimed')
        ORDER BY id FOR UPDATE
    )
    UPDATE tasks SET status = 'cancelled', available_at = NULL, updated_at = %s
    FROM locked WHERE tasks.id = locked.id AND tasks.status IN ('pending', 'ready', 'claimed')"""
CANCEL_PARENT = """
    UPDATE tasks SET status = 'cancelled', waiting = 0, updated_at = %s
    WHERE id = %s AND parent_id IS NULL AND status = 'active'"""

LIST = f"SELECT {COLUMNS} FROM tasks WHERE id > %s ORDER BY id LIMIT %s"
LIST_STATUS = f"SELECT {COLUMNS} FROM tasks WHERE status = %s AND id > %s ORDER BY id LIMIT %s"

# One statement, so one snapshot: every state from one index-only scan of tasks_status (PostgreSQL
# has no cheap total, so counting all states in one pass beats a total plus the unfinished ones),
# and the plans' states from their small partial index.
COUNTS = """
    SELECT status, count(*) FROM tasks GROUP BY status
    UNION ALL
    SELECT 'plan:' || status, count(*) FROM tasks WHERE parent_id IS NULL GROUP BY status"""
