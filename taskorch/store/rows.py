"""What the SQL backends share in Python: the tasks table, its rows as :class:`Task` values, the
order of a read by many ids, and the arithmetic that turns index counts into status counts.

Each backend keeps its own SQL (placeholders, locking, how a plan's subtasks are found); what is
here holds for both, so a change to the table or to the counting rule is made once.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .. import codec
from ..models import STATUS_BY_VALUE, Task

#: The columns every task read selects, in the order :func:`decode_task` expects them.
COLUMNS = (
    "id, parent_id, key, title, specialist, description, status, agent, lease_expires, attempts,"
    " result, error, artifacts, created_at, updated_at"
)

# The first migration of both backends. It is a record of what was created: a later change is a
# new migration, never an edit here.
_TASKS_TABLE = """
    CREATE TABLE tasks (
        id {id} PRIMARY KEY,
        parent_id {id},
        key TEXT,
        title TEXT NOT NULL,
        specialist TEXT,
        description TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL,
        waiting INTEGER NOT NULL DEFAULT 0,
        failures INTEGER NOT NULL DEFAULT 0,
        size INTEGER NOT NULL DEFAULT 0,
        deps {id_list},
        dependents {id_list},
        lease_expires {time},
        agent TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        result TEXT,
        error TEXT,
        artifacts TEXT,
        context TEXT,
        created_at {time} NOT NULL,
        updated_at {time} NOT NULL
    )
    """


def tasks_table(*, id: str, id_list: str, time: str) -> str:
    """``CREATE TABLE tasks`` in a dialect: the types of ids, of lists of ids (``deps``,
    ``dependents``) and of timestamps (seconds since the epoch, fractional)."""
    return _TASKS_TABLE.format(id=id, id_list=id_list, time=time)


#: A Task from a tuple of its 15 fields, in one C call (no keyword handling, no field checks).
new_task = functools.partial(tuple.__new__, Task)


def decode_task(row: Sequence[Any]) -> Task:
    """A row of :data:`COLUMNS` as a Task (the hot path of every read: no per-field calls)."""
    (tid, parent, key, title, specialist, description, status, agent, lease, attempts,
     result, error, artifacts, created, updated) = row  # fmt: skip
    return new_task(
        (
            tid,
            parent,
            key,
            title,
            specialist,
            description,
            STATUS_BY_VALUE[status],
            agent,
            lease,
            attempts,
            None if result is None else codec.loads(result),
            error,
            tuple(codec.loads(artifacts)) if artifacts else (),
            created,
            updated,
        )
    )


def decode_tasks(rows: Iterable[Sequence[Any]]) -> list[Task]:
    """Rows of :data:`COLUMNS` as Tasks, in the order given."""
    return [decode_task(row) for row in rows]


def in_order(task_ids: Sequence[int], rows: Iterable[Sequence[Any]]) -> list[Task]:
    """The tasks of ``rows`` in the order of ``task_ids``; ids with no row are left out. (An
    ``IN`` or ``ANY`` query returns rows in whatever order the database finds them.)"""
    by_id = {row[0]: decode_task(row) for row in rows}
    return [by_id[i] for i in task_ids if i in by_id]


def decode_context(row: Sequence[Any] | None) -> Any:
    """A plan's context from its ``context`` column: None when there is no such row or no
    context."""
    return None if row is None or row[0] is None else codec.loads(row[0])


def new_plan_status(subtasks: int) -> str:
    """The status a new plan's parent starts in: a plan without subtasks is complete at once."""
    return "active" if subtasks else "completed"


def status_counts(
    states: Mapping[str, int], plans: Iterable[tuple[str, int, int]], unfinished: int
) -> tuple[dict[str, int], dict[str, int]]:
    """Counts of subtasks and of plans by state, without reading a pending or completed row.

    ``states`` counts the tasks, parents included, in each state the status index holds (ready,
    claimed, failed, blocked, cancelled); ``plans`` gives per plan state the number of plans and
    the sum of their sizes (their subtasks); ``unfinished`` is the sum of the active plans'
    ``waiting`` counters (their pending, ready and claimed subtasks). States with no task are
    left out.
    """
    plan_counts: dict[str, int] = {}
    total = 0
    for status, n, size in plans:
        plan_counts[status] = n
        total += size
    # Parents are counted apart; they can be failed or cancelled too.
    subtasks = {s: n - plan_counts.get(s, 0) for s, n in states.items()}
    subtasks["pending"] = unfinished - subtasks.get("ready", 0) - subtasks.get("claimed", 0)
    subtasks["completed"] = total - sum(subtasks.values())
    return {s: n for s, n in subtasks.items() if n}, plan_counts
