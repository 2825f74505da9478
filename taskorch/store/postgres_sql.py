"""The SQL of the PostgreSQL backend (the semantics mirror ``sqlite.py``).

Statements that change several tasks lock them in id order (``ORDER BY id FOR UPDATE``), so that
concurrent completions and cancellations do not deadlock each other; the store retries the rare
deadlock PostgreSQL still detects. Named parameters (``%(now)s``) where a value is used twice.
"""

from __future__ import annotations

from ..models import TaskStatus
from .rows import COLUMNS

GET = f"SELECT {COLUMNS} FROM tasks WHERE id = %s"
GET_MANY = f"SELECT {COLUMNS} FROM tasks WHERE id = ANY(%s)"
# A subtask's dependencies in the order its plan lists them, in one round trip.
DEPENDENCIES = f"""
    SELECT {COLUMNS} FROM tasks, (SELECT deps AS ids FROM tasks WHERE id = %s) AS of
    WHERE id = ANY(of.ids) ORDER BY array_position(of.ids, id)"""
PLAN_CONTEXT = "SELECT context FROM tasks WHERE id = %s"

# One statement: SKIP LOCKED passes over rows that concurrent claims are taking, instead of
# waiting for them, and a row changed since the statement's snapshot is re-checked once locked.
_CLAIM = """
    UPDATE tasks SET status = 'claimed', agent = %(agent)s, lease_expires = %(until)s,
        attempts = attempts + 1, updated_at = %(now)s"""
CLAIM = f"""{_CLAIM}
    WHERE id = (SELECT id FROM tasks WHERE status = 'ready'
                ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING {COLUMNS}"""
CLAIM_SPECIALIST = f"""{_CLAIM}
    WHERE id = (SELECT id FROM tasks WHERE specialist = %(specialist)s AND status = 'ready'
                ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING {COLUMNS}"""
# The lease sweep skips rows another transaction holds (a completion in flight, another sweep).
SWEEP = """
    UPDATE tasks SET status = 'ready', agent = NULL, lease_expires = NULL, updated_at = %(now)s
    WHERE id IN (SELECT id FROM tasks WHERE status = 'claimed'
                 AND lease_expires <= %(now)s FOR UPDATE SKIP LOCKED)"""

_HELD = "id = %(id)s AND status = 'claimed' AND agent = %(agent)s AND lease_expires > %(now)s"
RETRY = f"""
    UPDATE tasks SET status = 'ready', error = %(error)s, agent = NULL, lease_expires = NULL,
        updated_at = %(now)s
    WHERE {_HELD}"""
RENEW = f"UPDATE tasks SET lease_expires = %(until)s, updated_at = %(now)s WHERE {_HELD}"
RELEASE = f"""
    UPDATE tasks SET status = 'ready', agent = NULL, lease_expires = NULL, updated_at = %(now)s
    WHERE {_HELD}"""

# Completing or failing a task is one statement (one round trip, atomic without a transaction):
# ``done`` ends the task if the agent holds it; ``changed`` releases (complete) or blocks (fail)
# its dependents, found through the ``dependents`` array of its row in O(out-degree); ``parent``
# counts the ended subtasks on the plan's parent and ends the plan with its last one. Nothing but
# ``done`` can change anything unless the agent held the task. SET expressions read the row as it
# was before the update, as in SQLite. A data-modifying WITH query runs to completion even when
# nothing reads its rows (``changed`` of a completion).
# The dependents are looked up by ``id = ANY(array)`` behind a test that does not read the table
# (``... IS NOT NULL``, ``EXISTS (SELECT FROM locked)``), which PostgreSQL evaluates once before
# the scan: a task without dependents reads no other row. Written as joins, a plan made while the
# table was small (psycopg prepares a statement after 5 runs, and the plan is kept) scanned every
# row of the table on each completion, which then took the server four times as long.
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
    SELECT done.parent_id, (SELECT status FROM parent) FROM done"""
COMPLETE = f"""
    WITH done AS (
        UPDATE tasks SET status = 'completed', result = %(result)s, artifacts = %(artifacts)s,
            lease_expires = NULL, updated_at = %(now)s
        WHERE {_HELD} RETURNING parent_id, dependents
    ), locked AS (
        SELECT id FROM tasks
        WHERE id = ANY((SELECT dependents FROM done)::bigint[]) AND status = 'pending'
            AND (SELECT dependents FROM done) IS NOT NULL
        ORDER BY id FOR UPDATE
    ), changed AS (
        UPDATE tasks SET waiting = waiting - 1,
            status = CASE WHEN waiting = 1 THEN 'ready' ELSE status END, updated_at = %(now)s
        WHERE id = ANY(ARRAY(SELECT id FROM locked)) AND status = 'pending'
            AND EXISTS (SELECT FROM locked)
    ), ended AS (SELECT parent_id, 1 AS n FROM done),
    {_PARENT_DONE}"""
FAIL = f"""
    WITH RECURSIVE done AS (
        UPDATE tasks SET status = 'failed', error = %(error)s, lease_expires = NULL,
            updated_at = %(now)s
        WHERE {_HELD} RETURNING parent_id, dependents
    ), below (id) AS (
        SELECT unnest(dependents) FROM done
        UNION SELECT unnest(tasks.dependents) FROM below, LATERAL (
            SELECT dependents FROM tasks WHERE tasks.id = below.id) AS tasks
    ), locked AS (
        SELECT id FROM tasks WHERE id = ANY(ARRAY(SELECT id FROM below)) AND status = 'pending'
            AND EXISTS (SELECT FROM below)
        ORDER BY id FOR UPDATE
    ), changed AS (
        UPDATE tasks SET status = 'blocked', updated_at = %(now)s
        WHERE id = ANY(ARRAY(SELECT id FROM locked)) AND status = 'pending'
            AND EXISTS (SELECT FROM locked)
        RETURNING tasks.id
    ), ended AS (SELECT parent_id, 1 + (SELECT count(*) FROM changed) AS n FROM done),
    {_PARENT_DONE}"""

# A small plan is one statement (one round trip, atomic without a transaction): its ids are
# taken from the sequence once (``ids``, sorted: the first is the parent's, the others go to the
# subtasks in planned order), then the parent and the subtasks are written, as arrays. Each
# subtask's dependencies and dependents travel as array literals of indices into the plan
# ('{0,2}', since PostgreSQL arrays cannot be ragged) and are turned into ids here.
_IDS_OF = """(SELECT array_agg(ids.a[i + 2] ORDER BY k)
            FROM unnest(u.{}::int[]) WITH ORDINALITY AS x (i, k))"""
INSERT_PLAN = f"""
    WITH ids AS MATERIALIZED (
        SELECT array_agg(id ORDER BY id) AS a
        FROM (SELECT nextval('tasks_id_seq') AS id FROM generate_series(0, %(n)s)) AS taken
    ), parent AS (
        INSERT INTO tasks (id, parent_id, title, status, waiting, size, context, created_at,
            updated_at)
        SELECT a[1], NULL, %(goal)s, %(status)s, %(n)s, %(n)s, %(context)s, %(now)s, %(now)s
        FROM ids
    ), subtasks AS (
        INSERT INTO tasks (id, parent_id, key, title, specialist, description, status, waiting,
            deps, dependents, created_at, updated_at)
        SELECT ids.a[u.n + 1], ids.a[1], u.key, u.title, u.specialist, u.description,
            CASE WHEN u.waiting > 0 THEN 'pending' ELSE 'ready' END, u.waiting,
            {_IDS_OF.format("deps")}, {_IDS_OF.format("dependents")}, %(now)s, %(now)s
        FROM ids, unnest(%(keys)s::text[], %(titles)s::text[], %(specialists)s::text[],
                         %(descriptions)s::text[], %(waiting)s::int[], %(deps)s::text[],
                         %(dependents)s::text[]) WITH ORDINALITY
            AS u (key, title, specialist, description, waiting, deps, dependents, n)
    )
    SELECT unnest(a) FROM ids"""

# A large plan is two statements in a transaction: turning each subtask's dependency indices
# into ids inside one statement (``INSERT_PLAN``) runs a subquery a subtask: 0.74 s for 10,000
# subtasks where these two took 0.27 s, the same server at the same load.
# A plan's ids are taken from the sequence and its parent written in one statement; sorted, the
# first id is the parent's, the others go to the subtasks in planned order.
INSERT_PARENT = """
    WITH ids AS MATERIALIZED (SELECT nextval('tasks_id_seq') AS id FROM generate_series(0, %s)),
    parent AS (
        INSERT INTO tasks (id, parent_id, title, status, waiting, size, context, created_at,
            updated_at)
        SELECT min(id), NULL, %s, %s, %s, %s, %s, %s, %s FROM ids
    )
    SELECT id FROM ids ORDER BY id"""
# Subtasks go in as arrays, one statement whatever the plan's size; each row's dependencies and
# dependents travel as array literals ('{3,4}') because PostgreSQL arrays cannot be ragged.
INSERT_SUBTASKS = """
    INSERT INTO tasks (id, parent_id, key, title, specialist, description, status, waiting,
        deps, dependents, created_at, updated_at)
    SELECT u.id, %(parent)s, u.key, u.title, u.specialist, u.description,
        CASE WHEN u.waiting > 0 THEN 'pending' ELSE 'ready' END, u.waiting, u.deps::bigint[],
        u.dependents::bigint[], %(now)s, %(now)s
    FROM unnest(%(ids)s::bigint[], %(keys)s::text[], %(titles)s::text[],
                %(specialists)s::text[], %(descriptions)s::text[], %(waiting)s::int[],
                %(deps)s::text[], %(dependents)s::text[])
        AS u (id, key, title, specialist, description, waiting, deps, dependents)"""


SUBTASKS = f"SELECT {COLUMNS} FROM tasks WHERE parent_id = %s ORDER BY id"
CANCEL = """
    WITH locked AS (
        SELECT id FROM tasks
        WHERE parent_id = %(parent)s AND status IN ('pending', 'ready', 'claimed')
        ORDER BY id FOR UPDATE
    )
    UPDATE tasks SET status = 'cancelled', lease_expires = NULL, updated_at = %(now)s
    FROM locked WHERE tasks.id = locked.id AND tasks.status IN ('pending', 'ready', 'claimed')"""
CANCEL_PARENT = """
    UPDATE tasks SET status = 'cancelled', waiting = 0, updated_at = %(now)s
    WHERE id = %(parent)s AND parent_id IS NULL AND status = 'active'"""

LIST = f"SELECT {COLUMNS} FROM tasks WHERE id > %s ORDER BY id LIMIT %s"
# One statement per state, the state written in. psycopg prepares a statement after a few runs,
# and PostgreSQL then plans it once for any parameters: with "status = $1" it cannot know that
# the partial tasks_status index holds the rows, and walked the primary key from the lowest id,
# filtering out every finished task on the way (9,991 rows for 10 ready ones in a store of
# 10,000). Written in, the state picks its index whatever the plan.
_LIST_STATUS = f"SELECT {COLUMNS} FROM tasks WHERE status = '{{}}' AND id > %s ORDER BY id LIMIT %s"
# Only a plan's parent is ever 'active' (and tasks_status leaves it out): through the plans' index.
_LIST_ACTIVE = f"""
    SELECT {COLUMNS} FROM tasks WHERE status = 'active' AND parent_id IS NULL AND id > %s
    ORDER BY id LIMIT %s"""
# A state outside the known ones (no task is in it) is bound as a parameter.
LIST_STATUS = f"SELECT {COLUMNS} FROM tasks WHERE status = %s AND id > %s ORDER BY id LIMIT %s"
LIST_BY_STATUS = {
    s.value: _LIST_ACTIVE if s is TaskStatus.ACTIVE else _LIST_STATUS.format(s.value)
    for s in TaskStatus
}

# One statement, so one snapshot, reading indexes and plans only: the states in the partial
# tasks_status index, and per plan state the plans' subtask totals (``size``) and unfinished
# subtasks (``waiting``); pending and completed subtasks follow from these (``rows.status_counts``).
COUNTS = """
    SELECT false, status, count(*), 0::bigint, 0::bigint FROM tasks
    WHERE status IN ('ready', 'claimed', 'failed', 'blocked', 'cancelled') GROUP BY status
    UNION ALL
    SELECT true, status, count(*), sum(size), sum(waiting) FROM tasks
    WHERE parent_id IS NULL GROUP BY status"""
